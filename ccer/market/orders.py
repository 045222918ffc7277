"""挂牌协议 (listing agreement, Trading Rules Art. 12, 16, 18): a participant lists a buy or sell order within
±10 % of the day's reference price, fully funded — a sell reserves the position, a buy reserves price ×
quantity plus the commission — and counterparties lift (摘牌) listed orders in price then time priority,
partially if they like. Matched trades are final (Art. 19) and settle after the close (settlement.py). The
unfilled remainder of an order may be cancelled, a filled part never; what is open at the close expires.

Risk rules live here too: buying then selling (or selling then buying) the same instrument needs at least
five trading days between the two (Art. 29), and an account the exchange or the registry restricted does not
trade (Art. 27; fraud consequences, Measures Art. 43)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar
from ..infra.actor import Actor
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, ValidationError
from ..issuance import fraud
from ..issuance.models import Account as RegistryAccount
from . import accounts, deals, fees, instruments, positions, risk, sessions
from .models import FundAccount, Instrument, Order, Position, Trade, TradingAccount

#: Art. 29: at least this many trading days between a purchase and a sale of the same instrument, either way
HOLDING_DAYS = 5
HOLDING_RULE = "Trading Rules Art. 29: ≥ 5 trading days between buying and selling the same instrument"
SIDES = ("buy", "sell")
#: who takes the registry's moves into the exchange's positions when an order needs them
EXCHANGE = Actor.system("exchange")


def _side(value) -> str:
    if value not in SIDES:
        raise ValidationError("buy or sell", field="side")
    return value


def check_holding_period(session: Session, account: TradingAccount, inst: Instrument, side: str, day: date) -> None:
    """Refuse a sale within five trading days of a purchase of the same instrument, and a purchase within
    five of a sale: the last opposite trade's day D and today T must have ≥ 5 trading days strictly
    between them (D+1 … T−1), so the sixth trading day after D is the first allowed."""
    column = Trade.buyer_id if side == "sell" else Trade.seller_id
    last = session.execute(select(Trade.day).where(column == account.id, Trade.instrument_id == inst.id, Trade.status != "failed")
                           .order_by(Trade.day.desc()).limit(1)).scalar()
    if last is not None and calendar.trading_days_between(last, day) - 1 < HOLDING_DAYS:
        opposite = "bought" if side == "sell" else "sold"
        first = calendar.add_trading_days(last, HOLDING_DAYS + 1)
        raise Conflict(f"{account.number} {opposite} {inst.code} on {last}; it may {side} from {first}", field="side", rule=HOLDING_RULE)


def check_restrictions(session: Session, account: TradingAccount, inst: Instrument) -> None:
    """Restrictions take effect at once: the exchange's on the trading account (Art. 27), the registry's on the
    bound registry account (Registry Rules Art. 10), and fraud consequences on the project (Measures Art. 43)."""
    accounts.usable(account)
    registry_account = session.get(RegistryAccount, account.registry_account_id)
    if registry_account.status != "open":
        raise Conflict(f"the registry account {registry_account.number} is {registry_account.status}", field="trading_account",
                       rule="Registry Rules Art. 10: a restricted account does not trade")
    fraud.refuse_if_restricted(session, {inst.project_id}, "instrument")


def reserve_sale(session: Session, account: TradingAccount, inst: Instrument, quantity: int) -> Position:
    pos = positions.position(session, account.id, inst.id, lock=True)
    free = pos.quantity - pos.reserved
    if quantity > free:
        raise ValidationError(f"{account.number} has {free} t of {inst.code} free to sell ({pos.quantity} held, {pos.reserved} reserved)",
                              field="quantity", rule="Trading Rules Art. 18: sales only from available holdings, no short selling")
    pos.reserved += quantity
    return pos


def reserve_funds(session: Session, account: TradingAccount, amount: int) -> FundAccount:
    funds = accounts.funds_of(session, account, lock=True)
    free = funds.balance - funds.reserved
    if amount > free:
        raise ValidationError(f"{account.number} has {free} fen free; {amount} fen needed", field="quantity",
                              rule="Trading Rules Art. 18: purchases only from available funds")
    funds.reserved += amount
    return funds


@mutating
def place(session: Session, actor: Actor, instrument_code: str, side: str, price, quantity: int) -> Order:
    """List an order (挂牌)."""
    positions.take_in_moves(session, EXCHANGE)  # the registry's latest moves into trading accounts first
    account = accounts.acting_account(session, actor, "order", lock=True)
    inst = instruments.get(session, instrument_code)
    side, price, quantity = _side(side), instruments.price_fen(price), instruments.lot(quantity)
    now = sessions.require_open(session)
    day = now.date()
    instruments.tradeable(session, inst, day)
    check_restrictions(session, account, inst)
    instruments.check_limit(session, inst, price, "listing", day)
    check_holding_period(session, account, inst, side, day)
    risk.check_position_limit(session, account, inst, side, quantity)
    touched = []
    if side == "sell":
        touched.append(("position", reserve_sale(session, account, inst, quantity).id))
    else:
        touched.append(("fund_account", reserve_funds(session, account, fees.buy_cost("listing", price * quantity)).id))
    order = Order(instrument_id=inst.id, trading_account_id=account.id, operator_user_id=actor.user_id, method="listing", side=side,
                  price=price, quantity=quantity, filled=0, status="open", day=day, entered_at=now)
    session.add(order)
    session.flush()
    ledger.record(session, actor, "market.order_listed", "order", order.id, touches=touched)
    return order


@dataclass
class Fill:
    order: Order
    quantity: int


def book(session: Session, inst: Instrument, side: str, limit: int = 50) -> list[Order]:
    """Open listing orders of one side, best first: lowest ask or highest bid, then earliest."""
    price = Order.price.asc() if side == "sell" else Order.price.desc()
    return list(session.execute(select(Order).where(Order.instrument_id == inst.id, Order.side == side, Order.status == "open",
                                                    Order.method == "listing").order_by(price, Order.id).limit(limit)).scalars())


@mutating
def lift(session: Session, actor: Actor, instrument_code: str, side: str, quantity: int, limit_price=None) -> list[Trade]:
    """Lift (摘牌) listed orders of the other side in price then time priority, up to `quantity` t (and, if
    given, no worse than `limit_price`); partial lifts allowed. Each fill is a trade at the listed price.
    Refuses — nothing reserved, nothing traded — if the book cannot fill even one tonne."""
    positions.take_in_moves(session, EXCHANGE)
    account = accounts.acting_account(session, actor, "lift", lock=True)
    inst = instruments.get(session, instrument_code)
    side, quantity = _side(side), instruments.lot(quantity)
    bound = None if limit_price is None else instruments.price_fen(limit_price, "limit_price")
    now = sessions.require_open(session)
    day = now.date()
    instruments.tradeable(session, inst, day)
    check_restrictions(session, account, inst)
    check_holding_period(session, account, inst, side, day)
    other = "sell" if side == "buy" else "buy"
    price_order = Order.price.asc() if other == "sell" else Order.price.desc()
    candidates = session.execute(select(Order).where(Order.instrument_id == inst.id, Order.side == other, Order.status == "open",
                                                     Order.method == "listing", Order.trading_account_id != account.id)
                                 .order_by(price_order, Order.id).with_for_update()).scalars()
    fills, need = [], quantity
    for order in candidates:
        if need == 0 or (bound is not None and (order.price > bound if side == "buy" else order.price < bound)):
            break
        take = min(need, order.quantity - order.filled)
        fills.append(Fill(order, take))
        need -= take
    if not fills:
        raise Conflict(f"no listed {other} order of {inst.code} to lift" + (f" at {bound / 100:.2f} or better" if bound else ""),
                       field="quantity", rule="Trading Rules Art. 12: 摘牌 lifts listed orders")
    risk.check_position_limit(session, account, inst, side, quantity - need)
    return _trade(session, actor, inst, account, side, fills, day, now)


def _trade(session: Session, actor: Actor, inst: Instrument, taker: TradingAccount, side: str, fills: list[Fill], day, now) -> list[Trade]:
    makers = {a.id: a for a in session.execute(select(TradingAccount).where(
        TradingAccount.id.in_({f.order.trading_account_id for f in fills}))).scalars()}
    matched, touched = [], set()
    for fill in fills:
        order, q = fill.order, fill.quantity
        maker = makers[fill.order.trading_account_id]
        accounts.usable(maker)
        if side == "buy":  # the taker buys from a listed sell order (its units already reserved)
            touched.add(("fund_account", reserve_funds(session, taker, fees.buy_cost("listing", order.price * q)).id))
            matched.append(deals.Deal(taker.id, maker.id, None, order.id, order.price, q))
        else:  # the taker sells into a listed buy order (its funds already reserved for the whole order)
            touched.add(("position", reserve_sale(session, taker, inst, q).id))
            rebalanced = _rebalance_buy_reservation(session, maker, order, q)
            if rebalanced:
                touched.add(rebalanced)
            matched.append(deals.Deal(maker.id, taker.id, order.id, None, order.price, q))
        order.filled += q
        if order.filled == order.quantity:
            order.status = "filled"
        touched.add(("order", order.id))
    trades = deals.make_trades(session, "listing", inst.id, day, now, matched)
    for trade in trades:
        ledger.record(session, actor, "market.traded", "trade", trade.id, touches=sorted(touched))
    return trades


def _rebalance_buy_reservation(session: Session, buyer: TradingAccount, order: Order, q: int) -> tuple[str, int] | None:
    """A listed buy order reserved price × remaining plus commission; a fill of q turns part of it into the
    trade's exact cost (rounding of the commission may differ by a fen either way)."""
    amount = order.price * q
    before = fees.buy_cost("listing", order.price * (order.quantity - order.filled))
    after = fees.buy_cost("listing", order.price * (order.quantity - order.filled - q))
    delta = fees.buy_cost("listing", amount) - (before - after)
    if not delta:
        return None
    funds = accounts.funds_of(session, buyer, lock=True)
    funds.reserved += delta
    return ("fund_account", funds.id)


def release(session: Session, order: Order) -> tuple[str, int] | None:
    """Give back what an order's open remainder holds; the subject it changed."""
    remaining = order.quantity - order.filled
    if remaining <= 0:
        return None
    if order.side == "sell":
        pos = positions.position(session, order.trading_account_id, order.instrument_id, lock=True)
        pos.reserved -= remaining
        return ("position", pos.id)
    account = session.get(TradingAccount, order.trading_account_id)
    funds = accounts.funds_of(session, account, lock=True)
    funds.reserved -= fees.buy_cost(fees.schedule(order.method), order.price * remaining)
    return ("fund_account", funds.id)


@mutating
def cancel(session: Session, actor: Actor, order_id: int) -> Order:
    """Cancel the unfilled remainder of one's own open order (a filled part is final, Art. 19)."""
    account = accounts.acting_account(session, actor, "order")
    order = fetch(session, Order, order_id, "order", "order_id", with_for_update=True)
    if order.trading_account_id != account.id:
        raise Forbidden("only the participant's own orders", field="order_id")
    if order.method != "listing":  # a block agreement's or an auction's reservation ends with it (blocks.py, auctions.py)
        raise Conflict(f"order {order.id} belongs to a {'block agreement' if order.method == 'block' else 'one-way auction'}; "
                       "withdraw it there", field="order_id", rule="Trading Rules Art. 13–14")
    if order.status != "open":
        raise Conflict(f"order {order.id} is {order.status}", field="order_id", rule="Trading Rules Art. 19: a filled order is final")
    released = release(session, order)
    order.status = "cancelled"
    session.flush()
    ledger.record(session, actor, "market.order_cancelled", "order", order.id, touches=[released] if released else [])
    return order


def expire_open(session: Session, actor: Actor, day: date) -> int:
    """At the close: every order still open is cancelled, its remainder released ([S7])."""
    touched, expired = set(), []
    for order in session.execute(select(Order).where(Order.status == "open", Order.day <= day).order_by(Order.id)
                                 .with_for_update()).scalars():
        released = release(session, order)
        if released:
            touched.add(released)
        order.status = "expired"
        expired.append(("order", order.id))
    session.flush()
    if expired:
        ledger.record(session, actor, "market.orders_expired", "market_day", day.isoformat(), {"orders": len(expired)},
                      touches=sorted(touched) + expired)
    return len(expired)


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_fields("order", Order, ("instrument_id", "trading_account_id", "method", "side", "price", "quantity", "filled", "status"))
    ledger.register_fields("trade", Trade, ("ref", "day", "instrument_id", "method", "buyer_id", "seller_id", "price", "quantity", "amount",
                                            "buyer_fee", "seller_fee", "status", "transfer_id"))
