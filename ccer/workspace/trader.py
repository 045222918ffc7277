"""Workspace pages of trading participants on the exchange (issue 16, item 5): 挂牌协议 order entry (place, cancel),
the listed orders of each instrument, lifting (摘牌), my orders and trades with their electronic confirmations (PDF),
and the fund account (deposits, withdrawals, every movement). The exchange's rules — trading days and sessions,
the ±10 % limits, the five-day rule, funded orders — are the services' (ccer/market/orders.py, accounts.py); the page
only shows their refusals beside the field."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..infra.errors import NotFound
from ..market import accounts, orders
from ..market.confirmations import cny
from ..market.models import (
    FundMovement,
    Instrument,
    Operator,
    Order,
    Position,
    Trade,
    TradingAccount,
)
from ..requests import current_actor, db_session
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt
from .panels import Item, Panel, provides

ACTION = "workspace.trader"

SIDES = {"buy": _l("买入"), "sell": _l("卖出")}
ORDER_STATUS = {"open": _l("挂牌中"), "filled": _l("已成交"), "cancelled": _l("已撤单"), "expired": _l("已过期"),
                "partial": _l("部分成交")}
TRADE_STATUS = {"pending": _l("待结算"), "settled": _l("已结算"), "failed": _l("结算失败")}
MOVEMENTS = {"deposit": _l("入金"), "withdrawal": _l("出金"), "purchase": _l("买入付款"), "sale": _l("卖出收款"), "fee": _l("手续费")}


def _account(session, actor) -> TradingAccount | None:
    """The trading account this user operates (Trading Rules Art. 7), if any."""
    if actor.user_id is None:
        return None
    op = session.execute(select(Operator).where(Operator.user_id == actor.user_id)).scalar_one_or_none()
    return session.get(TradingAccount, op.trading_account_id) if op else None


@provides("trading_participant")
def panel(session, actor) -> Panel:
    out = Panel("trading_participant", _("交易"))
    account = _account(session, actor)
    if account is not None:
        n = session.execute(select(Order).where(Order.trading_account_id == account.id, Order.status == "open")).scalars().all()
        for o in n:
            out.owned.append(Item(f"#{o.id} {SIDES[o.side]} {o.quantity:,} t @ {cny(o.price)}", url_for("workspace.trader_index") + "#orders"))
    out.start.append(Item(_("挂牌与摘牌"), url_for("workspace.trader_index")))
    out.start.append(Item(_("持有与注销"), url_for("workspace.holder_index")))
    return out


def _page(which: str = "", errors: Errors | None = None, status: int = 200):
    session, actor = db_session(), current_actor()
    account = _account(session, actor)
    listed = list(session.execute(select(Instrument).where(Instrument.status == "listed").order_by(Instrument.code)).scalars())
    codes = {i.id: i.code for i in session.execute(select(Instrument)).scalars()}
    ctx = {"account": account, "instruments": listed, "codes": codes, "sides": SIDES, "order_status": ORDER_STATUS,
           "trade_status": TRADE_STATUS, "movement_kinds": MOVEMENTS, "cny": cny, "which": which,
           "form": request.form if which else {}, "errors": errors or Errors(),
           "books": {i.code: {"sell": orders.book(session, i, "sell", 10), "buy": orders.book(session, i, "buy", 10)} for i in listed}}
    if account is not None:
        funds = accounts.funds_of(session, account)
        ctx.update(
            funds=funds,
            positions=session.execute(select(Position).where(Position.trading_account_id == account.id)).scalars().all(),
            my_orders=session.execute(select(Order).where(Order.trading_account_id == account.id).order_by(Order.id.desc()).limit(50)).scalars().all(),
            trades=session.execute(select(Trade).where(or_(Trade.buyer_id == account.id, Trade.seller_id == account.id))
                                   .order_by(Trade.id.desc()).limit(50)).scalars().all(),
            movements=session.execute(select(FundMovement).where(FundMovement.fund_account_id == funds.id)
                                      .order_by(FundMovement.id.desc()).limit(20)).scalars().all())
    return render_template("workspace/trader/index.html", **ctx), status


def _after(which: str, errors: Errors, done: str):
    if errors:
        return _page(which, errors, 422)
    flash(done)
    return redirect(url_for("workspace.trader_index") + f"#{which}")


def _operator(errors: Errors) -> bool:
    """Only an operator of a trading account trades (Trading Rules Art. 7): otherwise the page says so, nothing called."""
    if _account(db_session(), current_actor()) is None:
        errors["general"] = [_("您不是任何交易账户的操作员，请联系交易机构开立交易账户并授权。")]
        return False
    return True


def _call(fn, errors: Errors, fields: set[str]):
    """One service call; an unknown instrument is a mistake in the form (beside its field), not a missing page."""
    try:
        return attempt(fn, errors, fields)
    except NotFound as err:
        if err.field != "instrument":
            raise
        errors["instrument"] = err.message
        return None


def _whole(name: str):
    """A whole number typed in ASCII digits, or the text as typed (the service refuses it, naming the field)."""
    text = request.form.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 13 else text


def _fen(text: str, errors: Errors, field: str = "amount") -> int | None:
    """An amount typed in CNY with at most two decimals (fen)."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value != value.quantize(Decimal("0.01")) or value <= 0:
        errors[field] = _("请输入以元为单位、最多两位小数的正数金额")
        return None
    return int(value * 100)


@bp.get("/trader/")
@pages_of(ACTION)
def trader_index():
    return _page()


@bp.post("/trader/orders")
@pages_of(ACTION)
def trader_place():
    """List an order (挂牌, Trading Rules Art. 12, 16, 18)."""
    errors = Errors()
    f = request.form
    order = None
    if _operator(errors):
        order = _call(lambda: orders.place(db_session(), current_actor(), f.get("instrument", ""), f.get("side", ""),
                                           f.get("price", ""), _whole("quantity")), errors, {"instrument", "side", "price", "quantity"})
    return _after("order", errors, _("已挂牌，委托编号 %(id)s。", id=order.id) if order else "")


@bp.post("/trader/orders/<int:order_id>/cancel")
@pages_of(ACTION)
def trader_cancel(order_id: int):
    errors = Errors()
    if _operator(errors):
        attempt(lambda: orders.cancel(db_session(), current_actor(), order_id), errors)
    if errors:
        errors = Errors({f"order-{order_id}": "; ".join(v if isinstance(v, str) else "; ".join(v) for v in errors.values())})
    return _after("orders", errors, _("已撤销委托未成交部分。"))


@bp.post("/trader/lifts")
@pages_of(ACTION)
def trader_lift():
    """Lift (摘牌) listed orders of the other side, in price then time priority; each fill is a trade."""
    errors = Errors()
    f = request.form
    bound = f.get("limit_price", "").strip() or None
    trades = None
    if _operator(errors):
        trades = _call(lambda: orders.lift(db_session(), current_actor(), f.get("instrument", ""), f.get("side", ""),
                                           _whole("quantity"), bound), errors, {"instrument", "side", "quantity", "limit_price"})
    done = _("已摘牌成交 %(q)s 吨，成交金额 %(a)s 元。", q=f"{sum(t.quantity for t in trades):,}",
             a=cny(sum(t.amount for t in trades))) if trades else ""
    return _after("lift", errors, done)


@bp.post("/trader/funds/<any(deposit, withdraw):kind>")
@pages_of(ACTION)
def trader_funds(kind: str):
    """Money in from, or out to, the bound bank account (trading days 9:30–15:00; out: no more than is free)."""
    errors = Errors()
    amount = _fen(request.form.get("amount", ""), errors) if _operator(errors) else None
    if amount is not None:
        verb = accounts.deposit if kind == "deposit" else accounts.withdraw
        attempt(lambda: verb(db_session(), current_actor(), amount), errors, {"amount"})
    return _after("funds", errors, _("已入金。") if kind == "deposit" else _("已出金。"))
