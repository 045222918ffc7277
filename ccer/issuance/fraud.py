"""What follows a revocation for fraud (Measures Art. 43; penalties, ccer-rules.md §9).

    项目业主…篡改、伪造数据等故意弄虚作假… → the registration is revoked, no applications for 3 years;
    …因实施前款规定的弄虚作假行为取得核证自愿减排量的 → its CCERs are suspended from trading (暂停交易), the
    owner is ordered to cancel as many CCERs as it obtained falsely (责令注销); if it has not by the deadline
    (逾期未按要求注销) the registry cancels compulsorily (强制注销), the shortfall is ordered returned
    (不足部分责令退回), and the owner's applications are no longer accepted (不再受理).

`open_case` runs inside the project's `revoke` transition (projects/lifecycle.py): it records the case with
the quantity owed (by default everything issued for the project; the registry may set another figure with
its reason), suspends the project's CCERs wherever they are held (`refuse_if_restricted`, which every move
of units between holders calls) and restricts the owner's registry account (Registry Rules Art. 10) so that
what it holds stays put until it is cancelled, and bars the owner for 3 years. The owner's two users cancel
CCERs of any project and vintage it holds against the case (maker–checker, `propose_cancellation`); after
the deadline the registry `enforce`s: it force-cancels what the owner still holds up to the quantity owed
(retirements.force_cancel), records the shortfall and bars the owner for good. Everything is public
(/api/v1/public/fraud-cases) and every step is an event vouching for the case.

The fine (50 000–100 000 CNY, Art. 43) is the department's, outside the registry; restoring the owner's
account after the case is the registry's own decision (accounts.decide_account "restore", Registry Rules
Art. 10).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from .. import ledger
from ..infra import clock
from ..infra.actor import Actor
from ..auth import makerchecker, policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ..methodologies import inputs
from ..projects.eligibility import BAR_YEARS, owner_bar, years_after
from ..projects.models import OwnerBar, Project
from . import accounts, retirements, services
from .fraud_models import ENFORCED, OPEN, SETTLED, FraudCancellation, FraudCase
from .models import AVAILABLE, CANCELLED, TRADING, Account, Issuance, Retirement, SerialBlock

RULE = "Measures Art. 43"
SUSPENDED_RULE = "Measures Art. 43: 暂停交易 — CCERs of a project revoked for fraud neither trade nor transfer"
OWED_RULE = "Measures Art. 43: the owner cancels as many CCERs as it obtained by fraud (责令注销)"
#: days the owner has to cancel. UNCONFIRMED: Art. 43 leaves the deadline to the department's order; the
#: revocation may give `cancel_by`, this is only the default
CANCEL_DAYS = 30
#: what the owner cancels from: units in its registry or trading account, not units under a judicial freeze
OWNER_STATUSES = (AVAILABLE, TRADING)


CASE_FIELDS = ("project_id", "owner_id", "finding", "issued", "owed", "owed_reason", "cancel_by", "cancelled", "force_cancelled",
               "shortfall", "status", "enforcement_order")


def _tonnes(value, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(f"must be a whole number of tCO2e ≥ {minimum}", field=field)
    return value


# ---- the case ----------------------------------------------------------------------------------------------


@mutating
def open_case(session: Session, actor: Actor, project: Project, *, finding: str, owed: int | None = None,
              owed_reason: str | None = None, cancel_by: date | str | None = None) -> FraudCase:
    """Record the fraud behind a revocation (called by the project's `revoke` transition, Art. 43)."""
    policy.require(actor, "project.revoke")
    if not (finding or "").strip():
        raise ValidationError("give the department's finding", field="reason", rule=RULE)
    if session.execute(select(FraudCase.id).where(FraudCase.project_id == project.id)).first():
        raise Conflict(f"project {project.title} already has a fraud case", field="project_id", rule=RULE)
    today, now = clock.today(session), clock.now(session)
    issued = int(session.execute(select(func.coalesce(func.sum(Issuance.quantity), 0)).where(Issuance.project_id == project.id)).scalar_one())
    owed = issued if owed is None else _tonnes(owed, "owed")
    if owed > issued:
        raise ValidationError(f"{owed} tCO2e owed, but {issued} were issued for the project", field="owed", rule=OWED_RULE)
    if owed != issued and not (owed_reason or "").strip():
        raise ValidationError(f"{owed} tCO2e owed instead of the {issued} issued: give the reason", field="owed_reason", rule=OWED_RULE)
    cancel_by = today + timedelta(days=CANCEL_DAYS) if cancel_by in (None, "") else inputs.a_date(cancel_by, "cancel_by")
    if cancel_by <= today:
        raise ValidationError(f"the deadline {cancel_by} must be after today {today}", field="cancel_by", rule=RULE)
    case = FraudCase(project_id=project.id, owner_id=project.owner_id, finding=finding.strip(), opened_at=now, issued=issued, owed=owed,
                     owed_reason=(owed_reason or "").strip() or None, cancel_by=cancel_by, cancelled=0, force_cancelled=0,
                     status=OPEN if owed else SETTLED)
    session.add(case)
    # Art. 43: tampering or forgery — no applications from the owner for 3 years
    bar = OwnerBar(organisation_id=project.owner_id, until=years_after(today, BAR_YEARS), reason=case.finding, created_at=now)
    session.add(bar)
    session.flush()
    account = accounts.account_of(session, project.owner_id)
    if owed and account is not None and account.status == "open":
        # Art. 43 暂停交易 of what the owner holds: it keeps its units until it has cancelled what it owes
        accounts.decide_account(session, actor, account.id, "restrict", f"{RULE}: fraud case {case.id} — {case.finding}")
    ledger.record(session, actor, "fraud.opened", "fraud_case", case.id, {"barred_until": bar.until})
    return case


def get_case(session: Session, case_id: int, lock: bool = False) -> FraudCase:
    return fetch(session, FraudCase, case_id, "fraud case", "case_id", **({"with_for_update": True} if lock else {}))


def restricted_projects(session: Session, project_ids: Iterable[int]) -> set[int]:
    """The projects among these whose CCERs are suspended from trading and transfer: those revoked for
    fraud (Art. 43: 暂停交易). The suspension lasts: a revoked project's CCERs never trade again."""
    ids = {int(i) for i in project_ids}
    if not ids:
        return set()
    return set(session.execute(select(FraudCase.project_id).where(FraudCase.project_id.in_(sorted(ids)))).scalars())


def refuse_if_restricted(session: Session, project_ids: Iterable[int], field: str) -> None:
    """Refuse moving CCERs of a project revoked for fraud between holders — trading, settlement, transfer
    (Art. 43: 暂停交易). Callers pass the projects of the units they are about to move."""
    bad = restricted_projects(session, project_ids)
    if bad:
        case = session.execute(select(FraudCase).where(FraudCase.project_id == min(bad))).scalar_one()
        p = case.project
        raise Conflict(f"CCERs of project {p.registry_no:06d} {p.title} are suspended from trading and transfer: its registration "
                       f"was revoked for fraud (fraud case {case.id}, {clock.local(case.opened_at).date()})", field=field, rule=SUSPENDED_RULE)


# ---- the owner's cancellation (责令注销): maker–checker, like a retirement -------------------------------


def _owed(session: Session, account: Account, payload: dict, lock: bool) -> tuple[FraudCase, dict, int]:
    case_id = payload.get("case_id")
    if isinstance(case_id, bool) or not isinstance(case_id, int):
        raise ValidationError("name the fraud case", field="case_id", rule=RULE)
    case = get_case(session, case_id, lock=lock)
    if account.organisation_id != case.owner_id:
        raise Forbidden(f"fraud case {case.id} orders {case.owner.name} to cancel, from its own account", field="account", rule=RULE)
    if case.outstanding == 0:
        raise Conflict(f"fraud case {case.id} owes nothing more: {case.owed} tCO2e owed, {case.cancelled} cancelled, "
                       f"{case.force_cancelled} force-cancelled", field="case_id", rule=RULE)
    spec = services.unit_spec(session, payload)
    quantity = spec["quantity"] if spec["quantity"] is not None else spec["serial"].quantity
    if quantity > case.outstanding:
        raise ValidationError(f"{quantity} tCO2e asked; fraud case {case.id} has {case.outstanding} tCO2e left to cancel",
                              field="quantity", rule=OWED_RULE)
    return case, spec, quantity


def _cancel_precheck(session: Session, target: str, payload: dict) -> None:
    account = services.account_target(session, target)
    _case, spec, _quantity = _owed(session, account, payload, lock=False)
    services._pick(session, account, spec, OWNER_STATUSES)  # refuse now what would be refused at confirmation


def _cancel_apply(session: Session, actor: Actor, target: str, payload: dict, vouch=()) -> Retirement:
    account = services.account_target(session, target)
    policy.require(actor, "registry.fraud.cancel", account.organisation)
    case, spec, quantity = _owed(session, account, payload, lock=True)
    case.cancelled += quantity
    if case.status == OPEN and case.outstanding == 0:
        case.status = SETTLED
    session.flush()
    org = account.organisation
    details = {"purpose": "fraud_cancellation", "beneficiary_name": org.name, "beneficiary_uscc": org.uscc, "compliance_year": None,
               "event_name": None, "event_start": None, "event_end": None,
               "note": f"fraud case {case.id}: cancelled as ordered ({RULE}) — {case.finding}"}
    # one event: the cancellation, vouching for the approved request and the case's new totals
    record = retirements.retire_units(session, actor, account, spec, details, statuses=OWNER_STATUSES, final=CANCELLED,
                                      also=[*vouch, ("fraud_case", case.id)])
    session.add(FraudCancellation(case_id=case.id, retirement_id=record.id))
    session.flush()
    return record


def propose_cancellation(session: Session, actor: Actor, case_id: int, **spec) -> makerchecker.ApprovalRequest:
    """The owner's initiator proposes cancelling CCERs it holds — any project and vintage, one project and
    vintage per request — against the quantity the case says it owes; its confirmer carries it out."""
    case = get_case(session, case_id)
    account = accounts.account_of(session, case.owner_id)
    if account is None:
        raise NotFound(f"{case.owner.name} has no registry account", field="account")
    payload = {"case_id": case.id, **{k: v for k, v in spec.items() if k in ("quantity", "project_no", "vintage", "serial") and v is not None}}
    return services.propose_request(session, actor, "registry.fraud.cancel", account.id, payload)


# ---- the registry's enforcement (强制注销) -----------------------------------------------------------------


def enforceable(session: Session, case_id, order, lock: bool = False) -> tuple[FraudCase, str]:
    """The open case past its deadline and the department's notice — or the refusal (a proposal checks it
    unlocked, the confirmation again under the case's lock)."""
    order = services.required_text(order, "order", "the department's notice is required", RULE)
    case = get_case(session, services._whole(case_id, "case_id"), lock=lock)
    if case.status != OPEN:
        done = "the owner cancelled what it owed" if case.status == SETTLED else f"the registry enforced it on {clock.local(case.enforced_at).date()}"
        raise Conflict(f"fraud case {case.id} is {case.status}: {done}", field="status", rule=RULE)
    if clock.today(session) <= case.cancel_by:
        raise Conflict(f"the owner has until {case.cancel_by} to cancel {case.outstanding} tCO2e", field="cancel_by",
                       rule=f"{RULE}: forced cancellation only once the deadline has passed (逾期未按要求注销)")
    return case, order


@mutating
def enforce(session: Session, actor: Actor, case_id: int, order: str, *, vouch=()) -> FraudCase:
    """After the deadline: force-cancel what the owner still holds, up to what it owes — the revoked project's
    CCERs first, then the others by project and vintage — record the shortfall it must return, and bar it
    for good (Art. 43). Runs only as the confirmation of a second registry user (registry_acts.py)."""
    policy.require(actor, "registry.fraud.enforce")
    services.require_confirmed(session, actor, vouch, "registry.fraud_enforce")
    case, order = enforceable(session, case_id, order, lock=True)
    made: list[Retirement] = []
    account = accounts.account_of(session, case.owner_id)
    if account is not None:
        held = session.execute(
            select(SerialBlock.project_id, SerialBlock.vintage, func.sum(SerialBlock.last - SerialBlock.first + 1))
            .where(SerialBlock.account_id == account.id, SerialBlock.active, SerialBlock.status.in_(retirements.FORCEABLE))
            .group_by(SerialBlock.project_id, SerialBlock.vintage)).all()
        held.sort(key=lambda r: (r[0] != case.project_id, r[0], r[1]))
        for project_id, vintage, quantity in held:
            take = min(int(quantity), case.outstanding)
            if take == 0:
                break
            r = retirements.cancel_by_order(session, actor, account.id, order=f"{order} (fraud case {case.id})", quantity=take,
                                            project_no=session.get(Project, project_id).registry_no, vintage=vintage)
            session.add(FraudCancellation(case_id=case.id, retirement_id=r.id))
            case.force_cancelled += take
            made.append(r)
    case.shortfall, case.status = case.outstanding, ENFORCED
    case.enforcement_order, case.enforced_at = order, clock.now(session)
    # Art. 43: not cancelled as ordered — the owner's applications are no longer accepted
    session.add(OwnerBar(organisation_id=case.owner_id, until=None, created_at=clock.now(session),
                         reason=f"{RULE}: CCERs obtained by fraud not cancelled as ordered by {case.cancel_by} (fraud case {case.id})"))
    session.flush()
    ledger.record(session, actor, "fraud.enforced", "fraud_case", case.id,
                  {"retirements": [r.number for r in made], "shortfall": case.shortfall, "barred_until": None}, touches=vouch)
    return case


# ---- reading -----------------------------------------------------------------------------------------------


def cancellations(case: FraudCase) -> list[Retirement]:
    session = object_session(case)
    return session.execute(select(Retirement).join(FraudCancellation, FraudCancellation.retirement_id == Retirement.id)
                           .where(FraudCancellation.case_id == case.id).order_by(Retirement.id)).scalars().all()


def barred_until(case: FraudCase) -> str | None:
    """The owner's bar in force now: "permanent", its last day, or None."""
    session = object_session(case)
    bar = owner_bar(session, case.owner_id, clock.today(session))
    return None if bar is None else ("permanent" if bar.until is None else bar.until.isoformat())


__all__ = ["open_case", "restricted_projects", "refuse_if_restricted", "propose_cancellation", "enforce", "get_case", "cancellations", "barred_until",
           "CANCEL_DAYS"]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.fraud.cancel", Role.PROJECT_OWNER, when=policy.same_organisation, text="from the owner's own account", cites=RULE)
    policy.allow("registry.fraud.enforce", Role.REGISTRY_OPERATOR, cites=RULE)
    ledger.register_fields("fraud_case", FraudCase, CASE_FIELDS)
    makerchecker.operation("registry.fraud.cancel", _cancel_apply, "registry.fraud.cancel", _cancel_precheck, one_event=True)
