"""The registry's verbs on CCERs: non-trade transfers, judicial freeze and deduction (issuance is in issuing.py,
moves to and from the trading account and the exchange's settlement in trading.py, retirements in retirements.py).
Each is one transaction that locks the accounts it touches, cuts serial blocks (holdings.py) and writes one
event vouching for every block it created or superseded. There is no free holder-to-holder transfer:
holdings change by settlement, non-trade transfer, judicial deduction, retirement or forced cancellation
(Measures Art. 26; Registry Rules Art. 14–16)."""
from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..auth import makerchecker, policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ..infra.actor import Actor
from ..projects.models import Project
from . import holdings
from .accounts import get_account
from .holdings import Block, Piece, block_state, cut, lock_accounts, pick, serials, vouch
from .models import (AVAILABLE, FROZEN, TRADING, Account, ComplianceObligation, Freeze, Issuance,
                     Retirement, SerialBlock, Transfer)
from .serials import parse_serial

_SENDERS = (Role.PROJECT_OWNER, Role.KEY_EMITTER, Role.TRADING_PARTICIPANT, Role.EXCHANGE_OPERATOR)

#: the earliest vintage a holder can name: old-regime CCERs (Measures Art. 49) carry vintages from the old rule's
#: 2005-02-16; new-regime reductions are generated after 2020-09-22 (Art. 17), which issuance enforces per batch
FIRST_VINTAGE = 2005


# ---- subjects the chain vouches for -------------------------------------------------------------------------


TRANSFER_FIELDS = ("kind", "from_account_id", "to_account_id", "quantity", "evidence", "trade_ref")


def transfer_state(row: dict) -> dict:
    """A transfer's vouched state from the values written (settlement writes many without reading them back)."""
    return {f: row[f] for f in TRANSFER_FIELDS}


# ---- shared checks ------------------------------------------------------------------------------------------


def _whole(value, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValidationError("must be a whole number", field=field)
    if value < minimum:
        raise ValidationError(f"must be ≥ {minimum}", field=field)
    return value


def _usable(account: Account, field: str, *, restricted_ok: bool = False) -> None:
    """Only open accounts move units (restricted: Registry Rules Art. 10; closed: Art. 11); VVB and
    provincial accounts only hold for reading."""
    ok = ("open", "restricted") if restricted_ok else ("open",)
    if account.status not in ok:
        rule = {"restricted": "Registry Rules Art. 10", "closed": "Registry Rules Art. 11"}.get(account.status, "Registry Rules Art. 7")
        raise Conflict(f"account {account.number} is {account.status}", field=field, rule=rule)
    if account.holds_only:
        raise Conflict(f"account {account.number} is a {account.kind} account, which does not trade or transfer", field=field, rule="Registry Rules Art. 5")


def project_by_no(session: Session, project_no, field: str = "project_no") -> Project:
    no = _whole(project_no, field)
    project = session.execute(select(Project).where(Project.registry_no == no)).scalar_one_or_none()
    if project is None:
        raise NotFound(f"no registered project number {no:06d}", field=field)
    return project


def unit_spec(session: Session, spec: dict) -> dict:
    """{quantity, project_no, vintage, serial} from a request, checked: either a serial range, or a
    quantity (optionally narrowed to a project and vintage)."""
    out: dict = {"quantity": None, "project": None, "vintage": None, "serial": None}
    if spec.get("serial"):
        out["serial"] = parse_serial(spec["serial"])
    if spec.get("quantity") is not None:
        out["quantity"] = _whole(spec["quantity"], "quantity")
    elif out["serial"] is None:
        raise ValidationError("give a quantity or a serial range", field="quantity")
    if spec.get("project_no") is not None:
        out["project"] = project_by_no(session, spec["project_no"])
    if spec.get("vintage") is not None:
        out["vintage"] = _whole(spec["vintage"], "vintage", FIRST_VINTAGE)
    return out


def _pick(session: Session, account: Account, spec: dict, statuses=(AVAILABLE,), **kw) -> list[Piece]:
    return pick(session, account, spec["quantity"], statuses=statuses, project=spec["project"], vintage=spec["vintage"],
                serial=spec["serial"], **kw)


def _serials(session: Session, blocks: list[Block]) -> list[str]:
    return serials(session, blocks)


def _own_account(session: Session, actor: Actor, account: Account, action: str) -> None:
    policy.require(actor, action, account.organisation)


# ---- the registry's own acts: maker–checker between two registry users (registry_acts.py) ------------------


TWO_USERS_RULE = ("Registry Rules: 发起代表/确认代表 — the registry's acts on CCERs are proposed by one registry user and "
                  "confirmed by another")


def require_confirmed(session: Session, actor: Actor, vouch, kind: str) -> None:
    """Refuse an act of the registry that is not the confirmation of an approved `kind` request by a second
    registry user (ccer/issuance/registry_acts.py): no single person — nor the system actor, which names no
    one — issues, freezes, deducts, transfers or cancels CCERs alone (issue 15)."""
    ids = [int(i) for t, i in vouch if t == "approval_request"]
    req = session.get(makerchecker.ApprovalRequest, ids[0]) if ids else None
    if (req is None or req.kind != kind or req.status != "approved" or actor.user_id is None or req.decided_by != actor.user_id
            or req.decided_by == req.initiated_by):
        raise Forbidden(f"{kind} is a maker–checker act: one registry user proposes it (the API, `ccer registry …`), a second "
                        "registry user confirms it (POST /api/v1/approvals/<id>/confirm, `ccer registry confirm`)",
                        field="actor", rule=TWO_USERS_RULE)


def required_text(value, field: str, message: str, rule: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(message, field=field, rule=rule)
    return value.strip()


# ---- transfers ---------------------------------------------------------------------------------------------


def move_units(session: Session, actor: Actor, kind: str, sender: Account, recipient: Account, spec: dict,
               *, evidence: str | None = None, statuses=(AVAILABLE,), freeze_id: int | None = None,
               also: list[tuple[str, int]] = ()) -> Transfer:
    """Lock both accounts, pick the units, cut them over to the recipient as available, record it."""
    lock_accounts(session, sender.id, recipient.id)  # re-reads both: their status is now fixed
    if sender.id == recipient.id:
        raise ValidationError("sender and recipient are the same account", field="to_account")
    _usable(sender, "from_account", restricted_ok=True)
    _usable(recipient, "to_account")
    pieces = _pick(session, sender, spec, statuses, freeze_id=freeze_id)
    moved, touched = cut(session, pieces, account_id=recipient.id, status=AVAILABLE, freeze_id=None)
    transfer = Transfer(kind=kind, from_account_id=sender.id, to_account_id=recipient.id,
                        quantity=sum(p.quantity for p in pieces), evidence=evidence, executed_at=clock.now(session))
    session.add(transfer)
    session.flush()
    ledger.record(session, actor, f"ccer.{kind}", "transfer", transfer.id,
                  {"from": sender.number, "to": recipient.number, "serials": _serials(session, moved)},
                  touches=also, states=vouch(touched))
    return transfer


@mutating
def propose_request(session: Session, actor: Actor, kind: str, account_ref: int | str, payload: dict) -> makerchecker.ApprovalRequest:
    """The maker's half of an operation on an account (a retirement, a move into trading); a second user of the
    organisation confirms it. The account must be the actor's own, under the operation's permission."""
    account = get_account(session, account_ref)
    # makerchecker.propose checks the operation's permission on the account ("account" target kind, wire()):
    # someone else's account is answered as if it did not exist (issue 15)
    return makerchecker.propose(session, actor, kind, f"account:{account.id}", payload)


def account_target(session: Session, target: str) -> Account:
    """The account a maker–checker request names ("account:<id>")."""
    kind, _, aid = target.partition(":")
    if kind != "account" or not aid.isdigit():
        raise ValidationError(f"target must be account:<id>, got {target!r}", field="target")
    return get_account(session, int(aid))


_SPEC_KEYS = ("quantity", "project_no", "vintage", "serial")


NON_TRADE = {"succession": "承继 (Registry Rules Art. 14)", "enforcement": "强制执行 (Registry Rules Art. 14)"}


def non_trade_inputs(session: Session, kind, from_account, to_account, evidence, spec: dict) -> tuple[Account, Account, dict]:
    """A non-trade transfer's request, checked (Registry Rules Art. 14): the kind, the evidence, both accounts, the units."""
    if kind not in NON_TRADE:
        raise ValidationError(f"unknown non-trade transfer {kind!r}; one of {', '.join(NON_TRADE)}", field="kind", rule="Registry Rules Art. 14")
    required_text(evidence, "evidence", "the document the change rests on is required", "Registry Rules Art. 14")
    return get_account(session, from_account), get_account(session, to_account), unit_spec(session, spec)


@mutating
def non_trade_transfer(session: Session, actor: Actor, kind: str, from_account: int | str, to_account: int | str,
                       evidence: str, *, vouch=(), **spec) -> Transfer:
    """The registry changes the holder on valid evidence: succession or compulsory enforcement (Art. 14) — as
    the confirmation of a second registry user (registry_acts.py)."""
    policy.require(actor, "registry.judicial")
    require_confirmed(session, actor, vouch, "registry.non_trade")
    sender, recipient, spec = non_trade_inputs(session, kind, from_account, to_account, evidence, spec)
    return move_units(session, actor, kind, sender, recipient, spec, evidence=evidence, also=vouch)


# ---- judicial freeze and deduction (Registry Rules Art. 16) ------------------------------------------------


def _active_freeze(session: Session, freeze_id: int) -> Freeze:
    freeze = fetch(session, Freeze, freeze_id, "freeze", "freeze_id", with_for_update={"key_share": True})
    if freeze.status != "active":
        raise Conflict(f"freeze {freeze_id} is already {freeze.status}", field="freeze_id", rule="Registry Rules Art. 16")
    return freeze


#: what a court freezes: units in the registry account or in trading (Registry Rules Art. 16)
FREEZABLE = (AVAILABLE, TRADING)


def freeze_inputs(session: Session, account_ref, authority, order_ref, spec: dict) -> tuple[Account, dict]:
    for name, value in (("authority", authority), ("order_ref", order_ref)):
        required_text(value, name, "the court and its document number are required", "Registry Rules Art. 16")
    return get_account(session, account_ref), unit_spec(session, spec)


@mutating
def freeze(session: Session, actor: Actor, account_ref: int | str, *, authority: str, order_ref: str, vouch=(), **spec) -> Freeze:
    policy.require(actor, "registry.judicial")
    require_confirmed(session, actor, vouch, "registry.freeze")
    account, spec = freeze_inputs(session, account_ref, authority, order_ref, spec)
    lock_accounts(session, account.id)
    pieces = _pick(session, account, spec, statuses=FREEZABLE)
    record = Freeze(account_id=account.id, quantity=sum(p.quantity for p in pieces), authority=authority.strip(),
                    order_ref=order_ref.strip(), status="active", frozen_at=clock.now(session))
    session.add(record)
    session.flush()
    moved, touched = cut(session, pieces, status=FROZEN, freeze_id=record.id)
    ledger.record(session, actor, "ccer.frozen", "freeze", record.id, {"serials": _serials(session, moved)}, touches=vouch,
                  states=holdings.vouch(touched))
    return record


def _frozen_pieces(session: Session, record: Freeze) -> list[Piece]:
    blocks = holdings.live_blocks(session, SerialBlock.freeze_id == record.id, SerialBlock.status == FROZEN)
    return [Piece(b, b.first, b.last) for b in blocks]


def release_inputs(session: Session, freeze_id, reason, lock: bool = False) -> Freeze:
    required_text(reason, "reason", "the release order is required", "Registry Rules Art. 16")
    return _active_freeze(session, freeze_id) if lock else _freeze_now(session, freeze_id)


def deduct_inputs(session: Session, freeze_id, to_account, evidence, lock: bool = False) -> tuple[Freeze, Account]:
    required_text(evidence, "evidence", "the effective judgment is required", "Registry Rules Art. 16")
    record = _active_freeze(session, freeze_id) if lock else _freeze_now(session, freeze_id)
    return record, get_account(session, to_account)


def _freeze_now(session: Session, freeze_id) -> Freeze:
    """The active freeze, read without a lock (a proposal's precheck; the confirmation locks it)."""
    record = fetch(session, Freeze, _whole(freeze_id, "freeze_id"), "freeze", "freeze_id")
    if record.status != "active":
        raise Conflict(f"freeze {record.id} is already {record.status}", field="freeze_id", rule="Registry Rules Art. 16")
    return record


@mutating
def release_freeze(session: Session, actor: Actor, freeze_id: int, reason: str, *, vouch=()) -> Freeze:
    policy.require(actor, "registry.judicial")
    require_confirmed(session, actor, vouch, "registry.release")
    record = release_inputs(session, freeze_id, reason, lock=True)
    lock_accounts(session, record.account_id)
    moved, touched = cut(session, _frozen_pieces(session, record), status=AVAILABLE, freeze_id=None)
    record.status, record.closed_at = "released", clock.now(session)
    ledger.record(session, actor, "ccer.unfrozen", "freeze", record.id, {"reason": reason, "serials": _serials(session, moved)},
                  touches=vouch, states=holdings.vouch(touched))
    return record


@mutating
def deduct(session: Session, actor: Actor, freeze_id: int, to_account: int | str, evidence: str, *, vouch=()) -> Transfer:
    """司法扣划: frozen units go to the account an effective judgment names."""
    policy.require(actor, "registry.judicial")
    require_confirmed(session, actor, vouch, "registry.deduct")
    record, recipient = deduct_inputs(session, freeze_id, to_account, evidence, lock=True)
    sender = session.get(Account, record.account_id)
    pieces = _frozen_pieces(session, record)
    record.status, record.closed_at = "deducted", clock.now(session)
    spec = {"quantity": sum(p.quantity for p in pieces), "project": None, "vintage": None, "serial": None}
    return move_units(session, actor, "deduction", sender, recipient, spec, evidence=evidence, statuses=(FROZEN,),
                       freeze_id=record.id, also=[("freeze", record.id), *vouch])


__all__ = ["non_trade_transfer", "freeze", "release_freeze", "deduct", "propose_request", "holdings", "require_confirmed"]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.judicial", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 14, 16")
    # a maker–checker request on someone else's account is answered as if the account did not exist (issue 15)
    makerchecker.target_kind("account", account_target,
                             lambda t: NotFound(f"no registry account {t.partition(':')[2]}", field="account"))
    ledger.register_subject(
        "serial_block",
        lambda s, sid: (lambda b: None if b is None else block_state(b))(s.get(SerialBlock, int(sid))),
        lambda s: s.execute(select(SerialBlock.id)).scalars(),
        merkle=ledger.KeptWhen("active"),  # §6: kept when "active" is true
        # rows, not ORM objects, and only live blocks: checkpoints read every one of them
        kept_all=lambda s: {str(b.id): block_state(b) for b in s.execute(select(SerialBlock.__table__).where(SerialBlock.active))},
        snapshot_all=ledger.fields_scan(SerialBlock, holdings.STATE_FIELDS),  # verify: one ordered scan
    )
    ledger.register_fields("issuance", Issuance, ("project_id", "batch", "vintage", "first", "last", "quantity", "account_id"))
    ledger.register_fields("transfer", Transfer, TRANSFER_FIELDS)
    ledger.register_fields("freeze", Freeze, ("account_id", "quantity", "authority", "order_ref", "status"))
    ledger.register_fields("retirement", Retirement, (
        "account_id", "project_id", "vintage", "quantity", "purpose", "beneficiary_name", "beneficiary_uscc",
        "compliance_year", "event_name", "event_start", "event_end", "note"))
    ledger.register_fields("compliance_obligation", ComplianceObligation, ("organisation_id", "year", "allowances", "source"))
