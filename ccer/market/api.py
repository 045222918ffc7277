"""REST resources of the exchange (/api/v1/market). Thin: parse with the schemas, call one service, render.
Who may do what is the services' policy (accounts, instruments, orders, settlement, confirmations): the
exchange operator opens accounts, adds operators, restricts, confirms and halts instruments, settles the day
and reads the reconciliation; a participant's operators trade, move funds and read their own orders,
trades, funds and positions; anyone reads the instruments, the order books (price levels, no names) and the
halt notices."""
from __future__ import annotations

import hashlib

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, or_, select

from .. import clock
from ..actor import Actor
from ..api.pagination import PageArgs, page_schema, paginate
from ..auth import policy
from ..auth.models import User
from ..errors import Forbidden, NotFound
from ..ledger import Event
from ..projects.models import Project
from ..requests import current_actor, db_session
from . import accounts, confirmations, instruments, orders, reconcile, settlement
from .models import FundAccount, FundMovement, Instrument, Operator, Order, Position, ReferencePrice, Trade, TradingAccount
from .schemas import (AccountArg, AccountFilter, AccountOpenIn, AmountIn, BookArgs, BookOut, DayReportOut, FundsOut, HaltArgs, HaltIn, HaltOut,
                      InstrumentOut, LiftIn, LiftOut, MovementOut, MovesOut, OperatorIn, OperatorOut, OrderFilter, OrderIn, OrderOut,
                      PositionOut, ProposalIn, ReconciliationOut, RestrictionIn, SettleIn, TradeFilter, TradeOut, TradingAccountOut)

blp = Blueprint("market", __name__, url_prefix="/api/v1/market", description="The exchange: accounts, orders, lifts, funds, settlement")
public = Blueprint("market-public", __name__, url_prefix="/api/v1/market", description="The exchange's public data (anonymous)")

MAX_ID = 2**31 - 1

# ---- whose data --------------------------------------------------------------------------------------------


def _operated(session, actor: Actor) -> TradingAccount | None:
    if actor.user_id is None:
        return None
    op = session.execute(select(Operator).where(Operator.user_id == actor.user_id)).scalar_one_or_none()
    return session.get(TradingAccount, op.trading_account_id) if op else None


def _scope(session, account_ref: str | None) -> TradingAccount | None:
    """The trading account whose data the caller reads: a participant's operator reads its own; the exchange
    (and the registry, Trading Rules Art. 33) reads any one it names, or all (None)."""
    actor = current_actor()
    own = _operated(session, actor)
    if own is not None and (account_ref is None or account_ref.strip().upper() in (own.number, str(own.id))):
        return own
    policy.require(actor, "market.read")
    return accounts.get_account(session, account_ref) if account_ref else None


def _own(session) -> TradingAccount:
    """The caller's own trading account (a participant's operator)."""
    actor = current_actor()
    own = _operated(session, actor)
    if own is None:
        policy.require(actor, "events.read_own")  # anonymous: 401, log in first
        raise Forbidden(f"{actor.label} is not an operator of any trading account", field="actor", rule="Trading Rules Art. 7")
    return own


def _codes(session) -> dict[int, str]:
    return dict(session.execute(select(Instrument.id, Instrument.code)).all())


def _numbers(session, ids) -> dict[int, str]:
    ids = set(ids)
    return dict(session.execute(select(TradingAccount.id, TradingAccount.number).where(TradingAccount.id.in_(ids))).all()) if ids else {}


def _order_row(o: Order, codes, numbers) -> dict:
    return {"id": o.id, "instrument": codes.get(o.instrument_id), "method": o.method, "side": o.side, "price": o.price,
            "quantity": o.quantity, "filled": o.filled, "remaining": o.quantity - o.filled if o.status == "open" else 0,
            "status": o.status, "day": o.day, "entered_at": o.entered_at, "trading_account": numbers.get(o.trading_account_id)}


def _trade_row(t: Trade, codes, numbers, viewer: TradingAccount | None) -> dict:
    side = None if viewer is None else ("buy" if t.buyer_id == viewer.id else "sell")
    return {"ref": t.ref, "day": t.day, "instrument": codes.get(t.instrument_id), "method": t.method, "side": side,
            "buyer": numbers.get(t.buyer_id) if viewer is None else None, "seller": numbers.get(t.seller_id) if viewer is None else None,
            "price": t.price, "quantity": t.quantity, "amount": t.amount, "buyer_fee": t.buyer_fee, "seller_fee": t.seller_fee,
            "fee": None if side is None else (t.buyer_fee if side == "buy" else t.seller_fee),
            "status": t.status, "matched_at": t.matched_at, "settled_at": t.settled_at, "transfer_id": t.transfer_id,
            "failure": t.failure, "confirmation_url": f"/api/v1/market/trades/{t.ref}/confirmation.pdf"}


def _id(value: int, field: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no {field.replace('_', ' ')} {value}", field=field)
    return value


# ---- the exchange operator -------------------------------------------------------------------------------


@blp.route("/accounts")
class Accounts(MethodView):
    @blp.arguments(AccountFilter, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TradingAccountOut, "TradingAccountPage"))
    def get(self, filters, page):
        """Trading accounts: all for the exchange (and the registry); a participant's operator sees its own."""
        session = db_session()
        stmt = select(TradingAccount)
        if not policy.can(current_actor(), "market.read"):
            own = _own(session)
            stmt = stmt.where(TradingAccount.id == own.id)
        if filters["status"]:
            stmt = stmt.where(TradingAccount.status == filters["status"])
        return paginate(session, stmt, TradingAccount.id, page)

    @blp.arguments(AccountOpenIn)
    @blp.response(201, TradingAccountOut)
    def post(self, data):
        """Exchange: open a participant's trading account (it needs an open registry account first, Art. 6),
        bound to its registry account, and its fund account bound to one same-name bank account."""
        return accounts.open_account(db_session(), current_actor(), data["organisation_id"], bank_name=data["bank_name"],
                                     bank_account_no=data["bank_account_no"], bank_account_name=data["bank_account_name"])


@blp.route("/accounts/<ref>")
class AccountOne(MethodView):
    @blp.response(200, TradingAccountOut)
    def get(self, ref):
        session = db_session()
        account = _scope(session, ref)
        if account is None:
            raise NotFound(f"no trading account {ref}", field="trading_account")
        return account


@blp.route("/accounts/<ref>/operators")
class AccountOperators(MethodView):
    @blp.response(200, OperatorOut(many=True))
    def get(self, ref):
        session = db_session()
        account = _scope(session, ref)
        return session.execute(select(Operator).where(Operator.trading_account_id == account.id).order_by(Operator.id)).scalars().all()

    @blp.arguments(OperatorIn)
    @blp.response(201, OperatorOut)
    def post(self, data, ref):
        """Exchange: a user of the participant who may trade for it, with permissions (order, lift, block,
        auction, funds); at most five per account ([S7])."""
        session = db_session()
        user_id = data["user_id"]
        if user_id is None:
            user_id = session.execute(select(User.id).where(User.username == data["username"])).scalar_one_or_none()
            if user_id is None:
                raise NotFound(f"no user {data['username']}", field="username")
        return accounts.add_operator(session, current_actor(), ref, user_id, data["permissions"])


@blp.route("/accounts/<ref>/restriction")
class AccountRestriction(MethodView):
    @blp.arguments(RestrictionIn)
    @blp.response(200, TradingAccountOut)
    def post(self, data, ref):
        """Exchange: restrict a participant's trading at once, or restore it (Trading Rules Art. 27)."""
        return accounts.restrict(db_session(), current_actor(), ref, data["reason"] or "", restore=data["action"] == "restore")


@blp.route("/instruments/<code>/confirmation")
class InstrumentConfirm(MethodView):
    @blp.response(200, InstrumentOut)
    def post(self, code):
        """Exchange: confirm a proposed instrument; it trades from the next trading day (T+1, Art. 17)."""
        session = db_session()
        inst = instruments.confirm(session, current_actor(), code)
        return _instrument_row(session, inst)


@blp.route("/instruments/<code>/halt")
class InstrumentHalt(MethodView):
    @blp.arguments(HaltIn)
    @blp.response(200, InstrumentOut)
    def post(self, data, code):
        """Exchange: halt an instrument (Art. 23); the time lost is not made up."""
        session = db_session()
        return _instrument_row(session, instruments.halt(session, current_actor(), code, reason=data["reason"]))


@blp.route("/instruments/<code>/resumption")
class InstrumentResume(MethodView):
    @blp.arguments(HaltIn)
    @blp.response(200, InstrumentOut)
    def post(self, data, code):
        """Exchange: resume a halted instrument."""
        session = db_session()
        return _instrument_row(session, instruments.halt(session, current_actor(), code, resume=True, reason=data["reason"]))


@blp.route("/registry-moves")
class RegistryMoves(MethodView):
    @blp.response(200, MovesOut)
    def post(self):
        """Take the registry's moves into and out of trading accounts into the exchange's positions (in
        order, once). The exchange, or a participant's operator after moving CCERs in."""
        session = db_session()
        actor = current_actor()
        if _operated(session, actor) is None:
            policy.require(actor, "market.settle")
        return {"taken_in": instruments.take_in_moves(session, actor)}


@blp.route("/settlements")
class Settlements(MethodView):
    @blp.arguments(SettleIn)
    @blp.response(200, DayReportOut)
    def post(self, data):
        """Exchange, after the close: expire open orders, deliver each pending trade versus payment (CCERs
        through the registry, funds here, each trade all-or-nothing), set the next day's reference prices."""
        return settlement.settle_day(db_session(), current_actor(), data["day"])


@blp.route("/reconciliation")
class Reconciliation(MethodView):
    @blp.response(200, ReconciliationOut)
    def get(self):
        """Exchange (and registry): the two ledgers agree — positions equal the registry's trading holdings,
        funds balance to the fen, reservations are what open orders and unsettled trades hold, no order
        over-filled. `differences` lists what does not, first first."""
        session = db_session()
        policy.require(current_actor(), "market.read")
        diffs = reconcile.differences(session)
        positions = session.execute(select(func.coalesce(func.sum(Position.quantity), 0))).scalar_one()
        funds = session.execute(select(func.coalesce(func.sum(FundAccount.balance), 0))).scalar_one()
        return {"ok": not diffs, "differences": diffs, "positions": positions, "funds_fen": funds, "checked_at": clock.now(session)}


# ---- participants ------------------------------------------------------------------------------------------


@blp.route("/instruments/<code>/proposal")
class InstrumentProposal(MethodView):
    @blp.arguments(ProposalIn)
    @blp.response(200, InstrumentOut)
    def post(self, data, code):
        """The first participant to move an instrument in proposes its initial reference price ([S7] 标的物维护)."""
        session = db_session()
        return _instrument_row(session, instruments.propose(session, current_actor(), code, data["initial_price"]))


@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(OrderFilter, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(OrderOut, "OrderPage"))
    def get(self, filters, page):
        """The participant's own orders (the exchange: anyone's, or one account's with ?account=)."""
        session = db_session()
        account = _scope(session, filters["account"])
        stmt = select(Order)
        if account is not None:
            stmt = stmt.where(Order.trading_account_id == account.id)
        if filters["status"]:
            stmt = stmt.where(Order.status == filters["status"])
        if filters["day"]:
            stmt = stmt.where(Order.day == filters["day"])
        if filters["instrument"]:
            stmt = stmt.where(Order.instrument_id == instruments.get(session, filters["instrument"]).id)
        result = paginate(session, stmt, Order.id, page)
        codes, numbers = _codes(session), _numbers(session, {o.trading_account_id for o in result["items"]})
        return {"items": [_order_row(o, codes, numbers) for o in result["items"]], "next_cursor": result["next_cursor"]}

    @blp.arguments(OrderIn)
    @blp.response(201, OrderOut)
    def post(self, data):
        """List an order (挂牌): within ±10 % of the day's reference price, on the tick, fully funded (a sale
        reserves the position, a purchase the amount and its commission), in the sessions."""
        session = db_session()
        order = orders.place(session, current_actor(), data["instrument"], data["side"], data["price"], data["quantity"])
        return _order_row(order, _codes(session), _numbers(session, {order.trading_account_id}))


@blp.route("/orders/<int:order_id>")
class OrderOne(MethodView):
    @blp.response(200, OrderOut)
    def get(self, order_id):
        session = db_session()
        order = session.get(Order, _id(order_id, "order_id"))
        if order is None:
            raise NotFound(f"no order {order_id}", field="order_id")
        account = _scope(session, None)
        if account is not None and order.trading_account_id != account.id:
            raise NotFound(f"no order {order_id} of {account.number}", field="order_id")
        return _order_row(order, _codes(session), _numbers(session, {order.trading_account_id}))


@blp.route("/orders/<int:order_id>/cancellation")
class OrderCancel(MethodView):
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Cancel the unfilled remainder of one's own open order; a filled part is final (Art. 19)."""
        session = db_session()
        order = orders.cancel(session, current_actor(), _id(order_id, "order_id"))
        return _order_row(order, _codes(session), _numbers(session, {order.trading_account_id}))


@blp.route("/lifts")
class Lifts(MethodView):
    @blp.arguments(LiftIn)
    @blp.response(201, LiftOut)
    def post(self, data):
        """Lift (摘牌) listed orders of the other side in price then time priority, up to `quantity` t and
        no worse than `limit_price` if given; partial lifts allowed. Each fill is a trade at the listed price."""
        session = db_session()
        trades = orders.lift(session, current_actor(), data["instrument"], data["side"], data["quantity"], data["limit_price"])
        viewer = _operated(session, current_actor())
        codes = _codes(session)
        return {"trades": [_trade_row(t, codes, {}, viewer) for t in trades], "quantity": sum(t.quantity for t in trades),
                "amount": sum(t.amount for t in trades)}


@blp.route("/trades")
class Trades(MethodView):
    @blp.arguments(TradeFilter, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TradeOut, "TradePage"))
    def get(self, filters, page):
        """The participant's own trades, either side (the exchange: all, or one account's)."""
        session = db_session()
        account = _scope(session, filters["account"])
        stmt = select(Trade)
        if account is not None:
            stmt = stmt.where(or_(Trade.buyer_id == account.id, Trade.seller_id == account.id))
        if filters["day"]:
            stmt = stmt.where(Trade.day == filters["day"])
        if filters["status"]:
            stmt = stmt.where(Trade.status == filters["status"])
        result = paginate(session, stmt, Trade.id, page)
        viewer = account if _operated(session, current_actor()) is not None else None
        codes = _codes(session)
        numbers = _numbers(session, {t.buyer_id for t in result["items"]} | {t.seller_id for t in result["items"]}) if viewer is None else {}
        return {"items": [_trade_row(t, codes, numbers, viewer) for t in result["items"]], "next_cursor": result["next_cursor"]}


def _trade_for(session, ref: str) -> Trade:
    trade = confirmations.get_trade(session, ref)
    confirmations.require_readable(session, current_actor(), trade)
    return trade


@blp.route("/trades/<ref>")
class TradeOne(MethodView):
    @blp.response(200, TradeOut)
    def get(self, ref):
        """A trade, for its two parties and the exchange."""
        session = db_session()
        trade = _trade_for(session, ref)
        viewer = _operated(session, current_actor())
        if viewer is not None and viewer.id not in (trade.buyer_id, trade.seller_id):
            viewer = None
        numbers = {} if viewer is not None else _numbers(session, {trade.buyer_id, trade.seller_id})
        return _trade_row(trade, _codes(session), numbers, viewer)


@blp.route("/trades/<ref>/confirmation.pdf")
class TradeConfirmation(MethodView):
    @blp.response(200, description="the electronic trade confirmation (电子交易凭证), PDF")
    def get(self, ref):
        """The bilingual electronic trade confirmation (Trading Rules Art. 20), for the two parties and the exchange."""
        session = db_session()
        trade = _trade_for(session, ref)
        body = confirmations.pdf(session, trade)
        return Response(body, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="trade-{trade.ref}.pdf"', "X-SHA256": hashlib.sha256(body).hexdigest()})


@blp.route("/funds")
class Funds(MethodView):
    @blp.arguments(AccountArg, location="query")
    @blp.response(200, FundsOut)
    def get(self, args):
        """The fund account: balance, what open buy orders and unsettled purchases reserve, what is free."""
        session = db_session()
        account = _scope(session, args["account"])
        if account is None:
            raise NotFound("name a trading account with ?account=", field="account")
        return _funds_row(session, accounts.funds_of(session, account))


@blp.route("/funds/movements")
class FundMovements(MethodView):
    @blp.arguments(AccountArg, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(MovementOut, "MovementPage"))
    def get(self, args, page):
        """Every change of the balance: deposits, withdrawals, purchases, sales, commissions."""
        session = db_session()
        account = _scope(session, args["account"])
        if account is None:
            raise NotFound("name a trading account with ?account=", field="account")
        f = accounts.funds_of(session, account)
        return paginate(session, select(FundMovement).where(FundMovement.fund_account_id == f.id), FundMovement.id, page)


def _funds_row(session, f: FundAccount) -> dict:
    account = session.get(TradingAccount, f.trading_account_id)
    return {"trading_account": account.number, "bank_name": f.bank_name, "bank_account_no": f.bank_account_no,
            "bank_account_name": f.bank_account_name, "balance": f.balance, "reserved": f.reserved, "available": f.balance - f.reserved}


@blp.route("/funds/deposits")
class Deposits(MethodView):
    @blp.arguments(AmountIn)
    @blp.response(201, FundsOut)
    def post(self, data):
        """Money in from the bound bank account through the settlement bank, trading days 9:30–15:00."""
        session = db_session()
        return _funds_row(session, accounts.deposit(session, current_actor(), data["amount"]))


@blp.route("/funds/withdrawals")
class Withdrawals(MethodView):
    @blp.arguments(AmountIn)
    @blp.response(201, FundsOut)
    def post(self, data):
        """Money out to the bound bank account: at most what is not reserved (Art. 18)."""
        session = db_session()
        return _funds_row(session, accounts.withdraw(session, current_actor(), data["amount"]))


@blp.route("/positions")
class Positions(MethodView):
    @blp.arguments(AccountArg, location="query")
    @blp.response(200, PositionOut(many=True))
    def get(self, args):
        """CCERs of each instrument in the trading account: held, reserved for open sales and unsettled trades, free."""
        session = db_session()
        account = _scope(session, args["account"])
        if account is None:
            raise NotFound("name a trading account with ?account=", field="account")
        rows = session.execute(select(Position, Instrument, Project.registry_no).join(Instrument, Instrument.id == Position.instrument_id)
                               .join(Project, Project.id == Instrument.project_id)
                               .where(Position.trading_account_id == account.id).order_by(Instrument.code)).all()
        return [{"instrument": i.code, "project_no": no, "vintage": i.vintage, "quantity": p.quantity, "reserved": p.reserved,
                 "available": p.quantity - p.reserved} for p, i, no in rows if p.quantity or p.reserved]


# ---- public ------------------------------------------------------------------------------------------------


def _instrument_row(session, inst: Instrument) -> dict:
    day = clock.today(session)
    project = session.get(Project, inst.project_id)
    ref = session.execute(select(ReferencePrice).where(ReferencePrice.instrument_id == inst.id, ReferencePrice.day <= day)
                          .order_by(ReferencePrice.day.desc()).limit(1)).scalar_one_or_none() if inst.status == "listed" else None
    return {"code": inst.code, "project_no": project.registry_no, "project": project.title, "methodology": project.methodology_code,
            "vintage": inst.vintage, "status": inst.status, "listed_from": inst.listed_from, "halted": inst.halted, "day": day,
            "reference_price": ref.price if ref else None, "reference_basis": ref.basis if ref else None,
            "listing_limits": list(instruments.limits(ref.price, "listing")) if ref else None,
            "block_limits": list(instruments.limits(ref.price, "block")) if ref else None,
            "initial_price": inst.initial_price or None}


@public.route("/instruments")
class InstrumentList(MethodView):
    @public.response(200, InstrumentOut(many=True))
    def get(self):
        """Instruments (one per project and vintage moved into the trading system) with today's reference
        price and the price limits it gives."""
        session = db_session()
        return [_instrument_row(session, i) for i in session.execute(select(Instrument).order_by(Instrument.code)).scalars()]


@public.route("/instruments/<code>")
class InstrumentOne(MethodView):
    @public.response(200, InstrumentOut)
    def get(self, code):
        session = db_session()
        return _instrument_row(session, instruments.get(session, code))


def _levels(session, inst: Instrument, side: str, depth: int) -> list[dict]:
    remaining = func.sum(Order.quantity - Order.filled)
    best = Order.price.asc() if side == "sell" else Order.price.desc()
    rows = session.execute(select(Order.price, remaining, func.count(Order.id)).where(
        Order.instrument_id == inst.id, Order.side == side, Order.status == "open", Order.method == "listing")
        .group_by(Order.price).order_by(best).limit(depth)).all()
    return [{"price": p, "quantity": int(q), "orders": n} for p, q, n in rows]


@public.route("/instruments/<code>/book")
class Book(MethodView):
    @public.arguments(BookArgs, location="query")
    @public.response(200, BookOut)
    def get(self, args, code):
        """The listing-agreement order book: open quantity by price level, best first — no participant names."""
        session = db_session()
        inst = instruments.get(session, code)
        row = _instrument_row(session, inst)
        return {"instrument": inst.code, "day": row["day"], "reference_price": row["reference_price"], "halted": inst.halted,
                "bids": _levels(session, inst, "buy", args["depth"]), "asks": _levels(session, inst, "sell", args["depth"])}


@public.route("/halts")
class Halts(MethodView):
    @public.arguments(HaltArgs, location="query")
    @public.response(200, HaltOut(many=True))
    def get(self, page):
        """Halt and resumption notices (Trading Rules Art. 23, 43), newest first, from the ledger."""
        session = db_session()
        codes = {str(i): c for i, c in _codes(session).items()}
        events = session.execute(select(Event).where(Event.subject_type == "instrument", Event.action.in_(("market.halted", "market.resumed")))
                                 .order_by(Event.id.desc()).limit(page["limit"])).scalars()
        return [{"instrument": codes.get(e.subject_id), "action": e.action.split(".")[1], "reason": e.payload.get("reason") or None,
                 "at": e.occurred_at, "event_seq": e.seq} for e in events]
