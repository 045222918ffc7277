"""Participants: trading accounts bound to registry accounts, their operators, fund accounts and the money
that goes in and out through the settlement bank (Trading Rules Art. 5–8; [S7])."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.actor import Actor
from ..auth import policy
from ..auth.models import Organisation, User
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ..issuance import trading as registry_trading
from ..issuance.accounts import account_of
from . import bank, fees, positions, sessions
from .models import FundAccount, FundMovement, Operator, TradingAccount

#: staff of the market's institutions do not trade (Measures Art. 6–7, 31: the registry, the exchange and the
#: verification bodies are independent of the trading they record, run or verify)
STAFF_ROLES = (Role.REGISTRY_OPERATOR.value, Role.EXCHANGE_OPERATOR.value, Role.VVB.value)
MAX_OPERATORS = 5  # [S7] client manual
PERMISSIONS = ("order", "lift", "block", "auction", "funds")
#: one fund movement at most: 10^12 fen (10 bn CNY) keeps every sum well inside a BIGINT
MAX_AMOUNT = 10**12


def _text(value, field: str, max_len: int) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if not text or len(text) > max_len or not text.isprintable():
        raise ValidationError(f"1–{max_len} printable characters", field=field)
    return text


@mutating
def open_account(session: Session, actor: Actor, organisation_id: int, *, bank_name: str, bank_account_no: str,
                 bank_account_name: str) -> TradingAccount:
    """Open a participant's trading account (after it holds an open registry account, Art. 6), bind it to that
    registry account, and its fund account to one same-name bank account. Key emitting units are exempt from
    the opening and annual fees."""
    policy.require(actor, "market.account.open")
    org = fetch(session, Organisation, organisation_id, "organisation", "organisation_id")
    staff = set(org.role_names) & set(STAFF_ROLES)
    if staff:
        raise Forbidden(f"{org.name} is a {', '.join(sorted(staff))}: the market's institutions do not trade",
                        field="organisation_id", rule="Measures Art. 6–7, 31")
    registry_account = account_of(session, org.id)
    if registry_account is None or registry_account.status != "open":
        raise Conflict(f"{org.name} needs an open registry account first", field="organisation_id", rule="Trading Rules Art. 6")
    if session.execute(select(TradingAccount.id).where(TradingAccount.organisation_id == org.id)).first():
        raise Conflict(f"{org.name} already has a trading account", field="organisation_id", rule="Trading Rules Art. 7: one per participant")
    holder = _text(bank_account_name, "bank_account_name", 200)
    if holder != org.name:
        raise ValidationError(f"the bank account must be in the participant's own name ({org.name}), not {holder}",
                              field="bank_account_name", rule="[S7] same-name bank account")
    # the registry's moves of this account wait while it opens; every earlier move is taken in first, so the
    # positions seeded from the registry's trading holdings below count nothing twice
    positions.lock_registry_account(session, registry_account.id)
    positions.take_in_moves(session, actor)
    now = sessions.local_now(session)
    binding = registry_trading.binding_of(session, registry_account.id)
    number = binding.trading_account if binding is not None else f"TA{org.id:08d}"
    account = TradingAccount(number=number, organisation_id=org.id, registry_account_id=registry_account.id, status="open",
                             fee_exempt=Role.KEY_EMITTER.value in org.role_names, opened_at=now)
    session.add(account)
    session.flush()
    funds = FundAccount(trading_account_id=account.id, bank_name=_text(bank_name, "bank_name", 120),
                        bank_account_no=_text(bank_account_no, "bank_account_no", 40), bank_account_name=holder, balance=0, reserved=0)
    session.add(funds)
    session.flush()
    if binding is None:
        registry_trading.bind_trading_account(session, actor, registry_account.id, number)
    ledger.record(session, actor, "market.account_opened", "trading_account", account.id, touches=[("fund_account", funds.id)])
    positions.seed(session, actor, account)
    return account


def get_account(session: Session, ref: int | str) -> TradingAccount:
    text = str(ref).strip().upper()
    if not text.isprintable() or len(text) > 20:  # PostgreSQL refuses NUL in text: no such account, not a 5xx
        raise NotFound(f"no trading account {ref!r}", field="trading_account")
    stmt = select(TradingAccount).where(TradingAccount.number == text) if text.startswith("TA") else (
        select(TradingAccount).where(TradingAccount.id == int(text)) if text.isascii() and text.isdigit() and int(text) < 2**31 else None)
    account = session.execute(stmt).scalar_one_or_none() if stmt is not None else None
    if account is None:
        raise NotFound(f"no trading account {ref}", field="trading_account")
    return account


def funds_of(session: Session, account: TradingAccount, lock: bool = False) -> FundAccount:
    stmt = select(FundAccount).where(FundAccount.trading_account_id == account.id)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one()


@mutating
def add_operator(session: Session, actor: Actor, trading_account_ref, user_id: int, permissions: list[str]) -> Operator:
    """A user of the participant who may trade for it, with menu-level permissions; at most five ([S7])."""
    policy.require(actor, "market.operator.add")
    account = get_account(session, trading_account_ref)
    user = fetch(session, User, user_id, "user", "user_id")
    if user.organisation_id != account.organisation_id:
        raise ValidationError("an operator is a user of the participant itself", field="user_id", rule="Trading Rules Art. 7")
    bad = [p for p in permissions if p not in PERMISSIONS]
    if bad or not permissions:
        raise ValidationError(f"permissions among {', '.join(PERMISSIONS)}", field="permissions")
    count = session.execute(select(func.count(Operator.id)).where(Operator.trading_account_id == account.id)).scalar_one()
    if count >= MAX_OPERATORS:
        raise Conflict(f"{account.number} already has {MAX_OPERATORS} operators", field="user_id", rule="[S7] ≤ 5 operators per account")
    if session.execute(select(Operator.id).where(Operator.user_id == user.id)).first():
        raise Conflict(f"{user.username} is already an operator", field="user_id")
    op = Operator(trading_account_id=account.id, user_id=user.id, permissions=" ".join(sorted(set(permissions))),
                  added_at=sessions.local_now(session))
    session.add(op)
    session.flush()
    ledger.record(session, actor, "market.operator_added", "market_operator", op.id)
    return op


def acting_account(session: Session, actor: Actor, permission: str, lock: bool = False) -> TradingAccount:
    """The open trading account the actor operates with `permission`, or the refusal naming why."""
    if actor.user_id is None:
        raise Forbidden("trading is done by a participant's operator", field="actor", rule="Trading Rules Art. 7")
    op = session.execute(select(Operator).where(Operator.user_id == actor.user_id)).scalar_one_or_none()
    if op is None:
        raise Forbidden(f"{actor.label} is not an operator of any trading account", field="actor", rule="Trading Rules Art. 7")
    if permission not in op.permissions.split():
        raise Forbidden(f"{actor.label} may not {permission} (permissions: {op.permissions})", field="actor", rule="[S7] operator permissions")
    stmt = select(TradingAccount).where(TradingAccount.id == op.trading_account_id)
    account = session.execute(stmt.with_for_update() if lock else stmt).scalar_one()
    usable(account)
    return account


def usable(account: TradingAccount) -> None:
    if account.status != "open":
        raise Conflict(f"trading account {account.number} is {account.status}" + (f": {account.reason}" if account.reason else ""),
                       field="trading_account", rule="Trading Rules Art. 27: trading restricted")


@mutating
def restrict(session: Session, actor: Actor, trading_account_ref, reason: str, restore: bool = False) -> TradingAccount:
    """The exchange restricts (or restores) a participant's trading at once (Art. 27)."""
    policy.require(actor, "market.account.manage")
    account = get_account(session, trading_account_ref)
    account.status, account.reason = ("open", None) if restore else ("restricted", _text(reason, "reason", 500))
    ledger.record(session, actor, "market.account_restored" if restore else "market.account_restricted", "trading_account", account.id)
    return account


# ---- funds -------------------------------------------------------------------------------------------------


def _amount(value, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
        raise ValidationError(f"a whole number of fen from 1 to {MAX_AMOUNT}", field=field)
    return value


def move_funds(session: Session, funds: FundAccount, kind: str, amount: int, ref: str, batch: list[dict] | None = None) -> FundMovement | dict:
    """The one place a fund balance changes, with its movement row (signed fen). With `batch`, the row is
    appended there as a dict for the caller to insert with many others at once (a day's settlement)."""
    funds.balance += amount
    values = {"fund_account_id": funds.id, "kind": kind, "amount": amount, "ref": ref, "at": sessions.local_now(session)}
    if batch is not None:
        batch.append(values)
        return values
    row = FundMovement(**values)
    session.add(row)
    return row


@mutating
def deposit(session: Session, actor: Actor, amount: int) -> FundAccount:
    """Money in from the bound bank account, through the settlement bank, on trading days 9:30–15:00."""
    account = acting_account(session, actor, "funds")
    amount = _amount(amount)
    sessions.require_funds_hours(session)
    funds = funds_of(session, account, lock=True)
    confirmation = bank.BANK.receive(funds.bank_account_no, amount)
    move_funds(session, funds, "deposit", amount, confirmation.ref)
    session.flush()
    ledger.record(session, actor, "market.deposited", "fund_account", funds.id, {"amount": amount, "bank_ref": confirmation.ref})
    return funds


FEES_RULE = "Trading Rules Art. 24: opening 2,000 CNY, annual 1,000 CNY, waived for key emitting units"


def _charge_once(session: Session, account: TradingAccount, funds: FundAccount, ref: str, amount: int) -> int:
    """Charge a fee the account owes once (under `ref`) if it is not exempt and its free funds cover it; what
    was charged (0 when exempt, already paid, or not yet covered — then the next money in pays it)."""
    if account.fee_exempt or amount <= 0 or funds.balance - funds.reserved < amount:
        return 0
    if session.execute(select(FundMovement.id).where(FundMovement.fund_account_id == funds.id, FundMovement.ref == ref)).first():
        return 0
    move_funds(session, funds, "fee", -amount, ref)
    return amount


@mutating
def charge_fees(session: Session, actor: Actor, fee: str, year: int | None = None) -> dict:
    """The exchange bills the opening fee (once per account) or the annual fee for `year` (once per account and
    year) to every open, non-exempt participant (Art. 24: waived for key emitting units); an account whose free
    funds do not cover it is listed as owing and charged by a later call."""
    policy.require(actor, "market.account.manage")
    if fee == "opening":
        ref, amount = "opening-fee", fees.OPENING_FEE
    elif fee == "annual":
        if isinstance(year, bool) or not isinstance(year, int) or not 2023 <= year <= 2100:
            raise ValidationError("the year the annual fee is for, from 2023", field="year", rule=FEES_RULE)
        ref, amount = f"annual-fee-{year}", fees.ANNUAL_FEE
    else:
        raise ValidationError("opening or annual", field="fee", rule=FEES_RULE)
    charged, owing = 0, []
    for account in session.execute(select(TradingAccount).where(TradingAccount.status != "closed").order_by(TradingAccount.id)).scalars():
        if account.fee_exempt:
            continue
        funds = funds_of(session, account, lock=True)
        paid = _charge_once(session, account, funds, ref, amount)
        if paid:
            charged += 1
            session.flush()
            ledger.record(session, actor, "market.fee_charged", "fund_account", funds.id, {"fee": ref, "amount": paid})
        elif not session.execute(select(FundMovement.id).where(FundMovement.fund_account_id == funds.id, FundMovement.ref == ref)).first():
            owing.append(account.number)
    return {"charged": charged, "owing": owing}


@mutating
def withdraw(session: Session, actor: Actor, amount: int) -> FundAccount:
    """Money out to the bound bank account: at most what is not reserved (Art. 18; sale proceeds are usable
    the same day, Art. 29)."""
    account = acting_account(session, actor, "funds")
    amount = _amount(amount)
    sessions.require_funds_hours(session)
    funds = funds_of(session, account, lock=True)
    free = funds.balance - funds.reserved
    if amount > free:
        raise ValidationError(f"{free} fen are free to withdraw ({funds.balance} balance, {funds.reserved} reserved)", field="amount",
                              rule="Trading Rules Art. 18")
    confirmation = bank.BANK.pay(funds.bank_account_no, amount)
    move_funds(session, funds, "withdrawal", -amount, confirmation.ref)
    session.flush()
    ledger.record(session, actor, "market.withdrawn", "fund_account", funds.id, {"amount": amount, "bank_ref": confirmation.ref})
    return funds


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.account.open", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 6")
    policy.allow("market.account.manage", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 27")
    policy.allow("market.operator.add", Role.EXCHANGE_OPERATOR, cites="[S7] ≤ 5 operators")
    policy.allow("market.read", Role.EXCHANGE_OPERATOR, Role.REGISTRY_OPERATOR, cites="Trading Rules Art. 33")
    ledger.register_fields("trading_account", TradingAccount, ("number", "organisation_id", "registry_account_id", "status", "fee_exempt"))
    ledger.register_fields("fund_account", FundAccount, ("trading_account_id", "bank_account_no", "bank_account_name", "balance", "reserved"))
    ledger.register_fields("market_operator", Operator, ("trading_account_id", "user_id", "permissions"))
