"""Instruments (one per project and vintage, Trading Rules Art. 10), their listing (the first participant to
move such CCERs in proposes the initial reference price, the exchange confirms, trading starts the next
trading day: Art. 17, [S7]), halts, reference prices and price limits. Positions are in positions.py."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import calendar
from ..infra.actor import Actor
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import mutating
from ..infra.errors import Conflict, NotFound, ValidationError
from . import sessions
from .accounts import acting_account
from .models import Instrument, ReferencePrice, Trade

#: price limits around the day's reference price (Art. 16)
LIMITS = {"listing": Decimal("0.10"), "block": Decimal("0.30")}
LIMIT_RULE = {"listing": "Trading Rules Art. 16: 挂牌协议 within ±10 % of the reference price",
              "block": "Trading Rules Art. 16: 大宗协议 within ±30 % of the reference price"}
TICK_RULE = "Trading Rules Art. 11: price tick 0.01 CNY, quantity step 1 tCO2e"
MAX_PRICE = 10**9  # fen/t (10 M CNY/t): far above any plausible price, inside every product with quantities


def price_fen(value, field: str = "price") -> int:
    """A price in fen/t from fen (int) or CNY text/Decimal ("80.45"), refused off the 0.01 CNY tick."""
    if isinstance(value, bool):
        raise ValidationError("a price", field=field)
    if isinstance(value, int):
        fen = value
    else:
        try:
            cny = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError(f"not a price: {value!r}", field=field) from None
        if not cny.is_finite() or cny != cny.quantize(Decimal("0.01")):
            raise ValidationError(f"{value} is off the 0.01 CNY tick", field=field, rule=TICK_RULE)
        fen = int(cny * 100)
    if not 1 <= fen <= MAX_PRICE:
        raise ValidationError(f"a price from 0.01 to {MAX_PRICE / 100:,.2f} CNY/t", field=field)
    return fen


def lot(value, field: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**12:
        raise ValidationError("a whole number of tCO2e ≥ 1 (the lot is 1 t)", field=field, rule=TICK_RULE)
    return value


def get(session: Session, code: str) -> Instrument:
    text = str(code or "").strip().upper()
    # (a NUL or an over-long code names no instrument: PostgreSQL refuses NUL in text, a 5xx if queried)
    inst = session.execute(select(Instrument).where(Instrument.code == text)).scalar_one_or_none() if text.isprintable() and len(text) <= 24 else None
    if inst is None:
        raise NotFound(f"no instrument {code}", field="instrument")
    return inst


def tradeable(session: Session, inst: Instrument, day: date) -> None:
    if inst.status != "listed" or inst.listed_from is None or inst.listed_from > day:
        when = f"from {inst.listed_from}" if inst.listed_from else "once the exchange confirms its listing"
        raise Conflict(f"{inst.code} trades {when}", field="instrument", rule="Trading Rules Art. 17: listing effective T+1")
    if inst.halted:
        raise Conflict(f"{inst.code} is halted", field="instrument", rule="Trading Rules Art. 23")


# ---- listing ----------------------------------------------------------------------------------------------


@mutating
def propose(session: Session, actor: Actor, code: str, initial_price) -> Instrument:
    """The first participant holding the instrument proposes its initial reference price ([S7] 标的物维护)."""
    account = acting_account(session, actor, "order")
    inst = get(session, code)
    if inst.status != "unlisted":
        raise Conflict(f"{inst.code} is already {inst.status}", field="instrument", rule="Trading Rules Art. 17")
    if inst.proposed_by != account.id:
        raise Conflict("the first participant to move it in proposes the initial price", field="instrument", rule="[S7] 标的物维护/上市")
    inst.initial_price, inst.status, inst.proposed_at = price_fen(initial_price, "initial_price"), "proposed", sessions.local_now(session)
    ledger.record(session, actor, "market.instrument_proposed", "instrument", inst.id)
    return inst


@mutating
def confirm(session: Session, actor: Actor, code: str) -> Instrument:
    """The exchange confirms: trading starts the next trading day (T+1), at the proposed reference price."""
    policy.require(actor, "market.instrument.confirm")
    inst = get(session, code)
    if inst.status != "proposed":
        raise Conflict(f"{inst.code} is {inst.status}; only a proposed instrument is confirmed", field="instrument")
    inst.status = "listed"
    inst.listed_from = calendar.add_trading_days(sessions.trading_day(session), 1)
    session.add(ReferencePrice(instrument_id=inst.id, day=inst.listed_from, price=inst.initial_price, basis="initial"))
    ledger.record(session, actor, "market.instrument_listed", "instrument", inst.id)
    return inst


@mutating
def halt(session: Session, actor: Actor, code: str, resume: bool = False, reason: str = "") -> Instrument:
    policy.require(actor, "market.instrument.halt")
    inst = get(session, code)
    inst.halted = not resume
    ledger.record(session, actor, "market.resumed" if resume else "market.halted", "instrument", inst.id, {"reason": reason})
    return inst


# ---- reference prices and limits ---------------------------------------------------------------------------


def reference_price(session: Session, inst: Instrument, day: date) -> int:
    """The reference price in force on `day`: the latest one set for a day up to it (Art. 17)."""
    price = session.execute(select(ReferencePrice.price).where(ReferencePrice.instrument_id == inst.id, ReferencePrice.day <= day)
                            .order_by(ReferencePrice.day.desc()).limit(1)).scalar()
    if price is None:
        raise Conflict(f"{inst.code} has no reference price for {day}", field="instrument", rule="Trading Rules Art. 17")
    return price


def limits(reference: int, method: str) -> tuple[int, int]:
    """(lowest, highest) price in fen within ±10 % / ±30 % of the reference, on the tick: the bounds rounded
    inwards so that no admitted price is outside the percentage."""
    band = LIMITS[method]
    low = (Decimal(reference) * (1 - band)).to_integral_value(rounding=ROUND_CEILING)
    high = (Decimal(reference) * (1 + band)).to_integral_value(rounding=ROUND_FLOOR)
    return int(low), int(high)


def check_limit(session: Session, inst: Instrument, price: int, method: str, day: date) -> None:
    low, high = limits(reference_price(session, inst, day), method)
    if not low <= price <= high:
        raise ValidationError(f"{price / 100:.2f} CNY/t is outside {low / 100:.2f}–{high / 100:.2f} today", field="price", rule=LIMIT_RULE[method])


def next_reference(session: Session, inst: Instrument, day: date) -> tuple[int, str]:
    """The next trading day's reference: this day's VWAP of listing trades rounded to the tick (half up), or
    this day's reference carried forward."""
    volume, turnover = session.execute(select(func.coalesce(func.sum(Trade.quantity), 0), func.coalesce(func.sum(Trade.amount), 0))
                                       .where(Trade.instrument_id == inst.id, Trade.day == day, Trade.method == "listing")).one()
    if volume:
        return int((Decimal(turnover) / Decimal(volume)).to_integral_value(rounding=ROUND_HALF_UP)), "vwap"
    return reference_price(session, inst, day), "carried"


def set_next_references(session: Session, day: date) -> int:
    """After the close: every listed instrument's reference price for the next trading day."""
    following = calendar.add_trading_days(day, 1)
    n = 0
    for inst in session.execute(select(Instrument).where(Instrument.status == "listed", Instrument.listed_from <= day)).scalars():
        price, basis = next_reference(session, inst, day)
        if session.execute(select(ReferencePrice.id).where(ReferencePrice.instrument_id == inst.id, ReferencePrice.day == following)).first():
            continue
        session.add(ReferencePrice(instrument_id=inst.id, day=following, price=price, basis=basis))
        n += 1
    session.flush()
    return n


def wire() -> None:
    """This module's event subjects and policy rules; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("market.instrument.confirm", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 17; [S7] 标的物维护/上市")
    policy.allow("market.instrument.halt", Role.EXCHANGE_OPERATOR, cites="Trading Rules Art. 23")
    ledger.register_fields("instrument", Instrument, ("code", "project_id", "vintage", "status", "initial_price", "listed_from", "halted"))
