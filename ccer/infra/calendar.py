"""PRC working days: weekends, statutory holidays and make-up working days (调休). Used for the 20-working-day
publicity windows (Measures Art. 12, 19) and the 15-working-day registry reviews (Art. 15, 22; Registry Rules Art. 7–8).

Where a year's calendar comes from, in this order:
1. a year the registry loaded from the State Council's notice (`ccer reference load calendar FILE`; installed here
   by ccer.reference from the database, see `install`) — it overrides the packaged year if both exist;
2. the years packaged in `chinese-calendar` (the State Council notices up to its release);
3. otherwise **provisional**: weekends and the statutory holidays of the State Council's 《全国年节及纪念日放假办法》
   (as revised 2024-11-10, in force 2025-01-01, Art. 2): 元旦 1 January; 春节 除夕 to 初三 (4 days); 清明 (1 day);
   劳动节 1–2 May; 端午 (1 day); 中秋 (1 day); 国庆 1–3 October; a holiday that falls on a Saturday or Sunday is made
   up on the next working day (same rules, 补假). Lunar dates are computed (ccer.infra.lunar). The notice of a year
   moves days around (调休) and adds bridges, so a deadline that crosses a provisional year is flagged
   (`provisional_between`) and recomputed when the year is loaded — a publicity is never refused for it.

Civil Code Art. 201: a period counted in days starts on the day after the event, so the start day is never
counted; counting working days, the last day is always a working day (Art. 203 needs no extra step)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

from . import lunar
from .errors import ValidationError

#: the rules of the provisional calendar, cited in traces and documents
STATUTORY_RULES = "国务院《全国年节及纪念日放假办法》(2024 revision) Art. 2 statutory holidays, weekend holidays made up"
#: the years whose official calendar the package carries
PACKAGED_YEARS = frozenset(d.year for d in chinese_calendar.holidays) | frozenset(d.year for d in chinese_calendar.workdays)


@dataclass(frozen=True)
class YearCalendar:
    """One year's official calendar as the State Council's notice gives it."""
    year: int
    #: days off that would otherwise be working days (statutory holidays, bridges), weekdays or not
    holidays: frozenset
    #: Saturdays and Sundays worked instead (调休 make-up working days)
    workdays: frozenset
    #: where it comes from (edition, notice)
    source: str


#: years loaded by the registry (ccer.reference installs them from the database)
_loaded: dict[int, YearCalendar] = {}


def install(years: dict[int, YearCalendar]) -> None:
    """Replace the registry-loaded years (called by ccer.reference when the database's set changes)."""
    _loaded.clear()
    _loaded.update(years)


def loaded_years() -> dict[int, YearCalendar]:
    return dict(_loaded)


def source_of(year: int) -> str:
    """'loaded', 'packaged' or 'provisional': where the calendar of `year` comes from."""
    if year in _loaded:
        return "loaded"
    if year in PACKAGED_YEARS:
        return "packaged"
    return "provisional"


def is_provisional(day: date) -> bool:
    return source_of(day.year) == "provisional"


def provisional_between(start: date | None, end: date | None) -> bool:
    """True when a period from `start` to `end` counts days of a year whose calendar is provisional: the date
    it gives may move once that year is loaded."""
    if start is None or end is None:
        return False
    lo, hi = min(start, end), max(start, end)
    return any(source_of(y) == "provisional" for y in range(lo.year, hi.year + 1))


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> frozenset:
    """The provisional days off of `year` (see module doc): the statutory holidays of Art. 2 and, for each that
    falls on a weekend, a day made up on the first following working day."""
    spring = lunar.spring_festival(year)
    days = [date(year, 1, 1),
            *(spring + timedelta(days=i) for i in range(-1, 3)),        # 除夕, 初一–初三
            lunar.qingming(year), date(year, 5, 1), date(year, 5, 2),
            lunar.dragon_boat(year), lunar.mid_autumn(year),
            date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)]
    off = set(days)
    for d in sorted(days):
        if d.weekday() >= 5:
            sub = d + timedelta(days=1)
            while sub.weekday() >= 5 or sub in off:
                sub += timedelta(days=1)
            off.add(sub)
    return frozenset(off)


def is_holiday(day: date) -> bool:
    """A day off: a weekend that is not a make-up working day, or a holiday."""
    return not is_workday(day)


def is_workday(day: date) -> bool:
    loaded = _loaded.get(day.year)
    if loaded is not None:
        if day in loaded.workdays:
            return True
        return day.weekday() < 5 and day not in loaded.holidays
    if day.year in PACKAGED_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and day not in statutory_holidays(day.year)


def add_workdays(start: date, n: int) -> date:
    """The date that ends a period of `n` working days beginning with the event on `start` (not counted)."""
    return _add_days(start, n, is_workday)


def deadline(start: date, n: int) -> tuple[date, bool]:
    """`add_workdays` and whether the date is provisional (it counts days of a year not yet loaded)."""
    end = add_workdays(start, n)
    return end, provisional_between(start, end)


def workdays_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    return _days_between(start, end, is_workday)


def _add_days(start: date, n: int, counts) -> date:
    """The Nth day after `start` (not counted) of the days `counts` admits."""
    if n < 0:
        raise ValidationError("must be zero or more", field="n")
    day, left = start, n
    while left:
        day += timedelta(days=1)
        if counts(day):
            left -= 1
    return day


def _days_between(start: date, end: date, counts) -> int:
    """Days `counts` admits after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -_days_between(end, start, counts)
    return sum(counts(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


# ---- trading days (Trading Rules Art. 21–23) --------------------------------------------------------------
#
# The exchange trades Monday to Friday less statutory holidays and announced closures. A make-up working
# Saturday (调休) counts as a working day for the registry's deadlines above, but it is not a trading day.


def is_trading_day(day: date) -> bool:
    """Monday to Friday and not a day off; a make-up working Saturday is not a trading day."""
    return day.weekday() < 5 and is_workday(day)


def add_trading_days(start: date, n: int) -> date:
    """The Nth trading day after `start` (not counted)."""
    return _add_days(start, n, is_trading_day)


def trading_days_between(start: date, end: date) -> int:
    """Trading days after `start` up to and including `end`."""
    return _days_between(start, end, is_trading_day)
