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

from ..infra.bounds import INT32_MAX
from ..infra import calendar, clock
from ..infra.actor import Actor
from ..api.pagination import PageArgs, page_schema, paginate
from ..auth import policy
from ..auth.models import User
from ..infra.errors import DomainError, Forbidden, NotFound
from ..projects.models import Project
from ..requests import current_actor, db_session
from . import accounts, auctions, blocks, confirmations, disputes, instruments, marketdata, orders, positions, reconcile, risk, settlement
from .models import FundAccount, FundMovement, Instrument, Operator, Order, Position, ReferencePrice, Trade, TradingAccount
from .schemas import (AccountArg, AccountFilter, AccountOpenIn, AmountIn, AuctionFilter, AuctionIn, AuctionOut, BidIn, BidOut, BlockFilter,
                      BlockIn, BlockOut, BookArgs, BookOut, CancelIn, DailyOut, DataArgs, DayReportOut, DisputeFilter, DisputeIn, DisputeOut,
                      FundsOut, HaltIn, InstrumentDayOut, InstrumentOut, LiftIn, LiftOut, MovementOut, MovesOut, NoticeFilter, NoticeOut,
                      OperatorIn, OperatorOut, OrderFilter, OrderIn, OrderOut, PositionLimitIn, PositionLimitOut, PositionOut, ProposalIn,
                      RangeArgs, ReasonIn, ReconciliationOut, ResolutionIn, RestrictionIn, SettleIn, TradeFilter, TradeOut, TradingAccountOut, FeesIn, FeesOut)

blp = Blueprint("market", __name__, url_prefix="/api/v1/market", description="The exchange: accounts, orders, lifts, funds, settlement")
public = Blueprint("market-public", __name__, url_prefix="/api/v1/market", description="The exchange's public data (anonymous)")

MAX_ID = INT32_MAX  # ids in INTEGER columns

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
        return {"taken_in": positions.take_in_moves(session, actor)}


@blp.route("/settlements")
class Settlements(MethodView):
    @blp.arguments(SettleIn)
    @blp.response(200, DayReportOut)
    def post(self, data):
        """Exchange, after the close: expire open orders, deliver each pending trade versus payment (CCERs
        through the registry, funds here, each trade all-or-nothing), set the next day's reference prices."""
        return settlement.settle_day(db_session(), current_actor(), data["day"])


@blp.route("/fees")
class Fees(MethodView):
    @blp.arguments(FeesIn)
    @blp.response(200, FeesOut)
    def post(self, data):
        """Exchange: bill the opening fee (once) or the annual fee for a year to every open participant not
        exempt (Trading Rules Art. 24; key emitting units exempt)."""
        return accounts.charge_fees(db_session(), current_actor(), data["fee"], data["year"])


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


def _reference_day(session):
    """The trading day whose reference price is shown: today on a trading day, else the next one."""
    today = clock.today(session)
    try:
        return today if calendar.is_trading_day(today) else calendar.add_trading_days(today, 1)
    except DomainError:  # a year whose holiday calendar is not published yet
        return today


def _instrument_row(session, inst: Instrument) -> dict:
    day = _reference_day(session)
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
    @public.arguments(NoticeFilter, location="query")
    @public.response(200, NoticeOut(many=True))
    def get(self, args):
        """Halt and resumption notices (Trading Rules Art. 23), newest first."""
        return [n for n in marketdata.notices(db_session(), args["since"]) if n["kind"] in ("halt", "resume")]


@public.route("/notices")
class Notices(MethodView):
    @public.arguments(NoticeFilter, location="query")
    @public.response(200, NoticeOut(many=True))
    def get(self, args):
        """Public notices, newest first: large-holder reports (大户报告, Art. 36–43) and the exchange's halts and
        resumptions (Art. 23)."""
        out = marketdata.notices(db_session(), args["since"])
        return [n for n in out if args["kind"] is None or n["kind"] == args["kind"]]


# ---- market data (public) ------------------------------------------------------------------------------------


@public.route("/data")
class DataDay(MethodView):
    @public.arguments(DataArgs, location="query")
    @public.response(200, DailyOut)
    def get(self, args):
        """One trading day's market data (Trading Rules Art. 33): per instrument open/high/low/close of listing
        trades, VWAP, volume, turnover, trades by method, the day's and the next day's reference price; and the
        market's sums."""
        session = db_session()
        return marketdata.daily(session, args["day"] or clock.today(session), args["instrument"])


@public.route("/data/history")
class DataHistory(MethodView):
    @public.arguments(RangeArgs, location="query")
    @public.response(200, InstrumentDayOut(many=True))
    def get(self, args):
        """Trading day by trading day: one instrument's rows (?instrument=) or the market's."""
        rows = marketdata.history(db_session(), args["start"], args["end"], args["instrument"])
        return rows if args["instrument"] else [{**r, "instrument": "ALL"} for r in rows]


@public.route("/data.csv")
class DataCsv(MethodView):
    @public.arguments(RangeArgs, location="query")
    @public.response(200, description="CSV: one row per instrument and trading day, then the market's (ALL); CNY")
    def get(self, args):
        body = marketdata.export_csv(db_session(), args["start"], args["end"], args["instrument"])
        return Response(body, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="ccer-market-{args["start"]}-{args["end"]}.csv"'})


# ---- block agreements (大宗协议) ----------------------------------------------------------------------------


def _block(session, agreement_id: int):
    from .models import BlockAgreement

    ag = session.get(BlockAgreement, _id(agreement_id, "agreement_id"))
    if ag is None:
        raise NotFound(f"no block agreement {agreement_id}", field="agreement_id")
    return blocks.as_dict(session, ag)


@blp.route("/blocks")
class Blocks(MethodView):
    @blp.arguments(BlockFilter, location="query")
    @blp.response(200, BlockOut(many=True))
    def get(self, args):
        """Block agreements naming the caller's account on either side (the exchange: all). Not public."""
        return blocks.agreements(db_session(), current_actor(), args["status"], args["day"])

    @blp.arguments(BlockIn)
    @blp.response(201, BlockOut)
    def post(self, data):
        """Enter a block agreement (大宗协议) naming the counterparty: at least the block minimum, within ±30 % of
        the reference; the entering side reserves now. The counterparty confirms, then the exchange."""
        session = db_session()
        ag = blocks.propose(session, current_actor(), data["instrument"], data["side"], data["price"], data["quantity"], data["counterparty"])
        return blocks.as_dict(session, ag)


@blp.route("/blocks/<int:agreement_id>/acceptance")
class BlockAccept(MethodView):
    @blp.response(200, BlockOut)
    def post(self, agreement_id):
        """The named counterparty confirms, and reserves its side."""
        session = db_session()
        return blocks.as_dict(session, blocks.accept(session, current_actor(), _id(agreement_id, "agreement_id")))


@blp.route("/blocks/<int:agreement_id>/cancellation")
class BlockCancel(MethodView):
    @blp.response(200, BlockOut)
    def post(self, agreement_id):
        """The initiator withdraws, or the counterparty declines, until the counterparty has confirmed."""
        session = db_session()
        return blocks.as_dict(session, blocks.cancel(session, current_actor(), _id(agreement_id, "agreement_id")))


@blp.route("/blocks/<int:agreement_id>/confirmation")
class BlockConfirm(MethodView):
    @blp.response(200, BlockOut)
    def post(self, agreement_id):
        """Exchange: confirm an agreed block; the trade is made and settles after the close."""
        session = db_session()
        return blocks.as_dict(session, blocks.confirm(session, current_actor(), _id(agreement_id, "agreement_id")))


@blp.route("/blocks/<int:agreement_id>/rejection")
class BlockReject(MethodView):
    @blp.arguments(ReasonIn)
    @blp.response(200, BlockOut)
    def post(self, data, agreement_id):
        """Exchange: refuse a proposed or agreed block; both sides' reservations are released."""
        session = db_session()
        return blocks.as_dict(session, blocks.reject(session, current_actor(), _id(agreement_id, "agreement_id"), data["reason"]))


# ---- one-way auctions (单向竞价) ----------------------------------------------------------------------------


@public.route("/auctions")
class AuctionList(MethodView):
    @public.arguments(AuctionFilter, location="query")
    @public.response(200, AuctionOut(many=True))
    def get(self, args):
        """Auctions as announced, with their results once closed (never a bid before the close)."""
        return auctions.announcements(db_session(), args["day"], args["status"])


@blp.route("/auctions")
class AuctionCreate(MethodView):
    @blp.arguments(AuctionIn)
    @blp.response(201, AuctionOut)
    def post(self, data):
        """Announce a one-way auction: sell (or buy) a quantity at a reserve price, sealed bids taken in a window
        within 9:30–15:00 of one trading day; uniform or pay-as-bid pricing. The initiator's side is reserved now."""
        session = db_session()
        a = auctions.create(session, current_actor(), data["instrument"], data["side"], data["quantity"], data["reserve_price"],
                            data["window_start"], data["window_end"], data["pricing"])
        return auctions.results(session, a.id, current_actor())


@public.route("/auctions/<int:auction_id>")
class AuctionOne(MethodView):
    @public.response(200, AuctionOut)
    def get(self, auction_id):
        """An auction and, once closed, its allocation bid by bid (who bid: the exchange, the initiator and each
        bidder for its own)."""
        return auctions.results(db_session(), _id(auction_id, "auction_id"), current_actor())


@blp.route("/auctions/<int:auction_id>/bids")
class AuctionBids(MethodView):
    @blp.response(200, BidOut(many=True))
    def get(self, auction_id):
        """The caller's own bids in this auction."""
        return auctions.my_bids(db_session(), current_actor(), _id(auction_id, "auction_id"))

    @blp.arguments(BidIn)
    @blp.response(201, BidOut)
    def post(self, data, auction_id):
        """A sealed, funded bid (an offer, in a buy auction) while the window is open."""
        session = db_session()
        order = auctions.bid(session, current_actor(), _id(auction_id, "auction_id"), data["price"], data["quantity"])
        return next(b for b in auctions.my_bids(session, current_actor(), order.auction_id) if b["order_id"] == order.id)


@blp.route("/bids/<int:order_id>/withdrawal")
class BidWithdraw(MethodView):
    @blp.response(200, BidOut)
    def post(self, order_id):
        """Withdraw one's own bid while the window is open; its reservation is released."""
        session = db_session()
        order = auctions.withdraw_bid(session, current_actor(), _id(order_id, "order_id"))
        return next(b for b in auctions.my_bids(session, current_actor(), order.auction_id) if b["order_id"] == order.id)


@blp.route("/auctions/<int:auction_id>/cancellation")
class AuctionCancel(MethodView):
    @blp.arguments(CancelIn)
    @blp.response(200, AuctionOut)
    def post(self, data, auction_id):
        """The initiator (or the exchange) withdraws an announced auction before its window opens."""
        session = db_session()
        a = auctions.cancel(session, current_actor(), _id(auction_id, "auction_id"), data["reason"])
        return auctions.results(session, a.id, current_actor())


@blp.route("/auctions/<int:auction_id>/close")
class AuctionClose(MethodView):
    @blp.response(200, AuctionOut)
    def post(self, auction_id):
        """Exchange: close an auction whose window has ended — allocation by price then time, trades, results
        (the day's settlement closes any still open)."""
        session = db_session()
        a = auctions.close(session, current_actor(), _id(auction_id, "auction_id"))
        return auctions.results(session, a.id, current_actor())


# ---- risk --------------------------------------------------------------------------------------------------


@blp.route("/position-limits")
class PositionLimits(MethodView):
    @blp.arguments(PositionLimitIn)
    @blp.response(200, PositionLimitOut)
    def post(self, data):
        """Exchange: set (or, with max_quantity null, remove) a maximum position (最大持仓量) for one participant or
        all, in one instrument or all; the most specific applies (Art. 36–43)."""
        row = risk.set_position_limit(db_session(), current_actor(), data["max_quantity"], data["instrument"], data["trading_account"],
                                      data["reason"])
        return {"id": row.id if row else None, "instrument": data["instrument"], "trading_account": data["trading_account"],
                "max_quantity": row.max_quantity if row else None}


@blp.route("/large-holders/monitor")
class LargeHolderMonitor(MethodView):
    @blp.response(200, NoticeOut(many=True))
    def post(self):
        """Exchange: check positions against the large-holder threshold now (also run after each settlement)."""
        session = db_session()
        filed = {r.id for r in risk.monitor(session, current_actor())}
        return [n for n in risk.large_holder_reports(session) if n["id"] in filed]


# ---- disputes ---------------------------------------------------------------------------------------------


@blp.route("/disputes")
class Disputes(MethodView):
    @blp.arguments(DisputeFilter, location="query")
    @blp.response(200, DisputeOut(many=True))
    def get(self, args):
        """Disputes about the caller's trades (the exchange: all)."""
        return disputes.disputes(db_session(), current_actor(), args["status"])

    @blp.arguments(DisputeIn)
    @blp.response(201, DisputeOut)
    def post(self, data):
        """A party objects to a trade in writing, before the next trading day's open (Art. 32)."""
        session = db_session()
        d = disputes.raise_dispute(session, current_actor(), data["trade"], data["statement"])
        return next(x for x in disputes.disputes(session, current_actor()) if x["id"] == d.id)


@blp.route("/disputes/<int:dispute_id>/resolution")
class DisputeResolve(MethodView):
    @blp.arguments(ResolutionIn)
    @blp.response(200, DisputeOut)
    def post(self, data, dispute_id):
        """Exchange: the outcome of its mediation, upheld or dismissed, with the reasons (Art. 49–51)."""
        session = db_session()
        d = disputes.resolve(session, current_actor(), _id(dispute_id, "dispute_id"), data["outcome"], data["resolution"])
        return next(x for x in disputes.disputes(session, current_actor()) if x["id"] == d.id)
