"""Settlement disputes (Trading Rules Art. 32, 49–51): a party to a trade objects in writing before the next
trading day's open, after which the day's settlement data stand as accepted; the exchange records its
mediation's outcome. A dispute changes no trade, position or fund by itself: what the parties settle
afterwards goes through the ordinary verbs."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar, clock
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, ValidationError
from . import sessions
from .blocks import viewer_account
from .models import Dispute, Trade, TradingAccount

RULE = "Trading Rules Art. 32: objections in writing before the next trading day's open, else the data are accepted"
MEDIATION_RULE = "Trading Rules Art. 49–51: negotiation, the exchange's mediation, arbitration or litigation"
OUTCOMES = ("upheld", "dismissed")
OPEN_AT = time(9, 30)


def deadline(trade: Trade) -> datetime:
    """The next trading day's open after the trade's day, Beijing time."""
    return datetime.combine(calendar.add_trading_days(trade.day, 1), OPEN_AT, tzinfo=clock.CST)


def _trade(session: Session, ref) -> Trade:
    text = str(ref or "").strip()
    stmt = select(Trade).where(Trade.ref == text) if "-" in text else (
        select(Trade).where(Trade.id == int(text)) if text.isascii() and text.isdigit() and int(text) < 2**31 else None)
    trade = session.execute(stmt).scalar_one_or_none() if stmt is not None else None
    if trade is None:
        raise NotFound(f"no trade {ref}", field="trade")
    return trade


def _statement(value, field: str) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else ""
    if not text or len(text) > 4000:
        raise ValidationError("a written statement of 1–4,000 characters", field=field, rule=RULE)
    return text


@mutating
def raise_dispute(session: Session, actor: Actor, trade_ref, statement: str) -> Dispute:
    """A party to the trade objects to it in writing, before the next trading day's open."""
    account = viewer_account(session, actor)
    if account is None:
        raise Forbidden("a party's operator raises a dispute", field="actor", rule=RULE)
    trade = _trade(session, trade_ref)
    if account.id not in (trade.buyer_id, trade.seller_id):
        raise Forbidden(f"{account.number} is not a party to trade {trade.ref}", field="trade", rule=RULE)
    text = _statement(statement, "statement")
    now = sessions.local_now(session)
    if now >= deadline(trade):
        raise Conflict(f"trade {trade.ref}'s data were accepted at {deadline(trade):%Y-%m-%d %H:%M}", field="trade", rule=RULE)
    if session.execute(select(Dispute.id).where(Dispute.trade_id == trade.id, Dispute.raised_by == account.id,
                                                Dispute.status == "open")).first():
        raise Conflict(f"{account.number} already has an open dispute about trade {trade.ref}", field="trade", rule=RULE)
    dispute = Dispute(trade_id=trade.id, raised_by=account.id, statement=text, raised_at=now, status="open")
    session.add(dispute)
    session.flush()
    ledger.record(session, actor, "market.dispute_raised", "dispute", dispute.id, {"trade": trade.ref})
    return dispute


@mutating
def resolve(session: Session, actor: Actor, dispute_id: int, outcome: str, resolution: str) -> Dispute:
    """The exchange records its mediation's outcome: upheld or dismissed, with the reasons."""
    policy.require(actor, "market.dispute.resolve")
    dispute = fetch(session, Dispute, dispute_id, "dispute", "dispute_id", with_for_update=True)
    if dispute.status != "open":
        raise Conflict(f"dispute {dispute.id} is {dispute.status}", field="dispute_id", rule=MEDIATION_RULE)
    if outcome not in OUTCOMES:
        raise ValidationError(f"one of {', '.join(OUTCOMES)}", field="outcome", rule=MEDIATION_RULE)
    dispute.status, dispute.resolution = outcome, _statement(resolution, "resolution")
    dispute.resolved_at = sessions.local_now(session)
    session.flush()
    ledger.record(session, actor, f"market.dispute_{outcome}", "dispute", dispute.id)
    return dispute


def disputes(session: Session, actor: Actor, status: str | None = None) -> list[dict]:
    """The exchange (and the registry) see every dispute; a participant's operator those about its trades."""
    stmt = select(Dispute, Trade).join(Trade, Trade.id == Dispute.trade_id).order_by(Dispute.id.desc())
    if not policy.can(actor, "market.read"):
        account = viewer_account(session, actor)
        if account is None:
            raise Forbidden("disputes are seen by the trade's parties and the exchange", field="actor", rule=RULE)
        stmt = stmt.where(or_(Trade.buyer_id == account.id, Trade.seller_id == account.id))
    if status:
        stmt = stmt.where(Dispute.status == status)
    numbers = dict(session.execute(select(TradingAccount.id, TradingAccount.number)).all())
    return [{"id": d.id, "trade": t.ref, "raised_by": numbers[d.raised_by], "statement": d.statement,
             "raised_at": clock.local(d.raised_at).isoformat(), "deadline": deadline(t).isoformat(), "status": d.status,
             "resolution": d.resolution, "resolved_at": clock.local(d.resolved_at).isoformat() if d.resolved_at else None}
            for d, t in session.execute(stmt).all()]


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.dispute.resolve", Role.EXCHANGE_OPERATOR, cites=MEDIATION_RULE)
    ledger.register_fields("dispute", Dispute, ("trade_id", "raised_by", "status"))
