"""Risk rules (Trading Rules Art. 36–43): maximum position limits (最大持仓量) refused at order entry, lift, block
agreement and auction bid, and large-holder reports (大户报告) when a participant's position reaches a share
of its limit. The 5-trading-day rule and the trading restrictions (the exchange's, the registry's, fraud) are
in orders.py (`check_holding_period`, `check_restrictions`), which every method calls.

The values are UNCONFIRMED in the reference (ccer-rules.md §7: "position-limit values, large-holder
threshold"): the exchange sets limits (`set_position_limit`, for one participant or all, in one instrument or
all; the most specific applies), else `CCER_MARKET_POSITION_LIMIT` (tCO2e per participant and instrument;
unset: no limit). The large-holder share is `CCER_MARKET_LARGE_HOLDER_SHARE` (default 0.80, the share
China's futures exchanges use for 大户报告 — an analogy, not a CCER rule)."""
from __future__ import annotations

import os
from datetime import date
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.actor import Actor
from ..auth import policy
from ..auth.models import Organisation
from ..auth.roles import Role
from ..infra.db import mutating
from ..infra.errors import ValidationError
from . import accounts, instruments, sessions
from .models import Instrument, LargeHolderReport, Order, Position, PositionLimit, Trade, TradingAccount

POSITION_RULE = "Trading Rules Art. 36–43: maximum position (最大持仓量)"
LARGE_HOLDER_RULE = "Trading Rules Art. 36–43: large-holder report (大户报告)"
LIMIT_ENV, SHARE_ENV = "CCER_MARKET_POSITION_LIMIT", "CCER_MARKET_LARGE_HOLDER_SHARE"
DEFAULT_SHARE = Decimal("0.80")


def default_limit() -> int | None:
    """`CCER_MARKET_POSITION_LIMIT`, tCO2e per participant and instrument; unset or empty: no limit."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{LIMIT_ENV}={raw!r}: a whole number of tCO2e ≥ 1")
    return int(raw)


def large_holder_share() -> Decimal:
    raw = os.environ.get(SHARE_ENV, "").strip()
    if not raw:
        return DEFAULT_SHARE
    try:
        share = Decimal(raw)
    except InvalidOperation:
        share = Decimal(-1)
    if not share.is_finite() or not 0 < share <= 1:
        raise ValueError(f"{SHARE_ENV}={raw!r}: a share in (0, 1]")
    return share


def position_limit(session: Session, account_id: int, instrument_id: int) -> int | None:
    """The limit in force: the exchange's most specific row (this participant and instrument; all participants
    in this instrument; this participant in all instruments; everyone everywhere), else the configured default."""
    rows = session.execute(select(PositionLimit.trading_account_id, PositionLimit.instrument_id, PositionLimit.max_quantity).where(
        or_(PositionLimit.trading_account_id == account_id, PositionLimit.trading_account_id.is_(None)),
        or_(PositionLimit.instrument_id == instrument_id, PositionLimit.instrument_id.is_(None)))).all()
    if rows:
        # instrument-specific before participant-specific: a limit is first a property of the instrument
        best = min(rows, key=lambda r: (r.instrument_id is None, r.trading_account_id is None))
        return int(best.max_quantity)
    return default_limit()


def exposure(session: Session, account_id: int, instrument_id: int) -> int:
    """What the participant would hold after today's settlement if every open buy order filled: its position,
    plus unsettled purchases, less unsettled sales, plus the open remainder of buy orders and bids of every
    method (a buy auction's own order too)."""
    held = session.execute(select(Position.quantity).where(Position.trading_account_id == account_id,
                                                           Position.instrument_id == instrument_id)).scalar() or 0
    bought = session.execute(select(func.coalesce(func.sum(Trade.quantity), 0)).where(
        Trade.buyer_id == account_id, Trade.instrument_id == instrument_id, Trade.status == "pending")).scalar_one()
    sold = session.execute(select(func.coalesce(func.sum(Trade.quantity), 0)).where(
        Trade.seller_id == account_id, Trade.instrument_id == instrument_id, Trade.status == "pending")).scalar_one()
    buying = session.execute(select(func.coalesce(func.sum(Order.quantity - Order.filled), 0)).where(
        Order.trading_account_id == account_id, Order.instrument_id == instrument_id, Order.side == "buy",
        Order.status == "open")).scalar_one()
    return int(held) + int(bought) - int(sold) + int(buying)


def check_position_limit(session: Session, account: TradingAccount, inst: Instrument, side: str, quantity: int,
                         field: str = "quantity") -> None:
    """Refuse a purchase (of any method) that could take the participant beyond its maximum position; a sale
    only lowers a position."""
    if side != "buy":
        return
    limit = position_limit(session, account.id, inst.id)
    if limit is None:
        return
    now = exposure(session, account.id, inst.id)
    if now + quantity > limit:
        raise ValidationError(f"{account.number} holds or is buying {now} t of {inst.code}; {quantity} t more exceeds its maximum "
                              f"position of {limit} t", field=field, rule=POSITION_RULE)


@mutating
def set_position_limit(session: Session, actor: Actor, max_quantity: int | None, instrument_code: str | None = None,
                       trading_account_ref=None, reason: str = "") -> PositionLimit | None:
    """The exchange sets (or, with max_quantity None, removes) a maximum position for one participant or all,
    in one instrument or all. Takes effect at once for new orders; what is already held or ordered stands."""
    policy.require(actor, "market.risk.manage")
    inst = None if instrument_code is None else instruments.get(session, instrument_code)
    account = None if trading_account_ref is None else accounts.get_account(session, trading_account_ref)
    if max_quantity is not None and (isinstance(max_quantity, bool) or not isinstance(max_quantity, int) or not 1 <= max_quantity <= 10**12):
        raise ValidationError("a whole number of tCO2e ≥ 1, or none to remove the limit", field="max_quantity", rule=POSITION_RULE)
    where = (PositionLimit.instrument_id == inst.id if inst else PositionLimit.instrument_id.is_(None),
             PositionLimit.trading_account_id == account.id if account else PositionLimit.trading_account_id.is_(None))
    row = session.execute(select(PositionLimit).where(*where).with_for_update()).scalar_one_or_none()
    data = {"instrument": inst.code if inst else None, "trading_account": account.number if account else None,
            "max_quantity": max_quantity, "reason": reason or None}
    if max_quantity is None:
        if row is None:
            return None
        rid = row.id
        session.delete(row)
        session.flush()
        ledger.record(session, actor, "market.position_limit_removed", "position_limit", rid, data)
        return None
    if row is None:
        row = PositionLimit(instrument_id=inst.id if inst else None, trading_account_id=account.id if account else None,
                            max_quantity=max_quantity, set_at=sessions.local_now(session), reason=reason or None)
        session.add(row)
    else:
        row.max_quantity, row.set_at, row.reason = max_quantity, sessions.local_now(session), reason or None
    session.flush()
    ledger.record(session, actor, "market.position_limit_set", "position_limit", row.id, data)
    return row


def report_large_holders(session: Session, actor: Actor, day: date) -> list[LargeHolderReport]:
    """After the day's settlement: a report for every position that reached the large-holder threshold (share ×
    limit, rounded up) and has no open report; an open report whose position fell below is cleared. Runs in
    the caller's transaction (settlement.settle_day, or `monitor`)."""
    share = large_holder_share()
    now = sessions.local_now(session)
    if default_limit() is None and not session.execute(select(PositionLimit.id).limit(1)).first() and not session.execute(
            select(LargeHolderReport.id).where(LargeHolderReport.status == "open").limit(1)).first():
        return []  # no limits, nothing to report or clear
    open_reports = {(r.trading_account_id, r.instrument_id): r for r in session.execute(
        select(LargeHolderReport).where(LargeHolderReport.status == "open").with_for_update()).scalars()}
    filed, changed = [], []
    for pos in session.execute(select(Position).where(Position.quantity > 0).order_by(Position.id)).scalars():
        limit = position_limit(session, pos.trading_account_id, pos.instrument_id)
        key = (pos.trading_account_id, pos.instrument_id)
        if limit is None:
            continue
        threshold = int((share * limit).to_integral_value(rounding=ROUND_CEILING))
        if pos.quantity >= threshold and key not in open_reports:
            report = LargeHolderReport(day=day, trading_account_id=pos.trading_account_id, instrument_id=pos.instrument_id,
                                       quantity=pos.quantity, max_quantity=limit, threshold=threshold, reported_at=now, status="open")
            session.add(report)
            filed.append(report)
        elif pos.quantity < threshold and key in open_reports:
            report = open_reports[key]
            report.status, report.cleared_on = "cleared", day
            changed.append(report)
    for key, report in open_reports.items():  # positions gone to zero
        if report not in changed and not session.execute(select(Position.id).where(
                Position.trading_account_id == key[0], Position.instrument_id == key[1], Position.quantity > 0)).first():
            report.status, report.cleared_on = "cleared", day
            changed.append(report)
    session.flush()
    for report in filed:
        ledger.record(session, actor, "market.large_holder_reported", "large_holder_report", report.id,
                      {"share": str(share)})
    for report in changed:
        ledger.record(session, actor, "market.large_holder_cleared", "large_holder_report", report.id)
    return filed


@mutating
def monitor(session: Session, actor: Actor) -> list[LargeHolderReport]:
    """The exchange checks positions against the large-holder threshold now (it also runs after each day's
    settlement)."""
    policy.require(actor, "market.risk.manage")
    return report_large_holders(session, actor, sessions.trading_day(session))


def large_holder_reports(session: Session, status: str | None = None, since: date | None = None) -> list[dict]:
    """Public: the large-holder reports, newest first, as plain dicts."""
    stmt = (select(LargeHolderReport, TradingAccount.number, Instrument.code)
            .join(TradingAccount, TradingAccount.id == LargeHolderReport.trading_account_id)
            .join(Instrument, Instrument.id == LargeHolderReport.instrument_id)
            .order_by(LargeHolderReport.day.desc(), LargeHolderReport.id.desc()))
    if status:
        stmt = stmt.where(LargeHolderReport.status == status)
    if since:
        stmt = stmt.where(LargeHolderReport.day >= since)
    names = dict(session.execute(select(TradingAccount.id, Organisation.name).join(
        Organisation, Organisation.id == TradingAccount.organisation_id)).all())
    return [{"id": r.id, "kind": "large_holder", "day": r.day.isoformat(), "trading_account": number,
             "participant": names.get(r.trading_account_id), "instrument": code, "quantity": r.quantity,
             "max_quantity": r.max_quantity, "threshold": r.threshold, "status": r.status,
             "cleared_on": r.cleared_on.isoformat() if r.cleared_on else None, "rule": LARGE_HOLDER_RULE}
            for r, number, code in session.execute(stmt).all()]


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.risk.manage", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 36–43")
    ledger.register_fields("position_limit", PositionLimit, ("instrument_id", "trading_account_id", "max_quantity"))
    ledger.register_fields("large_holder_report", LargeHolderReport, ("day", "trading_account_id", "instrument_id", "quantity", "max_quantity",
                                                                      "threshold", "status", "cleared_on"))
