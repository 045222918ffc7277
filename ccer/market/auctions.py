"""单向竞价 (one-way auction, Trading Rules Art. 14, 18, 22): an initiator sells (or buys) a quantity of one
instrument with a reserve price, in a window of one trading day; bidders submit sealed, funded bids
(Orders of method "bid" naming the auction) while it is open; at its end the bids are allocated by price,
then time — for a sell auction the highest bid first, for a buy auction the lowest offer first — the last
winning bid partially if the quantity runs out. Pricing is chosen per auction: uniform (every winner at the
lowest accepted bid of a sell auction, the highest accepted offer of a buy auction) or pay-as-bid (each at its
own price). Results are published; the trades (method "auction") settle after the close like every trade.

Funding: the initiator's side is reserved when the auction is announced (its Order of method "auction": the
quantity for a sale, reserve price × quantity plus the commission for a purchase), each bid when it is
entered; at the close the winners' reservations become their trades' exact cost and everything else is
released. No price limit is stated for 单向竞价 (Art. 16); a sell auction refuses bids below its reserve, a buy
auction offers above it. The 5-trading-day rule, position limits and every trading restriction apply at entry
and again at the close (a bidder restricted since is left out; an initiator restricted, a halted instrument or a
suspended project cancels the auction). Hours are "announced separately": a window lies within 9:30–15:00 of
one trading day, so that every auction is closed and settled at that day's close (settlement.settle_day).

Bids are sealed through the platform (a participant sees only its own until the close). The event log vouches
for every bid's order and reservation as it is made, as it does for every change: readers of the full
ledger export see them at once."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar, clock
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, DomainError, Forbidden, ValidationError
from . import accounts, deals, fees, instruments, orders, positions, risk, sessions
from .blocks import viewer_account
from .models import Auction, FundAccount, Instrument, Order, Position, TradingAccount

PRICING = ("uniform", "pay_as_bid")
RULE = "Trading Rules Art. 14: 单向竞价 — sealed bids within the window, allocated by price then time"
WINDOW_RULE = "Trading Rules Art. 14, 22: 单向竞价 hours announced separately (here: within 9:30–15:00 of one trading day)"
RESERVE_RULE = "Trading Rules Art. 14: bids at or above a sell auction's reserve price, offers at or below a buy auction's"
HOURS = (time(9, 30), time(15, 0))


def _moment(value, field: str) -> datetime:
    """A Beijing-time instant from a datetime (naive = Beijing time) or ISO 8601 text."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(f"not a date and time: {value!r} (ISO 8601, e.g. 2026-12-08T10:00+08:00)", field=field) from None
    if not isinstance(value, datetime):
        raise ValidationError("a date and time", field=field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.CST)
    return value.astimezone(clock.CST)


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def _reserve(session: Session, account: TradingAccount, inst: Instrument, side: str, price: int, quantity: int) -> tuple[str, int]:
    if side == "sell":
        return ("position", orders.reserve_sale(session, account, inst, quantity).id)
    return ("fund_account", orders.reserve_funds(session, account, fees.buy_cost("auction", price * quantity)).id)


@mutating
def create(session: Session, actor: Actor, instrument_code: str, side: str, quantity: int, reserve_price, window_start, window_end,
           pricing: str = "uniform") -> Auction:
    """Announce a one-way auction: the initiator sells (side "sell") or buys ("buy") `quantity` t at a reserve
    price, bids taken in [window_start, window_end); its side is reserved now."""
    account = accounts.acting_account(session, actor, "auction", lock=True)
    inst = instruments.get(session, instrument_code)
    if side not in orders.SIDES:
        raise ValidationError("buy or sell", field="side")
    quantity, reserve = instruments.lot(quantity), instruments.price_fen(reserve_price, "reserve_price")
    if pricing not in PRICING:
        raise ValidationError(f"one of {', '.join(PRICING)}", field="pricing", rule=RULE)
    start, end = _moment(window_start, "window_start"), _moment(window_end, "window_end")
    if end <= start:
        raise ValidationError("the window ends after it starts", field="window_end", rule=WINDOW_RULE)
    day = start.date()
    if not calendar.is_trading_day(day):
        raise ValidationError(f"{day} is not a trading day", field="window_start", rule=WINDOW_RULE)
    if end.date() != day or start.time() < HOURS[0] or end.time() > HOURS[1]:
        raise ValidationError(f"the window {start:%Y-%m-%d %H:%M}–{end:%H:%M} is not within 9:30–15:00 of one trading day",
                              field="window_end" if start.time() >= HOURS[0] else "window_start", rule=WINDOW_RULE)
    now = sessions.require_open(session)
    if start < now:
        raise ValidationError(f"the window starts at {start:%Y-%m-%d %H:%M}, before now ({now:%Y-%m-%d %H:%M})", field="window_start",
                              rule=WINDOW_RULE)
    instruments.tradeable(session, inst, day)
    orders.check_restrictions(session, account, inst)
    orders.check_holding_period(session, account, inst, side, day)
    risk.check_position_limit(session, account, inst, side, quantity)
    reserved = _reserve(session, account, inst, side, reserve, quantity)
    order = Order(instrument_id=inst.id, trading_account_id=account.id, operator_user_id=actor.user_id, method="auction", side=side,
                  price=reserve, quantity=quantity, filled=0, status="open", day=day, entered_at=now)
    session.add(order)
    session.flush()
    auction = Auction(instrument_id=inst.id, initiator_id=account.id, side=side, quantity=quantity, reserve_price=reserve, pricing=pricing,
                      day=day, window_start=start, window_end=end, order_id=order.id, status="announced", created_at=now)
    session.add(auction)
    session.flush()
    order.auction_id = auction.id
    session.flush()
    ledger.record(session, actor, "market.auction_announced", "auction", auction.id,
                  {"window_start": start.isoformat(), "window_end": end.isoformat()}, touches=[("order", order.id), reserved])
    return auction


def _auction(session: Session, auction_id: int, **options) -> Auction:
    return fetch(session, Auction, auction_id, "auction", "auction_id", **options)


def _window(auction: Auction) -> str:
    start, end = clock.local(auction.window_start), clock.local(auction.window_end)
    return f"{start:%Y-%m-%d %H:%M:%S}–{end:%H:%M:%S}"


@mutating
def cancel(session: Session, actor: Actor, auction_id: int, reason: str = "") -> Auction:
    """The initiator (or the exchange) withdraws an announced auction before its window opens."""
    auction = _auction(session, auction_id, with_for_update=True)
    if not policy.can(actor, "market.auction.manage"):
        account = accounts.acting_account(session, actor, "auction")
        if account.id != auction.initiator_id:
            raise Forbidden("only the initiator or the exchange withdraws an auction", field="auction_id", rule=RULE)
    if auction.status != "announced":
        raise Conflict(f"auction {auction.id} is {auction.status}", field="auction_id", rule=RULE)
    if sessions.local_now(session) >= clock.local(auction.window_start):
        raise Conflict(f"auction {auction.id}'s window ({_window(auction)}) has opened; it runs to its end", field="auction_id", rule=RULE)
    touched = _call_off(session, auction, (reason or "").strip()[:500] or "withdrawn before its window")
    ledger.record(session, actor, "market.auction_cancelled", "auction", auction.id, {"reason": auction.reason}, touches=touched)
    return auction


def _call_off(session: Session, auction: Auction, reason: str) -> list[tuple[str, int]]:
    """Cancel the auction: its own reservation and every open bid's are released."""
    touched = []
    for order in session.execute(select(Order).where(Order.auction_id == auction.id, Order.status == "open")
                                 .order_by(Order.id).with_for_update()).scalars():
        released = orders.release(session, order)
        order.status = "cancelled" if order.method == "auction" else "void"
        touched += [("order", order.id)] + ([released] if released else [])
    auction.status, auction.reason, auction.closed_at = "cancelled", reason, sessions.local_now(session)
    session.flush()
    return sorted(set(touched))


@mutating
def bid(session: Session, actor: Actor, auction_id: int, price, quantity: int) -> Order:
    """A sealed, funded bid (an offer, in a buy auction) while the window is open."""
    account = accounts.acting_account(session, actor, "auction", lock=True)
    auction = _auction(session, auction_id, with_for_update={"read": True})  # the close waits for bids being entered
    price, quantity = instruments.price_fen(price), instruments.lot(quantity)
    if auction.status != "announced":
        raise Conflict(f"auction {auction.id} is {auction.status}", field="auction_id", rule=RULE)
    now = sessions.local_now(session)
    if not clock.local(auction.window_start) <= now < clock.local(auction.window_end):
        raise Conflict(f"auction {auction.id} takes bids {_window(auction)}; it is {now:%Y-%m-%d %H:%M:%S}", field="time", rule=WINDOW_RULE)
    if account.id == auction.initiator_id:
        raise Forbidden("the initiator does not bid in its own auction", field="auction_id", rule=RULE)
    if quantity > auction.quantity:
        raise ValidationError(f"the auction offers {auction.quantity} t", field="quantity", rule=RULE)
    if auction.side == "sell" and price < auction.reserve_price or auction.side == "buy" and price > auction.reserve_price:
        word = "below" if auction.side == "sell" else "above"
        raise ValidationError(f"{price / 100:.2f} CNY/t is {word} the reserve price {auction.reserve_price / 100:.2f}", field="price",
                              rule=RESERVE_RULE)
    inst = session.get(Instrument, auction.instrument_id)
    side = _opposite(auction.side)
    instruments.tradeable(session, inst, auction.day)
    orders.check_restrictions(session, account, inst)
    orders.check_holding_period(session, account, inst, side, auction.day)
    risk.check_position_limit(session, account, inst, side, quantity)
    reserved = _reserve(session, account, inst, side, price, quantity)
    order = Order(instrument_id=inst.id, trading_account_id=account.id, operator_user_id=actor.user_id, method="bid", side=side,
                  price=price, quantity=quantity, filled=0, status="open", day=auction.day, entered_at=now, auction_id=auction.id)
    session.add(order)
    session.flush()
    ledger.record(session, actor, "market.bid_entered", "order", order.id, {"auction": auction.id}, touches=[reserved])
    return order


@mutating
def withdraw_bid(session: Session, actor: Actor, order_id: int) -> Order:
    """The bidder withdraws its own bid while the window is open; its reservation is released."""
    account = accounts.acting_account(session, actor, "auction")
    order = fetch(session, Order, order_id, "bid", "order_id", with_for_update=True)
    if order.method != "bid" or order.trading_account_id != account.id:
        raise Forbidden("only the participant's own bids", field="order_id", rule=RULE)
    auction = _auction(session, order.auction_id)
    now = sessions.local_now(session)
    if order.status != "open" or auction.status != "announced" or not now < clock.local(auction.window_end):
        raise Conflict(f"bid {order.id} is {order.status}; bids are withdrawn while the window ({_window(auction)}) is open",
                       field="order_id", rule=RULE)
    released = orders.release(session, order)
    order.status = "cancelled"
    session.flush()
    ledger.record(session, actor, "market.bid_withdrawn", "order", order.id, {"auction": auction.id}, touches=[released] if released else [])
    return order


# ---- the close: allocation and pricing ---------------------------------------------------------------------


def priority(auction: Auction):
    """Best first: a sell auction's highest bid, a buy auction's lowest offer; then the earlier; then the lower id."""
    if auction.side == "sell":
        return lambda o: (-o.price, o.entered_at, o.id)
    return lambda o: (o.price, o.entered_at, o.id)


def allocate(auction: Auction, bids: list[Order]) -> tuple[list[tuple[Order, int]], int | None]:
    """(winning bids with the tonnes each gets, in priority order; the uniform clearing price or None).
    The quantity goes down the bids in priority; the last winning bid may get part of what it asked."""
    winners, left = [], auction.quantity
    for b in sorted(bids, key=priority(auction)):
        if left == 0:
            break
        take = min(left, b.quantity - b.filled)
        winners.append((b, take))
        left -= take
    clearing = winners[-1][0].price if winners and auction.pricing == "uniform" else None
    return winners, clearing


def _eligible(session: Session, account: TradingAccount, inst: Instrument, side: str, day: date) -> str | None:
    try:
        orders.check_restrictions(session, account, inst)
        orders.check_holding_period(session, account, inst, side, day)
    except DomainError as err:
        return str(err)
    return None


@mutating
def close(session: Session, actor: Actor, auction_id: int) -> Auction:
    """The exchange closes an auction once its window has ended: allocation, trades, results (settle_day closes
    any still announced at the day's close)."""
    policy.require(actor, "market.auction.manage")
    auction = _auction(session, auction_id, with_for_update=True)
    return _close(session, actor, auction)


def close_due(session: Session, actor: Actor, day: date) -> int:
    """At the close (settlement.settle_day): every auction of the day (or before) still announced is closed."""
    n = 0
    for auction in list(session.execute(select(Auction).where(Auction.status == "announced", Auction.day <= day)
                                        .order_by(Auction.id).with_for_update()).scalars()):
        _close(session, actor, auction)
        n += 1
    return n


def _close(session: Session, actor: Actor, auction: Auction) -> Auction:
    if auction.status != "announced":
        raise Conflict(f"auction {auction.id} is {auction.status}", field="auction_id", rule=RULE)
    now = sessions.local_now(session)
    if now < clock.local(auction.window_end):
        raise Conflict(f"auction {auction.id} takes bids until {_window(auction)}", field="time", rule=WINDOW_RULE)
    inst = session.get(Instrument, auction.instrument_id)
    initiator = session.get(TradingAccount, auction.initiator_id)
    own = session.get(Order, auction.order_id, with_for_update=True)
    why = None
    if own.status != "open":  # a move out of the trading account took back what it reserved (instruments._cancel_to_cover)
        why = f"the initiator's reservation (order {own.id}) is {own.status}"
    elif inst.halted:
        why = f"{inst.code} is halted (Trading Rules Art. 23)"
    else:
        why = _eligible(session, initiator, inst, auction.side, auction.day)
    if why:
        touched = _call_off(session, auction, why)
        ledger.record(session, actor, "market.auction_cancelled", "auction", auction.id, {"reason": why}, touches=touched)
        return auction

    bids = list(session.execute(select(Order).where(Order.auction_id == auction.id, Order.method == "bid", Order.status == "open")
                                .order_by(Order.id).with_for_update()).scalars())
    bidders = {a.id: a for a in session.execute(select(TradingAccount).where(
        TradingAccount.id.in_({b.trading_account_id for b in bids}))).scalars()} if bids else {}
    touched: set[tuple[str, int]] = {("order", own.id)}
    valid, void = [], {}
    for b in bids:
        reason = _eligible(session, bidders[b.trading_account_id], inst, b.side, auction.day)
        if reason:
            void[b.id] = reason
        else:
            valid.append(b)
    winners, clearing = allocate(auction, valid)
    got = {b.id: q for b, q in winners}
    bidders_buy = auction.side == "sell"
    trades = deals.make_trades(session, "auction", inst.id, auction.day, now, [
        deals.Deal(buyer_id=b.trading_account_id if bidders_buy else initiator.id, seller_id=initiator.id if bidders_buy else b.trading_account_id,
                   buy_order_id=b.id if bidders_buy else own.id, sell_order_id=own.id if bidders_buy else b.id,
                   price=clearing if clearing is not None else b.price, quantity=q)
        for b, q in winners])
    cost_of_bid = {b.id: t.amount + t.buyer_fee for (b, _), t in zip(winners, trades)}

    def funds(account_id: int) -> FundAccount:
        f = accounts.funds_of(session, session.get(TradingAccount, account_id), lock=True)
        touched.add(("fund_account", f.id))
        return f

    def position(account_id: int) -> Position:
        p = positions.position(session, account_id, inst.id, lock=True)
        touched.add(("position", p.id))
        return p

    # the bids: winners' reservations become their trades' cost, the rest is released
    for b in bids:
        a = got.get(b.id, 0)
        if bidders_buy:
            funds(b.trading_account_id).reserved += cost_of_bid.get(b.id, 0) - fees.buy_cost("auction", b.price * b.quantity)
        else:
            position(b.trading_account_id).reserved -= b.quantity - a
        b.filled = a
        b.status = "void" if b.id in void else "filled" if a == b.quantity else "partial" if a else "lost"
        touched.add(("order", b.id))
    # the initiator: what was not allocated is released; a buyer's reservation becomes its trades' cost
    allocated = sum(got.values())
    if bidders_buy:
        position(initiator.id).reserved -= auction.quantity - allocated
    else:
        # rounding the commission per trade may differ from the reservation's by a fen or so, as for listing fills
        funds(initiator.id).reserved += sum(cost_of_bid.values()) - fees.buy_cost("auction", auction.reserve_price * auction.quantity)
    own.filled = allocated
    own.status = "filled" if allocated == auction.quantity else "partial" if allocated else "expired"
    auction.status, auction.closed_at = "closed", now
    auction.bids, auction.bidders, auction.winners = len(valid), len({b.trading_account_id for b in valid}), len(winners)
    auction.allocated, auction.turnover, auction.clearing_price = allocated, sum(t.amount for t in trades), clearing
    session.flush()
    ledger.record(session, actor, "market.auction_closed", "auction", auction.id,
                  {"void": {str(k): v for k, v in void.items()}} if void else None, touches=sorted(touched))
    for t in trades:
        ledger.record(session, actor, "market.traded", "trade", t.id, {"auction": auction.id})
    return auction


# ---- reading ----------------------------------------------------------------------------------------------


def _summary(session: Session, auction: Auction) -> dict:
    inst = session.get(Instrument, auction.instrument_id)
    initiator = session.get(TradingAccount, auction.initiator_id)
    out = {"id": auction.id, "instrument": inst.code, "initiator": initiator.number, "side": auction.side, "quantity": auction.quantity,
           "reserve_price": auction.reserve_price, "pricing": auction.pricing, "day": auction.day.isoformat(),
           "window_start": clock.local(auction.window_start).isoformat(), "window_end": clock.local(auction.window_end).isoformat(),
           "status": auction.status, "reason": auction.reason, "results": None}
    if auction.status == "closed":
        out["results"] = {"closed_at": clock.local(auction.closed_at).isoformat(), "bids": auction.bids, "bidders": auction.bidders,
                          "winners": auction.winners, "allocated": auction.allocated, "unallocated": auction.quantity - auction.allocated,
                          "turnover": auction.turnover, "clearing_price": auction.clearing_price,
                          "average_price": round(auction.turnover / auction.allocated) if auction.allocated else None}
    return out


def announcements(session: Session, day: date | None = None, status: str | None = None) -> list[dict]:
    """Public: auctions as announced, with their results once closed (never a bid before the close)."""
    stmt = select(Auction).order_by(Auction.day.desc(), Auction.window_start, Auction.id)
    if day:
        stmt = stmt.where(Auction.day == day)
    if status:
        stmt = stmt.where(Auction.status == status)
    return [_summary(session, a) for a in session.execute(stmt).scalars()]


def results(session: Session, auction_id: int, actor: Actor | None = None) -> dict:
    """Public: an auction and, once closed, its results — the allocation bid by bid in priority order (price,
    quantity, time, what it got and at what price). Who bid is shown to the exchange and the registry, and to
    the initiator and each bidder for its own bids; before the close no bid is shown to anyone but its bidder."""
    auction = _auction(session, auction_id)
    out = _summary(session, auction)
    viewer = viewer_account(session, actor) if actor is not None else None
    supervisor = actor is not None and policy.can(actor, "market.read")
    stmt = select(Order).where(Order.auction_id == auction.id, Order.method == "bid")
    if auction.status != "closed":
        out["bids"] = [] if viewer is None else [_bid(b, auction, True) for b in session.execute(
            stmt.where(Order.trading_account_id == viewer.id).order_by(Order.id)).scalars()]
        return out
    numbers = dict(session.execute(select(TradingAccount.id, TradingAccount.number)).all())
    shown = sorted((b for b in session.execute(stmt).scalars() if b.status in ("filled", "partial", "lost")), key=priority(auction))
    out["allocations"] = []
    for b in shown:
        named = supervisor or (viewer is not None and viewer.id in (b.trading_account_id, auction.initiator_id))
        out["allocations"].append({**_bid(b, auction, named), "bidder": numbers[b.trading_account_id] if named else None})
    return out


def _bid(b: Order, auction: Auction, own: bool) -> dict:
    price = None
    if b.filled:
        price = auction.clearing_price if auction.clearing_price is not None else b.price
    return {"order_id": b.id if own else None, "price": b.price, "quantity": b.quantity, "entered_at": clock.local(b.entered_at).isoformat(),
            "status": b.status, "allocated": b.filled, "trade_price": price}


def my_bids(session: Session, actor: Actor, auction_id: int | None = None) -> list[dict]:
    """The actor's participant's bids (all of them, or one auction's)."""
    account = viewer_account(session, actor)
    if account is None:
        raise Forbidden("bids are seen by their bidder", field="actor", rule=RULE)
    stmt = select(Order, Auction).join(Auction, Auction.id == Order.auction_id).where(Order.trading_account_id == account.id,
                                                                                    Order.method == "bid")
    if auction_id is not None:
        stmt = stmt.where(Order.auction_id == auction_id)
    return [{**_bid(b, a, True), "auction_id": a.id} for b, a in session.execute(stmt.order_by(Order.id)).all()]


__all__ = ["create", "cancel", "bid", "withdraw_bid", "close", "close_due", "allocate", "announcements", "results", "my_bids", "PRICING"]


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.auction.manage", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 14")
    ledger.register_fields("auction", Auction, ("instrument_id", "initiator_id", "side", "quantity", "reserve_price", "pricing", "day",
                                                "order_id", "status", "bids", "bidders", "winners", "allocated", "turnover", "clearing_price"))
