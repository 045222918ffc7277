"""Market data (Trading Rules Art. 33–35: daily market information, published): per instrument and for the whole
market, per trading day — open, high, low, close, VWAP, volume, turnover, number of trades, the day's and the
next day's reference price — and the public notices (large-holder reports, halts and resumptions). Plain
dicts and lists for the API and the pages, and a CSV export. Public: no participant is named but in the
large-holder reports, which the rules make public.

What counts: every trade of the day but failed ones (a trade is final when matched, Art. 19; settlement
marks the few it could not deliver). Open, high, low and close are those of 挂牌协议 (listing-agreement)
trades — the continuous market that also makes the reference price (Art. 17) — so a day of only block or
auction trades has none; volume, turnover, the number of trades and the VWAP cover every method, and
`by_method` gives each method's own. Prices are fen per tCO2e, turnover fen, volume tCO2e; the VWAP is
turnover ÷ volume rounded half up to the 0.01 CNY tick. The CSV gives prices and turnover in CNY."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..infra import calendar, clock
from ..infra.errors import Conflict, ValidationError
from ..ledger import Event
from . import instruments, risk
from .models import Instrument, ReferencePrice, Trade

METHODS = ("listing", "block", "auction")
MAX_DAYS = 366 * 3  # one request's range


def _vwap(turnover: int, volume: int) -> int | None:
    return int((Decimal(turnover) / Decimal(volume)).to_integral_value(rounding=ROUND_HALF_UP)) if volume else None


def _empty() -> dict:
    return {"open": None, "high": None, "low": None, "close": None, "vwap": None, "volume": 0, "turnover": 0, "trades": 0,
            "by_method": {m: {"volume": 0, "turnover": 0, "trades": 0, "vwap": None, "high": None, "low": None} for m in METHODS}}


def _aggregate(session: Session, start: date, end: date, instrument_id: int | None = None) -> dict[tuple[date, int], dict]:
    """{(day, instrument_id): statistics} for every instrument that traded on a day of [start, end]."""
    where = [Trade.day >= start, Trade.day <= end, Trade.status != "failed"]
    if instrument_id is not None:
        where.append(Trade.instrument_id == instrument_id)
    out: dict[tuple[date, int], dict] = {}
    for day, inst, method, volume, turnover, n, high, low in session.execute(
            select(Trade.day, Trade.instrument_id, Trade.method, func.sum(Trade.quantity), func.sum(Trade.amount), func.count(Trade.id),
                   func.max(Trade.price), func.min(Trade.price)).where(*where).group_by(Trade.day, Trade.instrument_id, Trade.method)):
        s = out.setdefault((day, inst), _empty())
        volume, turnover = int(volume), int(turnover)
        s["by_method"].setdefault(method, {})
        s["by_method"][method] = {"volume": volume, "turnover": turnover, "trades": int(n), "vwap": _vwap(turnover, volume),
                                  "high": int(high), "low": int(low)}
        s["volume"] += volume
        s["turnover"] += turnover
        s["trades"] += int(n)
        if method == "listing":
            s["high"], s["low"] = int(high), int(low)
    for s in out.values():
        s["vwap"] = _vwap(s["turnover"], s["volume"])
    # open and close: the first and the last listing trade of the day, by time of matching, then number
    first = func.row_number().over(partition_by=(Trade.day, Trade.instrument_id), order_by=(Trade.matched_at, Trade.id)).label("first")
    last = func.row_number().over(partition_by=(Trade.day, Trade.instrument_id),
                                  order_by=(Trade.matched_at.desc(), Trade.id.desc())).label("last")
    ranked = select(Trade.day, Trade.instrument_id, Trade.price, first, last).where(*where, Trade.method == "listing").subquery()
    for day, inst, price, is_first, is_last in session.execute(
            select(ranked.c.day, ranked.c.instrument_id, ranked.c.price, ranked.c.first, ranked.c.last)
            .where((ranked.c.first == 1) | (ranked.c.last == 1))):
        s = out[(day, inst)]
        if is_first == 1:
            s["open"] = int(price)
        if is_last == 1:
            s["close"] = int(price)
    return out


def _references(session: Session, inst: Instrument, day: date) -> dict:
    """The day's reference price and the next trading day's: set after the day's settlement, else what it
    would be now (basis "provisional")."""
    try:
        today = instruments.reference_price(session, inst, day)
    except Conflict:  # an instrument not yet trading has none
        return {"reference_price": None, "next_reference_price": None, "next_reference_basis": None}
    following = calendar.add_trading_days(day, 1)
    row = session.execute(select(ReferencePrice).where(ReferencePrice.instrument_id == inst.id, ReferencePrice.day == following)).scalar_one_or_none()
    if row is not None:
        nxt, basis = row.price, row.basis
    else:
        nxt, basis = instruments.next_reference(session, inst, day)[0], "provisional"
    return {"reference_price": today, "next_reference_price": nxt, "next_reference_basis": basis}


def _range(start, end) -> tuple[date, date]:
    start, end = _day(start, "start"), _day(end, "end")
    if end < start:
        raise ValidationError("the end is on or after the start", field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days at a time", field="end")
    return start, end


def _day(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"not a date: {value!r} (YYYY-MM-DD)", field=field) from None


def _trading_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1) if calendar.is_trading_day(start + timedelta(days=i))]


def _listed(session: Session, day: date, code: str | None) -> list[Instrument]:
    if code is not None:
        return [instruments.get(session, code)]
    return list(session.execute(select(Instrument).where(Instrument.status == "listed", Instrument.listed_from <= day)
                                .order_by(Instrument.code)).scalars())


def _market(stats: list[dict], instruments_listed: int) -> dict:
    """The whole market's day: sums, the VWAP over every trade, and each method's."""
    out = {"volume": sum(s["volume"] for s in stats), "turnover": sum(s["turnover"] for s in stats),
           "trades": sum(s["trades"] for s in stats), "instruments_listed": instruments_listed,
           "instruments_traded": sum(1 for s in stats if s["trades"]), "by_method": {}}
    out["vwap"] = _vwap(out["turnover"], out["volume"])
    for m in METHODS:
        parts = [s["by_method"][m] for s in stats if s["by_method"].get(m, {}).get("trades")]
        volume, turnover = sum(p["volume"] for p in parts), sum(p["turnover"] for p in parts)
        out["by_method"][m] = {"volume": volume, "turnover": turnover, "trades": sum(p["trades"] for p in parts),
                               "vwap": _vwap(turnover, volume)}
    return out


def daily(session: Session, day, code: str | None = None) -> dict:
    """Public: one trading day — the market's figures and every listed instrument's (or one's)."""
    day = _day(day, "day")
    insts = _listed(session, day, code)
    stats = _aggregate(session, day, day, insts[0].id if code is not None else None)
    rows = [{"day": day.isoformat(), "instrument": inst.code, **stats.get((day, inst.id), _empty()), **_references(session, inst, day)}
            for inst in insts]
    return {"day": day.isoformat(), "trading_day": calendar.is_trading_day(day), "market": _market(rows, len(insts)), "instruments": rows}


def history(session: Session, start, end, code: str | None = None) -> list[dict]:
    """Public: trading day by trading day over [start, end] — one instrument's rows (with `code`) or the
    market's."""
    start, end = _range(start, end)
    inst = instruments.get(session, code) if code is not None else None
    stats = _aggregate(session, start, end, inst.id if inst else None)
    out = []
    for day in _trading_days(start, end):
        if inst is not None:
            if inst.listed_from is None or inst.listed_from > day:
                continue
            out.append({"day": day.isoformat(), "instrument": inst.code, **stats.get((day, inst.id), _empty()), **_references(session, inst, day)})
        else:
            listed = _listed(session, day, None)
            out.append({"day": day.isoformat(), **_market([stats.get((day, i.id), _empty()) for i in listed], len(listed))})
    return out


CSV_COLUMNS = ("day", "instrument", "open", "high", "low", "close", "vwap", "volume_t", "turnover_cny", "trades", "listing_volume_t",
               "block_volume_t", "auction_volume_t", "reference_price", "next_reference_price")


def _cny(fen: int | None) -> str:
    return "" if fen is None else f"{Decimal(fen) / 100:.2f}"


def export_csv(session: Session, start, end, code: str | None = None) -> str:
    """Public: the daily figures over [start, end] as CSV (UTF-8, one row per instrument and trading day, then
    the market's row "ALL"), prices in CNY per tCO2e and turnover in CNY."""
    start, end = _range(start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for day in _trading_days(start, end):
        d = daily(session, day, code)
        for r in d["instruments"]:
            writer.writerow([r["day"], r["instrument"], _cny(r["open"]), _cny(r["high"]), _cny(r["low"]), _cny(r["close"]), _cny(r["vwap"]),
                             r["volume"], _cny(r["turnover"]), r["trades"], *(r["by_method"][m]["volume"] for m in METHODS),
                             _cny(r["reference_price"]), _cny(r["next_reference_price"])])
        if code is None:
            mk = d["market"]
            writer.writerow([d["day"], "ALL", "", "", "", "", _cny(mk["vwap"]), mk["volume"], _cny(mk["turnover"]), mk["trades"],
                             *(mk["by_method"][m]["volume"] for m in METHODS), "", ""])
    return out.getvalue()


HALT_ACTIONS = {"market.halted": "halt", "market.resumed": "resume"}


def notices(session: Session, since=None) -> list[dict]:
    """Public: large-holder reports and the exchange's halts and resumptions (Art. 23, 36–43), newest first."""
    since = _day(since, "since") if since is not None else None
    out = risk.large_holder_reports(session, since=since)
    codes = dict(session.execute(select(Instrument.id, Instrument.code)).all())
    stmt = select(Event).where(Event.subject_type == "instrument", Event.action.in_(list(HALT_ACTIONS))).order_by(Event.id.desc())
    for ev in session.execute(stmt).scalars():
        at = clock.local(ev.occurred_at)
        if since is not None and at.date() < since:
            continue
        payload = json.loads(ev.payload_json)
        out.append({"id": ev.id, "kind": HALT_ACTIONS[ev.action], "day": at.date().isoformat(), "at": at.isoformat(),
                    "instrument": codes.get(int(ev.subject_id)), "reason": payload.get("reason") or None,
                    "rule": "Trading Rules Art. 23: halts and resumptions announced"})
    return sorted(out, key=lambda n: (n["day"], n.get("at") or ""), reverse=True)
