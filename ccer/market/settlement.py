"""End-of-day settlement (Trading Rules Art. 25–32): after the close, gross and trade by trade, delivery
versus payment (货银对付, 逐笔全额). Open orders expire; each pending trade of the day goes to the registry's
settlement verb (ccer/issuance/trading.py, `deliver_day`: each trade delivered whole or refused) and, in the
same transaction, its money moves between the fund accounts — both or neither. Then the next day's
reference prices are set. Disputes are raised in writing before the next open (Art. 32)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import insert_many, mutating
from ..issuance import trading as registry_trading
from ..issuance.models import Account
from ..projects.models import Project
from . import accounts, auctions, blocks, instruments, orders, positions, risk, sessions
from .models import FundAccount, FundMovement, Instrument, Position, Trade, TradingAccount


#: the advisory lock a day's close holds: two closes run one after the other, the second finding nothing pending
CLOSE_LOCK = 7220915


@dataclass
class DayReport:
    day: date
    expired: int = 0
    settled: int = 0
    failed: int = 0
    turnover: int = 0
    references: int = 0


@mutating
def settle_day(session: Session, actor: Actor, day: date | None = None) -> DayReport:
    """Close the day: expire open orders, deliver every pending trade (CCERs through the registry, funds here,
    each all-or-nothing), set the next references."""
    policy.require(actor, "market.settle")
    now = sessions.require_closed(session)
    day = day or now.date()
    if session.get_bind().dialect.name == "postgresql":  # one close at a time (SQLite has one writer anyway)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLOSE_LOCK})
    report = DayReport(day)
    positions.take_in_moves(session, actor)
    auctions.close_due(session, actor, day)  # before expiry: their bids are allocated, not expired
    report.expired = blocks.expire(session, actor, day) + orders.expire_open(session, actor, day)
    trades = list(session.execute(select(Trade).where(Trade.day == day, Trade.status == "pending").order_by(Trade.id)
                                  .with_for_update()).scalars())
    if trades:
        _deliver(session, actor, trades, report, now)
    risk.report_large_holders(session, actor, day)
    report.references = instruments.set_next_references(session, day)
    ledger.record(session, actor, "market.day_settled", "market_day", day.isoformat(),
                  {"expired": report.expired, "settled": report.settled, "failed": report.failed, "turnover": report.turnover})
    return report


def _deliver(session: Session, actor: Actor, trades: list[Trade], report: DayReport, now) -> None:
    accounts_by_id = {a.id: a for a in session.execute(select(TradingAccount).where(
        TradingAccount.id.in_({t.buyer_id for t in trades} | {t.seller_id for t in trades}))).scalars()}
    registry_no = dict(session.execute(select(Account.id, Account.number).where(
        Account.id.in_({a.registry_account_id for a in accounts_by_id.values()}))).all())
    insts = {i.id: i for i in session.execute(select(Instrument).where(Instrument.id.in_({t.instrument_id for t in trades}))).scalars()}
    project_no = dict(session.execute(select(Project.id, Project.registry_no).where(
        Project.id.in_({i.project_id for i in insts.values()}))).all())
    outcomes = registry_trading.deliver_day(session, actor, [
        {"trade_ref": t.ref, "seller": registry_no[accounts_by_id[t.seller_id].registry_account_id],
         "buyer": registry_no[accounts_by_id[t.buyer_id].registry_account_id],
         "project_no": project_no[insts[t.instrument_id].project_id], "vintage": insts[t.instrument_id].vintage, "quantity": t.quantity}
        for t in trades])
    funds = {f.trading_account_id: f for f in session.execute(select(FundAccount).where(
        FundAccount.trading_account_id.in_(list(accounts_by_id))).with_for_update()).scalars()}
    positions = {(p.trading_account_id, p.instrument_id): p for p in session.execute(select(Position).where(
        Position.trading_account_id.in_(list(accounts_by_id)), Position.instrument_id.in_(list(insts))).with_for_update()).scalars()}
    # the buyers' positions the day's deliveries create, all in one flush (not one each, with everything pending)
    missing = {(t.buyer_id, t.instrument_id) for t, o in zip(trades, outcomes) if o.ok} - set(positions)
    if missing:
        new = {key: Position(trading_account_id=key[0], instrument_id=key[1], quantity=0, reserved=0) for key in sorted(missing)}
        session.add_all(new.values())
        session.flush()
        positions.update(new)
    touched, movements = set(), []
    for trade, outcome in zip(trades, outcomes):
        cost = trade.amount + trade.buyer_fee
        buyer_funds, seller_funds = funds[trade.buyer_id], funds[trade.seller_id]
        sell_pos = positions[(trade.seller_id, trade.instrument_id)]
        sell_pos.reserved -= trade.quantity
        buyer_funds.reserved -= cost
        if outcome.ok:
            buy_pos = positions[(trade.buyer_id, trade.instrument_id)]
            sell_pos.quantity -= trade.quantity
            buy_pos.quantity += trade.quantity
            accounts.move_funds(session, buyer_funds, "purchase", -trade.amount, trade.ref, movements)
            accounts.move_funds(session, seller_funds, "sale", trade.amount, trade.ref, movements)
            if trade.buyer_fee:
                accounts.move_funds(session, buyer_funds, "fee", -trade.buyer_fee, trade.ref, movements)
            if trade.seller_fee:
                accounts.move_funds(session, seller_funds, "fee", -trade.seller_fee, trade.ref, movements)
            trade.status, trade.transfer_id, trade.settled_at = "settled", outcome.transfer_id, now
            report.settled += 1
            report.turnover += trade.amount
            touched.add(("position", buy_pos.id))
        else:  # nothing delivered: nothing paid; the reservations are given back
            trade.status, trade.failure = "failed", f"{outcome.error.field}: {outcome.error.message}"
            report.failed += 1
        touched.update({("fund_account", buyer_funds.id), ("fund_account", seller_funds.id), ("position", sell_pos.id)})
    session.flush()
    insert_many(session, FundMovement.__table__, movements)  # one stream (COPY on PostgreSQL), not an ORM row each
    ledger.record_many(session, actor, [
        ("market.trade_settled" if t.status == "settled" else "market.trade_failed", "trade", t.id,
         ledger.payload(session, "trade", t.id, {"ref": t.ref, "transfer_id": t.transfer_id, "failure": t.failure}))
        for t in trades])
    ledger.record(session, actor, "market.funds_and_positions_settled", "market_day", trades[0].day.isoformat(),
                  {"trades": len(trades)}, touches=sorted(touched))


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.settle", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 25–32")
