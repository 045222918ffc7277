"""Issuance (减排量登记 → CCERs): the only way units come into existence.

The registry issues a *registered reduction batch* (a monitoring period, ccer/projects/monitoring.py) and
nothing else: exactly the quantity its verification report fixed, split by year of generation as the
batch's vintages say, once, into the project owner's registry account, one serial block per vintage on the
registry-wide unit axis (Measures Art. 17, 20–22; Trading Rules Art. 10: instruments by project and vintage).
There is no free quantity to type in: a batch walked through this platform's workflow is issued by its
`register` transition, a listed project's batch after `monitoring.import_listed_batch` records it.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, ValidationError
from ..projects.models import MonitoringPeriod
from . import services
from .accounts import account_of
from .holdings import block_serial
from .models import AVAILABLE, Issuance, SerialBlock


ONCE_RULE = "Measures Art. 17, 22: the same reductions are registered and issued once"


def batch_vintages(mp: MonitoringPeriod) -> dict[int, int]:
    """{vintage: tCO2e} of a batch, checked: whole years of the batch's period, whole non-negative tonnes."""
    try:
        raw = json.loads(mp.vintages_json or "{}")
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(f"batch {mp.number} has no vintages", field="vintages", rule="Trading Rules Art. 10")
    out = {}
    for year, quantity in raw.items():
        if not str(year).isdigit() or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValidationError(f"{year}: {quantity!r} is not a year and a whole number of tCO2e", field="vintages",
                                  rule="Trading Rules Art. 10")
        if not mp.start.year <= int(year) <= mp.end.year:
            raise ValidationError(f"vintage {year} is outside the batch's period {mp.start}–{mp.end}", field="vintages",
                                  rule="Measures Art. 17")
        out[int(year)] = quantity
    return out


def _issuable(session: Session, mp: MonitoringPeriod) -> dict[int, int]:
    """The vintages to issue for this batch, or the refusal naming the field and the rule."""
    if session.execute(select(Issuance.id).where(Issuance.monitoring_period_id == mp.id).limit(1)).first():
        raise Conflict(f"batch {mp.number} of project {mp.project.title} was already issued", field="monitoring_period_id", rule=ONCE_RULE)
    if mp.verified_quantity is None:
        raise Conflict(f"batch {mp.number} is {mp.status}: no verification report has fixed its quantity",
                       field="verified_quantity", rule="Measures Art. 20: the verification report fixes the verified quantity")
    if mp.status != "registered":
        raise Conflict(f"batch {mp.number} is {mp.status}; only registered reductions are CCERs", field="status",
                       rule="Measures Art. 22")
    if mp.applied_quantity != mp.verified_quantity:
        raise ValidationError(f"applied for {mp.applied_quantity} tCO2e; the verification report fixed {mp.verified_quantity}",
                              field="applied_quantity", rule="Measures Art. 21: the quantity applied for is the verified quantity")
    vintages = batch_vintages(mp)
    total = sum(vintages.values())
    if total != mp.verified_quantity:
        raise ValidationError(f"the vintages add up to {total} tCO2e; the verification report fixed {mp.verified_quantity}",
                              field="vintages", rule="Measures Art. 20–22: exactly the verified quantity is issued")
    if total == 0:
        raise ValidationError(f"batch {mp.number} verified 0 tCO2e: nothing to issue", field="verified_quantity", rule="Measures Art. 22")
    project = mp.project
    if project.status != "registered" or project.registry_no is None:
        raise Conflict(f"project {project.title} is {project.status}; only registered projects' reductions are registered",
                       field="project_id", rule="Measures Art. 22")
    if session.execute(select(Issuance.id).where(Issuance.project_id == project.id, Issuance.batch == mp.number).limit(1)).first():
        raise Conflict(f"batch number {mp.number} of project {project.registry_no:06d} was already issued", field="monitoring_period_id",
                       rule=ONCE_RULE)
    return {v: q for v, q in vintages.items() if q > 0}


def issuable(session: Session, monitoring_period_id, lock: bool = False) -> tuple[MonitoringPeriod, dict[int, int], object]:
    """The batch, its vintages to issue and the owner's account — or the refusal naming the field and the rule.
    A proposal checks it unlocked; the confirmation again, under the batch's lock (a stale request is refused)."""
    mp = fetch(session, MonitoringPeriod, services._whole(monitoring_period_id, "monitoring_period_id"), "monitoring period",
               "monitoring_period_id", **({"with_for_update": True} if lock else {}))
    vintages = _issuable(session, mp)
    project = mp.project
    account = account_of(session, project.owner_id)
    if account is None:
        raise Conflict(f"the owner {project.owner.name} has no registry account", field="project_id", rule="Registry Rules Art. 5")
    services._usable(account, "account", restricted_ok=True)
    return mp, vintages, account


@mutating
def issue_batch(session: Session, actor: Actor, monitoring_period_id: int, *, vouch=()) -> list[Issuance]:
    """Issue a registered reduction batch: exactly its verified quantity per vintage, once, into the owner's
    registry account, one serial block per vintage (Measures Art. 22). Refuses, writing nothing, a batch
    that is not verified or not registered, whose applied quantity or vintages differ from the verified
    quantity, or that was already issued. Runs only as the confirmation of a "registry.issue" request by a
    second registry user (registry_acts.py; its events vouch for the approved request)."""
    policy.require(actor, "registry.issue")
    services.require_confirmed(session, actor, vouch, "registry.issue")
    mp, vintages, account = issuable(session, monitoring_period_id, lock=True)
    project = mp.project
    ledger.lock_head(session)  # the unit axis is registry-wide: one issuer at a time
    next_unit = (session.execute(select(func.max(Issuance.last))).scalar_one() or 0) + 1
    now = clock.now(session)
    made = []
    for vintage, quantity in sorted(vintages.items()):
        first, last = next_unit, next_unit + quantity - 1
        next_unit = last + 1
        iss = Issuance(project_id=project.id, batch=mp.number, vintage=vintage, first=first, last=last, quantity=quantity,
                       account_id=account.id, issued_at=now, monitoring_period_id=mp.id)
        session.add(iss)
        session.flush()
        block = SerialBlock(issuance_id=iss.id, parent_id=None, account_id=account.id, project_id=project.id,
                            vintage=vintage, first=first, last=last, status=AVAILABLE, active=True)
        session.add(block)
        session.flush()
        ledger.record(session, actor, "ccer.issued", "issuance", iss.id,
                      {"serial": block_serial(session, block), "account": account.number, "monitoring_period": mp.id},
                      touches=[("serial_block", block.id), *vouch])
        made.append(iss)
    return made


__all__ = ["issue_batch", "issuable", "batch_vintages"]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.issue", Role.REGISTRY_OPERATOR, cites="Measures Art. 22")
