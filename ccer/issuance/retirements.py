"""Retirement (注销) of CCERs for a use — maker–checker, with the cap on national ETS offsets at the offset ratio in
force (reference data) — forced cancellation by the registry (Measures Art. 43), and the key emitters' compliance
obligations the cap rests on (Measures Art. 28; Registry Rules Art. 15; ETS Measures Art. 29)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.bounds import parse_id
from ..infra import clock
from ..auth import makerchecker, policy, uscc
from ..auth.models import Organisation
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Forbidden, NotFound, ValidationError
from ..infra.actor import Actor
from ..projects.models import Project
from . import legacy, purposes
from .accounts import get_account
from .holdings import cut, live_blocks, lock_accounts, vouch
from .models import AVAILABLE, CANCELLED, FROZEN, RETIRED, TRADING, Account, ComplianceObligation, Retirement, SerialBlock
from .services import (_SENDERS, _SPEC_KEYS, _own_account, _pick, _serials, _usable, _whole, account_target, propose_request,
                       require_confirmed, required_text, unit_spec)


@mutating
def set_obligation(session: Session, actor: Actor, organisation_id: int, year: int, allowances: int, source: str) -> ComplianceObligation:
    """Record a key emitter's allowances to surrender for a year, the base of its offset cap (the offset ratio in force)."""
    policy.require(actor, "registry.obligation.set")
    org = fetch(session, Organisation, organisation_id, "organisation", "organisation_id")
    if Role.KEY_EMITTER.value not in org.role_names:
        raise ValidationError(f"{org.name} is not a key emitting unit", field="organisation_id", rule="ETS Measures Art. 29")
    if not (source or "").strip():
        raise ValidationError("name the allocation notice the figure comes from", field="source")
    year, allowances = _whole(year, "year", 2021), _whole(allowances, "allowances", 0)
    row = session.execute(select(ComplianceObligation).where(ComplianceObligation.organisation_id == org.id,
                                                             ComplianceObligation.year == year).with_for_update()).scalar_one_or_none()
    if row is None:
        row = ComplianceObligation(organisation_id=org.id, year=year, allowances=allowances, source=source, set_at=clock.now(session))
        session.add(row)
    else:
        row.allowances, row.source, row.set_at = allowances, source, clock.now(session)
    session.flush()
    ledger.record(session, actor, "obligation.set", "compliance_obligation", row.id)
    return row


def offset_used(session: Session, beneficiary_uscc: str, year: int) -> int:
    return int(session.execute(select(func.coalesce(func.sum(Retirement.quantity), 0)).where(
        Retirement.purpose == "national_ets", Retirement.beneficiary_uscc == beneficiary_uscc,
        Retirement.compliance_year == year)).scalar_one())


def _check_cap(session: Session, details: dict, quantity: int, lock: bool) -> None:
    """ETS Measures Art. 29: offsets ≤ the offset ratio in force (reference data; the packaged edition: 5 %) of the
    allowances the key emitter must surrender that year."""
    code, year = details["beneficiary_uscc"], details["compliance_year"]
    org = session.execute(select(Organisation).where(Organisation.uscc == code)).scalar_one_or_none()
    if org is None or Role.KEY_EMITTER.value not in org.role_names:
        raise ValidationError(f"{code} is not a key emitting unit on the registry", field="beneficiary_uscc", rule="ETS Measures Art. 29")
    stmt = select(ComplianceObligation).where(ComplianceObligation.organisation_id == org.id, ComplianceObligation.year == year)
    obligation = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if obligation is None:
        raise ValidationError(f"no allowances to surrender are recorded for {org.name} for {year}", field="compliance_year", rule="ETS Measures Art. 29")
    ratio, source = purposes.offset_ratio(session, clock.today(session))  # reference data in force (issue #18)
    cap, used = purposes.national_ets_cap(obligation.allowances, ratio), offset_used(session, code, year)
    if used + quantity > cap:
        raise ValidationError(
            f"{org.name} may offset at most {cap} tCO2e for {year} ({ratio:%} of {obligation.allowances}, {source}); {used} already "
            f"retired, {quantity} more would exceed it", field="quantity", rule="ETS Measures Art. 29: offset ratio of allowances to surrender")


def retirement_details(payload: dict) -> dict:
    """The purpose and beneficiary fields of a retirement, checked (Measures Art. 28)."""
    d = {k: payload.get(k) for k in ("purpose", "beneficiary_name", "beneficiary_uscc", "compliance_year",
                                     "event_name", "event_start", "event_end", "note")}
    if not (d["beneficiary_name"] or "").strip():
        raise ValidationError("name the beneficiary of the retirement", field="beneficiary_name", rule="Registry Rules Art. 15")
    if d["beneficiary_uscc"]:
        d["beneficiary_uscc"] = uscc.validate(d["beneficiary_uscc"], field="beneficiary_uscc")
    if d["compliance_year"] is not None:
        d["compliance_year"] = _whole(d["compliance_year"], "compliance_year", 2021)
    for name in ("event_start", "event_end"):
        if isinstance(d[name], str) and d[name]:
            try:
                d[name] = date.fromisoformat(d[name])
            except ValueError:
                raise ValidationError("must be a date YYYY-MM-DD", field=name) from None
    purposes.check_details(d["purpose"], d)
    return d


def _legacy_use(session: Session, project_ids, purpose: str) -> None:
    """Old-regime CCERs: national ETS offsets only until 2024-12-31 (MEE notice 2023-10-24; issuance/legacy.py)."""
    for project_id in sorted(project_ids):
        too_late = legacy.use_problem(session.get(Project, project_id), purpose, clock.today(session))
        if too_late:
            raise ValidationError(too_late, field="purpose", rule=legacy.RULE_ETS)


def _retire_precheck(session: Session, target: str, payload: dict) -> None:
    account = account_target(session, target)
    _usable(account, "account")
    details = retirement_details(payload)
    if details["purpose"] in purposes.CANCELLATIONS:
        raise Forbidden(f"{details['purpose']} is not a use a holder chooses: the registry force-cancels, an owner cancels as a fraud "
                        "case orders", field="purpose", rule="Measures Art. 43")
    spec = unit_spec(session, payload)
    pieces = _pick(session, account, spec)
    _legacy_use(session, {p.block.project_id for p in pieces}, details["purpose"])
    if details["purpose"] == "national_ets":
        _check_cap(session, details, sum(p.quantity for p in pieces), lock=False)


def retire_units(session: Session, actor: Actor, account: Account, spec: dict, details: dict,
                 statuses=(AVAILABLE,), final: str = RETIRED, also=()) -> Retirement:
    lock_accounts(session, account.id)
    if final == RETIRED:
        _usable(account, "account")
    pieces = _pick(session, account, spec, statuses)
    projects = {(p.block.project_id, p.block.vintage) for p in pieces}
    if len(projects) != 1:
        raise ValidationError("a retirement covers one project and vintage; name project_no and vintage", field="project_no", rule="Trading Rules Art. 10")
    (project_id, vintage), quantity = projects.pop(), sum(p.quantity for p in pieces)
    _legacy_use(session, {project_id}, details["purpose"])
    if details["purpose"] == "national_ets":
        _check_cap(session, details, quantity, lock=True)
    record = Retirement(account_id=account.id, project_id=project_id, vintage=vintage, quantity=quantity,
                        retired_at=clock.now(session), **details)
    session.add(record)
    session.flush()
    moved, touched = cut(session, pieces, status=final, retirement_id=record.id, freeze_id=None)
    action = "ccer.retired" if final == RETIRED else "ccer.force_cancelled"
    ledger.record(session, actor, action, "retirement", record.id,
                  {"number": record.number, "serials": _serials(session, moved)}, touches=also, states=vouch(touched))
    return record


def _retire_apply(session: Session, actor: Actor, target: str, payload: dict, vouch=()) -> Retirement:
    account = account_target(session, target)
    _own_account(session, actor, account, "registry.retire")
    details = retirement_details(payload)
    if details["purpose"] in purposes.CANCELLATIONS:
        raise Forbidden(f"{details['purpose']} is not a use a holder chooses: the registry force-cancels, an owner cancels as a fraud "
                        "case orders", field="purpose", rule="Measures Art. 43")
    return retire_units(session, actor, account, unit_spec(session, payload), details, also=vouch)


_DETAIL_KEYS = ("purpose", "beneficiary_name", "beneficiary_uscc", "compliance_year", "event_name", "event_start", "event_end", "note")


def propose_retirement(session: Session, actor: Actor, account_ref: int | str, **fields) -> makerchecker.ApprovalRequest:
    """The initiator's half of a retirement (抵消及注销申请); a second user confirms it (注销确认)."""
    payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()
               if k in _SPEC_KEYS + _DETAIL_KEYS and v is not None}
    return propose_request(session, actor, "registry.retire", account_ref, payload)


#: what a forced cancellation takes: every unit short of retired or cancelled, frozen ones included (Measures Art. 43)
FORCEABLE = (AVAILABLE, TRADING, FROZEN)


def force_cancel_inputs(session: Session, account_ref, order, spec: dict) -> tuple[Account, dict, str]:
    order = required_text(order, "order", "the department's order is required", "Measures Art. 43")
    return get_account(session, account_ref), unit_spec(session, spec), order


@mutating
def force_cancel(session: Session, actor: Actor, account_ref: int | str, *, order: str, vouch=(), **spec) -> Retirement:
    """强制注销 (Measures Art. 43): CCERs obtained by fraud are cancelled by the registry on a provincial or
    higher department's order, whatever their status short of retired — as the confirmation of a second
    registry user (registry_acts.py)."""
    policy.require(actor, "registry.force_cancel")
    require_confirmed(session, actor, vouch, "registry.force_cancel")
    return cancel_by_order(session, actor, account_ref, order=order, also=vouch, **spec)


def cancel_by_order(session: Session, actor: Actor, account_ref: int | str, *, order: str, also=(), **spec) -> Retirement:
    """The forced cancellation itself, inside a confirmed act (force_cancel, fraud.enforce)."""
    account, spec, order = force_cancel_inputs(session, account_ref, order, spec)
    details = {"purpose": "forced_cancellation", "beneficiary_name": account.organisation.name,
               "beneficiary_uscc": account.organisation.uscc, "compliance_year": None, "event_name": None,
               "event_start": None, "event_end": None, "note": order}
    return retire_units(session, actor, account, spec, details, statuses=FORCEABLE, final=CANCELLED, also=also)


# ---- queries ---------------------------------------------------------------------------------------------


def get_retirement(session: Session, number: str) -> Retirement:
    """By certificate number CCER-R-YYYY-NNNNNN (or plain id)."""
    text = (number or "").strip().upper()
    rid = parse_id(text)  # ASCII digits within the id column ('¹' is a digit to isdigit(), not to int())
    if rid is None and text.startswith("CCER-R-") and text[7:11].isdigit():
        rid = parse_id(text[12:])
    record = session.get(Retirement, rid) if rid else None
    if record is None or (parse_id(text) is None and record.number != text):
        raise NotFound(f"no retirement {number}", field="number")
    return record


def retirement_serials(session: Session, record: Retirement) -> list[str]:
    return _serials(session, live_blocks(session, SerialBlock.retirement_id == record.id))


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.retire", *_SENDERS, when=policy.same_organisation, text="from the user's own account", cites="Registry Rules Art. 15")
    policy.allow("registry.force_cancel", Role.REGISTRY_OPERATOR, cites="Measures Art. 43")
    policy.allow("registry.obligation.set", Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, cites="ETS Measures Art. 29")
    makerchecker.operation("registry.retire", _retire_apply, "registry.retire", _retire_precheck, one_event=True)
