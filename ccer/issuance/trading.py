"""The registry's side of the exchange: CCERs between a holder's registry account and its bound trading
account, and the settlement verbs the exchange calls after the close.

Holdings change only the ways the rules give (Measures Art. 26; Registry Rules Art. 14–16): exchange
settlement, non-trade transfer, judicial deduction, retirement and forced cancellation — there is no free
holder-to-holder transfer. Units "in the trading account" are the holder's units in status `trading`:

- **In / out** ("转移至交易账户" / back to the bound registry account, [S7]): the holder's two users, maker
  and checker, move units between `available` and `trading`, on trading days 9:30–15:00 only, and only
  while the registry account is bound to a trading account at the exchange.
- **Delivery** (货银对付, 逐笔全额, Trading Rules Art. 25–32): the exchange delivers each settled trade —
  the seller's `trading` units to the buyer's `trading` holding — atomically; `deliver_day` delivers a
  day's trades in one transaction, each trade all-or-nothing with its own outcome. Both go through the
  one planner in holdings.py; a trade number is delivered once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar, clock
from ..infra.actor import Actor
from ..auth import makerchecker, policy
from ..auth.roles import Role
from ..infra.db import allocate_ids, insert_many, mutating
from ..infra.errors import Conflict, DomainError, NotFound, ValidationError
from ..projects.models import Project
from . import fraud, holdings
from .accounts import get_account
from .holdings import Cut, Pool, cut, live_blocks, lock_accounts, shortfall_message, take
from .models import AVAILABLE, TRADING, Account, SerialBlock, TradingBinding, TradingMove, Transfer
from .services import (_SENDERS, _SPEC_KEYS, _own_account, _pick, _serials, _usable, _whole, account_target, propose_request,
                       transfer_state, unit_spec)

#: registry moves between the registry and the trading account: trading days, 9:30–15:00 Beijing time ([S7])
MOVE_OPENS, MOVE_CLOSES = time(9, 30), time(15, 0)
HOURS_RULE = "Trading Rules Art. 21–23; [S7]: moves to and from the trading account on trading days 9:30–15:00"
BINDING_RULE = "[S7] 账户绑定: CCERs move only between a registry account and the trading account bound to it"
SETTLEMENT_RULE = "Trading Rules Art. 25–32: 货银对付, 逐笔全额 — each trade delivered whole or not at all"


# ---- binding ----------------------------------------------------------------------------------------------


@mutating
def bind_trading_account(session: Session, actor: Actor, account_ref: int | str, trading_account: str) -> TradingBinding:
    """Bind a registry account to the holder's trading account at the exchange (one each way)."""
    policy.require(actor, "registry.trading.bind")
    number = (trading_account or "").strip()
    if not number or len(number) > 20 or not number.isprintable():
        raise ValidationError("a trading account number of 1–20 printable characters", field="trading_account")
    account = get_account(session, account_ref)
    _usable(account, "account", restricted_ok=True)
    if session.execute(select(TradingBinding.id).where(TradingBinding.account_id == account.id)).first():
        raise Conflict(f"account {account.number} is already bound to a trading account", field="account", rule=BINDING_RULE)
    if session.execute(select(TradingBinding.id).where(TradingBinding.trading_account == number)).first():
        raise Conflict(f"trading account {number} is already bound to another registry account", field="trading_account", rule=BINDING_RULE)
    binding = TradingBinding(account_id=account.id, trading_account=number, status="active", bound_at=clock.now(session))
    session.add(binding)
    session.flush()
    ledger.record(session, actor, "trading.bound", "trading_binding", binding.id, {"account": account.number})
    return binding


def binding_of(session: Session, account_id: int) -> TradingBinding | None:
    return session.execute(select(TradingBinding).where(TradingBinding.account_id == account_id,
                                                        TradingBinding.status == "active")).scalar_one_or_none()


def _bound(session: Session, account: Account, field: str) -> TradingBinding:
    binding = binding_of(session, account.id)
    if binding is None:
        raise Conflict(f"account {account.number} is not bound to a trading account", field=field, rule=BINDING_RULE)
    return binding


def check_hours(session: Session) -> None:
    """Refuse outside trading days 9:30–15:00 Beijing time."""
    local = clock.local(clock.now(session))
    if not calendar.is_trading_day(local.date()):
        raise Conflict(f"{local:%Y-%m-%d} is not a trading day", field="time", rule=HOURS_RULE)
    if not MOVE_OPENS <= local.time() < MOVE_CLOSES:
        raise Conflict(f"{local:%H:%M:%S} is outside 9:30–15:00", field="time", rule=HOURS_RULE)


# ---- in and out (maker–checker) -------------------------------------------------------------------------

#: (operation, from status, to status, event)
_MOVES = {"registry.to_trading": (AVAILABLE, TRADING, "ccer.to_trading"),
          "registry.from_trading": (TRADING, AVAILABLE, "ccer.from_trading")}


def _move_precheck(kind: str):
    before = _MOVES[kind][0]

    def precheck(session: Session, target: str, payload: dict) -> None:
        account = account_target(session, target)
        _usable(account, "account")
        _bound(session, account, "account")
        check_hours(session)
        pieces = _pick(session, account, unit_spec(session, payload), (before,))
        _refuse_restricted(session, {p.block.project_id for p in pieces})
    return precheck


def _move_apply(kind: str):
    before, after, action = _MOVES[kind]

    def apply(session: Session, actor: Actor, target: str, payload: dict, vouch=()) -> list[holdings.Block]:
        account = account_target(session, target)
        _own_account(session, actor, account, "registry.trading")
        lock_accounts(session, account.id)
        _usable(account, "account")
        binding = _bound(session, account, "account")
        check_hours(session)
        pieces = _pick(session, account, unit_spec(session, payload), (before,))
        _refuse_restricted(session, {p.block.project_id for p in pieces})
        moved, touched = cut(session, pieces, status=after)
        lots: dict[tuple[int, int], int] = {}
        for b in moved:
            lots[(b.project_id, b.vintage)] = lots.get((b.project_id, b.vintage), 0) + b.quantity
        sign = 1 if after == TRADING else -1
        now = clock.now(session)
        session.add_all(TradingMove(account_id=account.id, project_id=p, vintage=v, quantity=sign * q, moved_at=now)
                        for (p, v), q in lots.items())
        ledger.record(session, actor, action, "account", account.id,
                      {"trading_account": binding.trading_account, "serials": _serials(session, moved)},
                      touches=vouch, states=holdings.vouch(touched))
        return moved
    return apply


def propose_to_trading(session: Session, actor: Actor, account_ref: int | str, **spec) -> makerchecker.ApprovalRequest:
    """The maker's half of moving units into the bound trading account (转移至交易账户); a second user of the
    organisation confirms it (`makerchecker.confirm`)."""
    return propose_request(session, actor, "registry.to_trading", account_ref, _spec_payload(spec))


def propose_from_trading(session: Session, actor: Actor, account_ref: int | str, **spec) -> makerchecker.ApprovalRequest:
    """The maker's half of moving units from the trading account back into the registry account."""
    return propose_request(session, actor, "registry.from_trading", account_ref, _spec_payload(spec))


def _spec_payload(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k in _SPEC_KEYS and v is not None}


def _refuse_restricted(session: Session, project_ids: set[int]) -> None:
    fraud.refuse_if_restricted(session, project_ids, "project_no")


def moves_since(session: Session, after_id: int, limit: int = 10_000) -> list[TradingMove]:
    """The moves into (+) and out of (−) trading accounts after `after_id`, in order: what the exchange takes
    into its positions."""
    return list(session.execute(select(TradingMove).where(TradingMove.id > after_id).order_by(TradingMove.id).limit(limit)).scalars())


# ---- settlement verbs ---------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """The outcome of delivering one trade: the transfer made, or the refusal (nothing of it moved)."""

    trade_ref: str
    transfer_id: int | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        out = {"trade_ref": self.trade_ref, "ok": self.ok, "transfer_id": self.transfer_id}
        if self.error is not None:
            out["error"] = {"message": self.error.message, "field": self.error.field, "rule": self.error.rule}
        return out


@dataclass(frozen=True)
class _Trade:
    ref: str
    seller: str
    buyer: str
    project_no: int
    vintage: int
    quantity: int


def _parse(raw: dict) -> _Trade:
    if not isinstance(raw, dict):
        raise ValidationError("each trade is an object", field="trades")
    ref = raw.get("trade_ref")
    if not isinstance(ref, str) or not ref.strip() or len(ref.strip()) > 40 or not ref.strip().isprintable():
        raise ValidationError("the exchange's trade number, 1–40 printable characters", field="trade_ref")
    for name in ("seller", "buyer"):
        if not isinstance(raw.get(name), (str, int)) or isinstance(raw.get(name), bool) or not str(raw.get(name)).strip():
            raise ValidationError("a registry account number or id", field=name)
    return _Trade(ref.strip(), str(raw["seller"]).strip(), str(raw["buyer"]).strip(), _whole(raw.get("project_no"), "project_no"),
                  _whole(raw.get("vintage"), "vintage", 2020), _whole(raw.get("quantity"), "quantity"))


def _accounts(session: Session, refs: set[str]) -> dict[str, Account]:
    """Accounts by the reference a trade gives (number, or id), in one query."""
    numbers = {r for r in refs if not r.isdigit()}
    ids = {int(r) for r in refs if r.isdigit() and len(r) <= 12}
    rows = session.execute(select(Account).where(Account.number.in_(numbers) | Account.id.in_(ids))).scalars().all()
    out = {}
    for a in rows:
        out[a.number] = a
        out[str(a.id)] = a
    return out


@mutating
def deliver(session: Session, actor: Actor, trade: dict) -> Transfer:
    """Deliver one settled trade: the seller's trading units of the project and vintage to the buyer's
    trading holding, atomically. Refuses with the rule, nothing moved."""
    (outcome,) = _settle(session, actor, [trade])
    if outcome.error is not None:
        raise outcome.error
    return session.get(Transfer, outcome.transfer_id)


@mutating
def deliver_day(session: Session, actor: Actor, trades: list[dict]) -> list[Delivery]:
    """Deliver a day's settled trades in one transaction, in the order given; each trade is delivered whole
    or refused with its reason (nothing of it moved), whatever happens to the others."""
    if not isinstance(trades, list):
        raise ValidationError("a list of trades", field="trades")
    return _settle(session, actor, trades)


def _settle(session: Session, actor: Actor, raw: list[dict]) -> list[Delivery]:
    policy.require(actor, "registry.settle")
    outcomes: list[Delivery] = []
    parsed: list[_Trade | None] = []
    for item in raw:
        try:
            parsed.append(_parse(item))
            outcomes.append(Delivery(parsed[-1].ref))
        except DomainError as exc:
            parsed.append(None)
            outcomes.append(Delivery(str(item.get("trade_ref", "")) if isinstance(item, dict) else "", error=exc))
    trades = [t for t in parsed if t is not None]
    if not trades:
        return outcomes

    accounts = _accounts(session, {t.seller for t in trades} | {t.buyer for t in trades})
    projects = {p.registry_no: p for p in session.execute(
        select(Project).where(Project.registry_no.in_({t.project_no for t in trades}))).scalars()}
    bound = {b.account_id: b for b in session.execute(select(TradingBinding).where(
        TradingBinding.account_id.in_({a.id for a in accounts.values()}), TradingBinding.status == "active")).scalars()}
    refs = sorted({t.ref for t in trades})
    delivered = set()
    for i in range(0, len(refs), 5000):  # bounded statements: a day may hold 100,000 trade numbers
        delivered.update(session.execute(select(Transfer.trade_ref).where(Transfer.trade_ref.in_(refs[i:i + 5000]))).scalars())
    lock_accounts(session, *{a.id for a in accounts.values()})
    restricted = fraud.restricted_projects(session, {p.id for p in projects.values()})
    sellers = {accounts[t.seller].id for t in trades if t.seller in accounts}
    pool = Pool(live_blocks(session, SerialBlock.account_id.in_(sellers), SerialBlock.status == TRADING) if sellers else [])

    plan = Cut(session)
    transfer_ids = iter(allocate_ids(session, Transfer.__table__, len(trades)))
    now = clock.now(session)
    rows, done = [], []  # transfers to insert; (transfer row, seller, buyer, moved, touched) per delivered trade
    seen: set[str] = set()
    for outcome, trade in zip(outcomes, parsed):
        if trade is None:
            continue
        try:
            if trade.ref in seen:
                raise Conflict(f"trade {trade.ref} was already delivered", field="trade_ref", rule=SETTLEMENT_RULE)
            seller, buyer, project = _check_trade(session, trade, accounts, projects, bound, delivered, restricted)
            held = pool.held(seller.id, TRADING, project.id, trade.vintage)
            if held < trade.quantity:
                raise ValidationError(shortfall_message(seller.number, held, trade.quantity, (TRADING,), trade.project_no, trade.vintage),
                                      field="quantity", rule=holdings.OVERSPEND_RULE)
            pieces, _ = take(pool.blocks(seller.id, TRADING, project.id, trade.vintage), trade.quantity)
            moved, touched = plan.apply(pieces, account_id=buyer.id)
            pool.apply(touched)
            row = {"id": next(transfer_ids), "kind": "settlement", "from_account_id": seller.id, "to_account_id": buyer.id,
                   "quantity": trade.quantity, "evidence": None, "trade_ref": trade.ref, "executed_at": now}
            rows.append(row)
            done.append((row, seller, buyer, moved, touched))
            seen.add(trade.ref)
            outcome.transfer_id = row["id"]
        except DomainError as exc:
            outcome.error = exc
    if not rows:
        return outcomes
    plan.write()
    insert_many(session, Transfer.__table__, rows)
    texts = iter(_serials(session, [b for *_, moved, _t in done for b in moved]))
    ledger.record_many(session, actor, [
        ("ccer.delivered", "transfer", row["id"], ledger.payload(
            session, "transfer", row["id"],
            {"trade": row["trade_ref"], "from": seller.number, "to": buyer.number, "serials": [next(texts) for _ in moved]},
            states=holdings.vouch(touched), state=transfer_state(row)))
        for row, seller, buyer, moved, touched in done])
    return outcomes


def _check_trade(session: Session, t: _Trade, accounts, projects, bound, delivered, restricted) -> tuple[Account, Account, Project]:
    if t.ref in delivered:
        raise Conflict(f"trade {t.ref} was already delivered", field="trade_ref", rule=SETTLEMENT_RULE)
    seller, buyer = accounts.get(t.seller), accounts.get(t.buyer)
    if seller is None:
        raise NotFound(f"no registry account {t.seller}", field="seller")
    if buyer is None:
        raise NotFound(f"no registry account {t.buyer}", field="buyer")
    if seller.id == buyer.id:
        raise ValidationError("seller and buyer are the same account", field="buyer")
    _usable(seller, "seller")
    _usable(buyer, "buyer")
    for name, account in (("seller", seller), ("buyer", buyer)):
        if account.id not in bound:
            raise Conflict(f"account {account.number} is not bound to a trading account", field=name, rule=BINDING_RULE)
    project = projects.get(t.project_no)
    if project is None:
        raise NotFound(f"no registered project number {t.project_no:06d}", field="project_no")
    if project.id in restricted:
        fraud.refuse_if_restricted(session, {project.id}, "project_no")
    return seller, buyer, project


__all__ = ["bind_trading_account", "binding_of", "check_hours", "propose_to_trading", "propose_from_trading", "moves_since", "deliver",
           "deliver_day", "Delivery"]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("registry.trading.bind", Role.EXCHANGE_OPERATOR, Role.REGISTRY_OPERATOR, cites="Trading Rules Art. 6")
    policy.allow("registry.trading", *_SENDERS, when=policy.same_organisation, text="in the user's own account", cites="Trading Rules Art. 10; [S7]")
    policy.allow("registry.settle", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 25–32")
    ledger.register_fields("trading_binding", TradingBinding, ("account_id", "trading_account", "status"))
    for _kind in _MOVES:
        makerchecker.operation(_kind, _move_apply(_kind), "registry.trading", _move_precheck(_kind), one_event=True)
