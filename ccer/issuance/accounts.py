"""Registry accounts: application, the registry's decision within 15 working days, changes of particulars,
restriction and closure (Registry Rules Art. 5–11)."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.bounds import parse_id
from ..infra import calendar, clock
from ..auth import policy
from ..auth.models import Organisation
from ..auth.roles import Role
from ..auth.services import apply_profile_change, get_organisation
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, NotFound, ValidationError
from ..infra.actor import Actor
from .models import FINAL, Account, AccountChange, SerialBlock

#: registry decisions on accounts and changes: within 15 working days (Registry Rules Art. 7, 8)
REVIEW_WORKDAYS = 15

#: which account a role opens (Registry Rules Art. 5 (1)–(5)); the first role the organisation holds wins
KIND_BY_ROLE = (
    (Role.KEY_EMITTER, "key_emitter"),
    (Role.PROJECT_OWNER, "project_owner"),
    (Role.TRADING_PARTICIPANT, "participant"),
    (Role.EXCHANGE_OPERATOR, "participant"),
    (Role.VVB, "vvb"),
    (Role.PROVINCIAL_AUTHORITY, "province"),
)

_HOLDERS = tuple(role for role, _ in KIND_BY_ROLE)


def account_state(session: Session, aid: str) -> dict | None:
    a = session.get(Account, int(aid))
    if a is None:
        return None
    return {"number": a.number, "organisation_id": a.organisation_id, "kind": a.kind, "status": a.status, "reason": a.reason}


def _kind_for(org: Organisation) -> str:
    held = set(org.role_names)
    for role, kind in KIND_BY_ROLE:
        if role.value in held:
            return kind
    raise ValidationError(
        f"{org.name} holds none of the roles that open a registry account (owners, key emitters, trading participants, VVBs, provincial departments)",
        field="organisation_id", rule="Registry Rules Art. 5")


def parse_account_ref(ref: int | str) -> tuple[int, str | None] | None:
    """(id, the account number when the reference spelled one) of an id or an account number (RA + the id
    in 8 digits); None when it is neither."""
    text = str(ref).strip().upper()
    digits = text[2:] if text.startswith("RA") else text
    number = parse_id(digits)  # ASCII digits within the id column ('¹' is a digit to isdigit(), not to int())
    if number is None:
        return None
    return number, text if text.startswith("RA") else None


def get_account(session: Session, ref: int | str, lock: bool = False) -> Account:
    """By id or by account number."""
    parsed = parse_account_ref(ref)
    account = None
    if parsed is not None:
        options = {"with_for_update": {"key_share": True}} if lock else {}
        account = session.get(Account, parsed[0], populate_existing=lock, **options)
    if account is None or (parsed[1] is not None and account.number != parsed[1]):
        raise NotFound(f"no registry account {ref}", field="account")
    return account


def account_of(session: Session, organisation_id: int) -> Account | None:
    return session.execute(select(Account).where(Account.organisation_id == organisation_id)).scalar_one_or_none()


@mutating
def apply_for_account(session: Session, actor: Actor, organisation_id: int) -> Account:
    """An entity applies for its one registry account (Art. 6); the registry decides within 15 working days."""
    org = get_organisation(session, organisation_id)
    policy.require(actor, "registry.account.apply", org)
    if org.status != "active":
        raise Conflict(f"{org.name} is {org.status}", field="organisation_id", rule="Registry Rules Art. 10–11")
    existing = account_of(session, org.id)
    if existing is not None:
        raise Conflict(f"{org.name} already has registry account {existing.number} ({existing.status})", field="organisation_id", rule="Registry Rules Art. 6: one account per entity")
    today = clock.today(session)
    account = Account(number="", organisation_id=org.id, kind=_kind_for(org), status="pending",
                      applied_at=clock.now(session), review_due=calendar.add_workdays(today, REVIEW_WORKDAYS))
    session.add(account)
    session.flush()
    account.number = f"RA{account.id:08d}"
    ledger.record(session, actor, "account.applied", "account", account.id, {"review_due": account.review_due})
    return account


_DECISIONS = {
    # action: (from statuses, to status, reason required, rule)
    "open": (("pending",), "open", False, "Registry Rules Art. 7"),
    "refuse": (("pending",), "refused", True, "Registry Rules Art. 7"),
    "restrict": (("open",), "restricted", True, "Registry Rules Art. 10"),
    "restore": (("restricted",), "open", False, "Registry Rules Art. 10"),
    "close": (("open", "restricted"), "closed", True, "Registry Rules Art. 11"),
}


@mutating
def decide_account(session: Session, actor: Actor, account_ref: int | str, action: str, reason: str | None = None) -> Account:
    """The registry opens or refuses an application, restricts or restores an account, or closes it."""
    policy.require(actor, "registry.account.decide")
    if action not in _DECISIONS:
        raise ValidationError(f"unknown action {action!r}; one of {', '.join(_DECISIONS)}", field="action")
    before, after, needs_reason, rule = _DECISIONS[action]
    account = get_account(session, account_ref, lock=True)
    if account.status not in before:
        raise Conflict(f"account {account.number} is {account.status}; {action} applies to {' or '.join(before)} accounts", field="status", rule=rule)
    if needs_reason and not (reason or "").strip():
        raise ValidationError(f"a reason is required to {action} an account", field="reason", rule=rule)
    if action == "close":
        held = session.execute(
            select(func.coalesce(func.sum(SerialBlock.last - SerialBlock.first + 1), 0)).where(
                SerialBlock.account_id == account.id, SerialBlock.active, SerialBlock.status.not_in(FINAL))
        ).scalar_one()
        if held:
            raise Conflict(f"account {account.number} still holds {held} tCO2e; its business must be wound up first", field="account", rule=rule)
    account.status = after
    account.reason = reason
    account.decided_at = clock.now(session)
    ledger.record(session, actor, f"account.{action}", "account", account.id, {"reason": reason})
    return account


@mutating
def request_change(session: Session, actor: Actor, account_ref: int | str, changes: dict) -> AccountChange:
    """The holder files changed particulars (name, English name, province), for the registry's review (Art. 8)."""
    account = get_account(session, account_ref)
    policy.require(actor, "registry.account.change", account.organisation)
    allowed = {"name", "name_en", "province"}
    if not changes:
        raise ValidationError("name at least one change", field="changes")
    for key, value in changes.items():
        if key not in allowed:
            raise ValidationError(f"cannot be changed by request; changeable: {', '.join(sorted(allowed))}", field=key, rule="Registry Rules Art. 8")
        if key == "name" and not str(value or "").strip():
            raise ValidationError("is required", field="name")
    change = AccountChange(account_id=account.id, changes_json=ledger.canonical(changes), submitted_at=clock.now(session),
                           review_due=calendar.add_workdays(clock.today(session), REVIEW_WORKDAYS), status="pending")
    session.add(change)
    session.flush()
    ledger.record(session, actor, "account.change_requested", "account", account.id,
                  {"change_id": change.id, "changes": changes, "review_due": change.review_due})
    return change


@mutating
def decide_change(session: Session, actor: Actor, change_id: int, approve: bool, reason: str | None = None) -> AccountChange:
    policy.require(actor, "registry.account.decide")
    change = fetch(session, AccountChange, change_id, "account change", "change_id", with_for_update=True)
    if change.status != "pending":
        raise Conflict(f"change {change_id} is already {change.status}", field="status")
    if not approve and not (reason or "").strip():
        raise ValidationError("a reason is required to refuse a change", field="reason", rule="Registry Rules Art. 8")
    change.status = "approved" if approve else "refused"
    change.decided_at = clock.now(session)
    change.reason = reason
    account = session.get(Account, change.account_id)
    if approve:
        apply_profile_change(session, actor, account.organisation, json.loads(change.changes_json))
    ledger.record(session, actor, f"account.change_{change.status}", "account", account.id, {"change_id": change.id, "reason": reason})
    return change


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.account.apply", *_HOLDERS, when=policy.same_organisation, text="for the user's own organisation", cites="Registry Rules Art. 5–6")
    policy.allow("registry.account.apply", Role.REGISTRY_OPERATOR)
    policy.allow("registry.account.decide", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 7, 10, 11")
    policy.allow("registry.account.read", Role.REGISTRY_OPERATOR, Role.PROVINCIAL_AUTHORITY, cites="Registry Rules Art. 17")
    policy.allow("registry.account.read", *_HOLDERS, when=policy.same_organisation, text="of the user's own organisation", cites="Registry Rules Art. 12")
    policy.allow("registry.account.change", *_HOLDERS, when=policy.same_organisation, text="of the user's own organisation", cites="Registry Rules Art. 8")
    ledger.register_subject("account", account_state, lambda s: s.execute(select(Account.id)).scalars(),
                            snapshot_all=ledger.fields_scan(Account, ("number", "organisation_id", "kind", "status", "reason")))
