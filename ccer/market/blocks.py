"""大宗协议 (block agreement, Trading Rules Art. 13, 16, 18, 21): a negotiated trade of at least the minimum
quantity in one instrument, within ±30 % of the day's reference price. One side enters it naming its
counterparty (proposed), the counterparty confirms (agreed), the exchange confirms (confirmed: the trade is
made, final, and settles after the close like every trade). Each side is funded and reserves when it commits —
the seller its position, the buyer price × quantity plus the commission — through an Order of method "block",
so reconciliation accounts for it like any order. Sessions 9:30–11:30 and 13:00–15:00; the 5-trading-day
rule, position limits and every trading restriction apply to both sides, and are checked again when the
exchange confirms. The initiator may cancel, and the counterparty decline, until the counterparty has
confirmed; after that only the exchange ends it (rejection). What is not confirmed by the close expires.

The minimum is "announced separately" and UNCONFIRMED for CCER (ccer-rules.md §7): `CCER_MARKET_BLOCK_MINIMUM`
(tCO2e), default 100,000 t — the national ETS's 大宗协议 minimum for one declaration, by analogy only."""
from __future__ import annotations

import os
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, ValidationError
from . import accounts, deals, fees, instruments, orders, risk, sessions
from .models import BlockAgreement, Instrument, Operator, Order, Trade, TradingAccount

MINIMUM_ENV = "CCER_MARKET_BLOCK_MINIMUM"
DEFAULT_MINIMUM = 100_000  # UNCONFIRMED (see above)
MINIMUM_RULE = "Trading Rules Art. 13: 大宗协议 from the single-instrument minimum the exchange announces"
RULE = "Trading Rules Art. 13: 大宗协议 — entered by one side naming the other, confirmed by the other, then by the exchange"
OPEN = ("proposed", "agreed")


def minimum() -> int:
    """The block minimum in tCO2e: `CCER_MARKET_BLOCK_MINIMUM`, else 100,000 (UNCONFIRMED)."""
    raw = os.environ.get(MINIMUM_ENV, "").strip()
    if not raw:
        return DEFAULT_MINIMUM
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MINIMUM_ENV}={raw!r}: a whole number of tCO2e ≥ 1")
    return int(raw)


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def _checks(session: Session, account: TradingAccount, inst: Instrument, side: str, quantity: int, day: date) -> None:
    """Everything one side must satisfy to commit to (or be held to) a block: instrument listed and not halted,
    no restriction, the 5-trading-day rule, its maximum position."""
    instruments.tradeable(session, inst, day)
    orders.check_restrictions(session, account, inst)
    orders.check_holding_period(session, account, inst, side, day)
    risk.check_position_limit(session, account, inst, side, quantity)


def _reserve(session: Session, account: TradingAccount, inst: Instrument, side: str, price: int, quantity: int) -> tuple[str, int]:
    if side == "sell":
        return ("position", orders.reserve_sale(session, account, inst, quantity).id)
    return ("fund_account", orders.reserve_funds(session, account, fees.buy_cost("block", price * quantity)).id)


def _order(session: Session, actor: Actor, account: TradingAccount, inst: Instrument, side: str, price: int, quantity: int,
           counterparty_id: int, now) -> Order:
    order = Order(instrument_id=inst.id, trading_account_id=account.id, operator_user_id=actor.user_id, method="block", side=side,
                  price=price, quantity=quantity, filled=0, status="open", day=now.date(), entered_at=now, counterparty_id=counterparty_id)
    session.add(order)
    session.flush()
    return order


@mutating
def propose(session: Session, actor: Actor, instrument_code: str, side: str, price, quantity: int, counterparty) -> BlockAgreement:
    """Enter a block agreement naming the counterparty's trading account; the entering side reserves now."""
    account = accounts.acting_account(session, actor, "block", lock=True)
    inst = instruments.get(session, instrument_code)
    if side not in orders.SIDES:
        raise ValidationError("buy or sell", field="side")
    price, quantity = instruments.price_fen(price), instruments.lot(quantity)
    least = minimum()
    if quantity < least:
        raise ValidationError(f"{quantity} t is below the block minimum of {least} t", field="quantity", rule=MINIMUM_RULE)
    try:
        other = accounts.get_account(session, counterparty)
    except NotFound as err:
        raise NotFound(err.message, field="counterparty") from None
    if other.id == account.id:
        raise ValidationError("the counterparty is another participant", field="counterparty", rule=RULE)
    now = sessions.require_open(session)
    day = now.date()
    _checks(session, account, inst, side, quantity, day)
    instruments.check_limit(session, inst, price, "block", day)
    if other.status != "open":
        raise Conflict(f"trading account {other.number} is {other.status}", field="counterparty", rule="Trading Rules Art. 27: trading restricted")
    reserved = _reserve(session, account, inst, side, price, quantity)
    order = _order(session, actor, account, inst, side, price, quantity, other.id, now)
    agreement = BlockAgreement(instrument_id=inst.id, initiator_id=account.id, side=side, counterparty_id=other.id, price=price,
                               quantity=quantity, initiator_order_id=order.id, status="proposed", day=day, entered_at=now)
    session.add(agreement)
    session.flush()
    ledger.record(session, actor, "market.block_proposed", "block_agreement", agreement.id, touches=[("order", order.id), reserved])
    return agreement


def _agreement(session: Session, agreement_id: int) -> BlockAgreement:
    return fetch(session, BlockAgreement, agreement_id, "block agreement", "agreement_id", with_for_update=True)


def _today(session: Session, ag: BlockAgreement):
    now = sessions.require_open(session)
    if ag.day != now.date():
        raise Conflict(f"block agreement {ag.id} was entered on {ag.day} and expired at its close", field="agreement_id", rule=RULE)
    return now


@mutating
def accept(session: Session, actor: Actor, agreement_id: int) -> BlockAgreement:
    """The named counterparty confirms, and reserves its side."""
    account = accounts.acting_account(session, actor, "block", lock=True)
    ag = _agreement(session, agreement_id)
    if ag.counterparty_id != account.id:
        raise Forbidden(f"block agreement {ag.id} names another counterparty; only it confirms", field="agreement_id", rule=RULE)
    if ag.status != "proposed":
        raise Conflict(f"block agreement {ag.id} is {ag.status}", field="agreement_id", rule=RULE)
    now = _today(session, ag)
    inst = session.get(Instrument, ag.instrument_id)
    side = _opposite(ag.side)
    _checks(session, account, inst, side, ag.quantity, now.date())
    reserved = _reserve(session, account, inst, side, ag.price, ag.quantity)
    order = _order(session, actor, account, inst, side, ag.price, ag.quantity, ag.initiator_id, now)
    ag.counterparty_order_id, ag.status, ag.agreed_at = order.id, "agreed", now
    session.flush()
    ledger.record(session, actor, "market.block_agreed", "block_agreement", ag.id, touches=[("order", order.id), reserved])
    return ag


def _end(session: Session, ag: BlockAgreement, status: str, order_status: str) -> list[tuple[str, int]]:
    """Release whatever the agreement's open orders hold; the subjects changed."""
    touched = []
    for oid in (ag.initiator_order_id, ag.counterparty_order_id):
        if oid is None:
            continue
        order = session.get(Order, oid, with_for_update=True)
        if order.status == "open":
            released = orders.release(session, order)
            order.status = order_status
            touched += [("order", order.id)] + ([released] if released else [])
    ag.status = status
    return touched


@mutating
def cancel(session: Session, actor: Actor, agreement_id: int) -> BlockAgreement:
    """The initiator withdraws its proposal, or the counterparty declines it — until the counterparty has
    confirmed."""
    account = accounts.acting_account(session, actor, "block")
    ag = _agreement(session, agreement_id)
    if account.id not in (ag.initiator_id, ag.counterparty_id):
        raise Forbidden("only the two sides of a block agreement", field="agreement_id", rule=RULE)
    if ag.status != "proposed":
        raise Conflict(f"block agreement {ag.id} is {ag.status}" + ("; the exchange may still reject it" if ag.status == "agreed" else ""),
                       field="agreement_id", rule=RULE)
    status = "cancelled" if account.id == ag.initiator_id else "declined"
    touched = _end(session, ag, status, "cancelled")
    ag.decided_at = sessions.local_now(session)
    session.flush()
    ledger.record(session, actor, f"market.block_{status}", "block_agreement", ag.id, touches=touched)
    return ag


@mutating
def confirm(session: Session, actor: Actor, agreement_id: int) -> BlockAgreement:
    """The exchange confirms an agreed block: the trade is made (method "block", pending settlement). Both sides
    are checked again — a restriction, a halt or a trade that started the 5-day rule since takes effect."""
    policy.require(actor, "market.block.confirm")
    ag = _agreement(session, agreement_id)
    if ag.status != "agreed":
        raise Conflict(f"block agreement {ag.id} is {ag.status}; the exchange confirms an agreed one", field="agreement_id", rule=RULE)
    now = _today(session, ag)
    inst = session.get(Instrument, ag.instrument_id)
    initiator, counterparty = session.get(TradingAccount, ag.initiator_id), session.get(TradingAccount, ag.counterparty_id)
    mine = session.get(Order, ag.initiator_order_id, with_for_update=True)
    theirs = session.get(Order, ag.counterparty_order_id, with_for_update=True)
    for order in (mine, theirs):
        if order.status != "open":  # e.g. a move out of the trading account took back the reserved units
            raise Conflict(f"order {order.id} of block agreement {ag.id} is {order.status}; reject the agreement", field="agreement_id", rule=RULE)
    instruments.tradeable(session, inst, now.date())
    for account, side in ((initiator, ag.side), (counterparty, _opposite(ag.side))):
        orders.check_restrictions(session, account, inst)
        orders.check_holding_period(session, account, inst, side, now.date())
    buy, sell = (mine, theirs) if ag.side == "buy" else (theirs, mine)
    [trade] = deals.make_trades(session, "block", inst.id, now.date(), now, [deals.Deal(
        buyer_id=buy.trading_account_id, seller_id=sell.trading_account_id, buy_order_id=buy.id, sell_order_id=sell.id,
        price=ag.price, quantity=ag.quantity)])
    for order in (buy, sell):
        order.filled, order.status = order.quantity, "filled"
    ag.status, ag.trade_id, ag.decided_at = "confirmed", trade.id, now
    session.flush()
    ledger.record(session, actor, "market.block_confirmed", "block_agreement", ag.id, touches=[("order", buy.id), ("order", sell.id)])
    ledger.record(session, actor, "market.traded", "trade", trade.id, {"block_agreement": ag.id})
    return ag


@mutating
def reject(session: Session, actor: Actor, agreement_id: int, reason: str) -> BlockAgreement:
    """The exchange refuses a proposed or agreed block; both sides' reservations are released."""
    policy.require(actor, "market.block.confirm")
    ag = _agreement(session, agreement_id)
    if ag.status not in OPEN:
        raise Conflict(f"block agreement {ag.id} is {ag.status}", field="agreement_id", rule=RULE)
    text = (reason or "").strip()
    if not text or len(text) > 500:
        raise ValidationError("the reason, 1–500 characters", field="reason")
    touched = _end(session, ag, "rejected", "cancelled")
    ag.reason, ag.decided_at = text, sessions.local_now(session)
    session.flush()
    ledger.record(session, actor, "market.block_rejected", "block_agreement", ag.id, {"reason": text}, touches=touched)
    return ag


def expire(session: Session, actor: Actor, day: date) -> int:
    """At the close (settlement.settle_day): every block agreement of the day not confirmed expires, its
    reservations released. Returns the number of orders expired (as orders.expire_open does)."""
    agreements = list(session.execute(select(BlockAgreement).where(BlockAgreement.status.in_(OPEN), BlockAgreement.day <= day)
                                      .order_by(BlockAgreement.id).with_for_update()).scalars())
    touched = []
    for ag in agreements:
        touched += _end(session, ag, "expired", "expired")
        touched.append(("block_agreement", ag.id))
    session.flush()
    if agreements:
        ledger.record(session, actor, "market.blocks_expired", "market_day", day.isoformat(), {"agreements": len(agreements)},
                      touches=sorted(set(touched)))
    return sum(1 for kind, _ in touched if kind == "order")


# ---- reading ----------------------------------------------------------------------------------------------


def viewer_account(session: Session, actor: Actor) -> TradingAccount | None:
    """The trading account the actor operates, if any (for what a participant may see)."""
    if actor.user_id is None:
        return None
    return session.execute(select(TradingAccount).join(Operator, Operator.trading_account_id == TradingAccount.id)
                           .where(Operator.user_id == actor.user_id)).scalar_one_or_none()


def as_dict(session: Session, ag: BlockAgreement) -> dict:
    number = dict(session.execute(select(TradingAccount.id, TradingAccount.number).where(
        TradingAccount.id.in_((ag.initiator_id, ag.counterparty_id)))).all())
    inst = session.get(Instrument, ag.instrument_id)
    trade_ref = None
    if ag.trade_id:
        trade_ref = session.get(Trade, ag.trade_id).ref
    return {"id": ag.id, "instrument": inst.code, "initiator": number[ag.initiator_id], "side": ag.side,
            "counterparty": number[ag.counterparty_id], "price": ag.price, "quantity": ag.quantity, "amount": ag.price * ag.quantity,
            "status": ag.status, "day": ag.day.isoformat(), "entered_at": ag.entered_at.isoformat(),
            "agreed_at": ag.agreed_at.isoformat() if ag.agreed_at else None,
            "decided_at": ag.decided_at.isoformat() if ag.decided_at else None, "trade": trade_ref, "reason": ag.reason}


def agreements(session: Session, actor: Actor, status: str | None = None, day: date | None = None) -> list[dict]:
    """Block agreements the actor may see: the exchange (and the registry) all of them, a participant's
    operator those naming its account on either side. Negotiations are not public; their trades are (market
    data)."""
    stmt = select(BlockAgreement).order_by(BlockAgreement.id.desc())
    if not policy.can(actor, "market.read"):
        account = viewer_account(session, actor)
        if account is None:
            raise Forbidden("block agreements are seen by their two sides and the exchange", field="actor", rule=RULE)
        stmt = stmt.where(or_(BlockAgreement.initiator_id == account.id, BlockAgreement.counterparty_id == account.id))
    if status:
        stmt = stmt.where(BlockAgreement.status == status)
    if day:
        stmt = stmt.where(BlockAgreement.day == day)
    return [as_dict(session, ag) for ag in session.execute(stmt).scalars()]


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.block.confirm", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 13")
    ledger.register_fields("block_agreement", BlockAgreement, ("instrument_id", "initiator_id", "side", "counterparty_id", "price", "quantity",
                                                               "initiator_order_id", "counterparty_order_id", "status", "day", "trade_id"))
