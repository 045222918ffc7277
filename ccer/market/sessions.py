"""Trading days and sessions (Trading Rules Art. 21–23): Monday to Friday less statutory holidays (a
make-up working Saturday is not a trading day: ccer/infra/calendar.py), listing and block agreements
9:30–11:30 and 13:00–15:00 Beijing time; a halted instrument does not trade, and time lost is not made up."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from ..infra import calendar, clock
from ..infra.errors import Conflict

SESSIONS = ((time(9, 30), time(11, 30)), (time(13, 0), time(15, 0)))
RULE = "Trading Rules Art. 21–23: trading days, 9:30–11:30 and 13:00–15:00"
#: deposits and withdrawals: trading days 9:30–15:00 ([S7])
FUNDS_HOURS = (time(9, 30), time(15, 0))
FUNDS_RULE = "[S7]: funds in and out on trading days 9:30–15:00"


def local_now(session: Session) -> datetime:
    return clock.local(clock.now(session))


def trading_day(session: Session) -> date:
    return local_now(session).date()


def in_session(moment: datetime) -> bool:
    """Whether continuous trading is open at this Beijing time (start inclusive, end exclusive)."""
    return calendar.is_trading_day(moment.date()) and any(a <= moment.time() < b for a, b in SESSIONS)


def require_open(session: Session) -> datetime:
    now = local_now(session)
    if not calendar.is_trading_day(now.date()):
        raise Conflict(f"{now:%Y-%m-%d} is not a trading day", field="time", rule=RULE)
    if not in_session(now):
        raise Conflict(f"{now:%H:%M:%S} is outside the sessions 9:30–11:30 and 13:00–15:00", field="time", rule=RULE)
    return now


def require_funds_hours(session: Session) -> datetime:
    now = local_now(session)
    if not calendar.is_trading_day(now.date()) or not FUNDS_HOURS[0] <= now.time() < FUNDS_HOURS[1]:
        raise Conflict(f"{now:%Y-%m-%d %H:%M} is outside trading days 9:30–15:00", field="time", rule=FUNDS_RULE)
    return now


def require_closed(session: Session) -> datetime:
    """End-of-day work (expiry, settlement) runs after the close of a trading day."""
    now = local_now(session)
    if calendar.is_trading_day(now.date()) and now.time() < SESSIONS[-1][1]:
        raise Conflict(f"the market closes at 15:00; it is {now:%H:%M}", field="time", rule="Trading Rules Art. 25")
    return now
