"""PRC working days: weekends, statutory holidays and make-up working days (调休) from the official State
Council calendar (the `chinese-calendar` package). Used for the 20-working-day publicity windows (Measures
Art. 12, 19) and the 15-working-day registry reviews (Art. 15, 22; Registry Rules Art. 7–8).

Civil Code Art. 201: a period counted in days starts on the day after the event, so the start day is never
counted; counting working days, the last day is always a working day (Art. 203 needs no extra step)."""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from .errors import ValidationError


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise ValidationError(f"the official holiday calendar for {day.year} is not available yet (chinese-calendar "
                              f"covers up to its latest release); upgrade the package once the State Council publishes it",
                              field="date", rule="PRC statutory holiday calendar")


def add_workdays(start: date, n: int) -> date:
    """The date that ends a period of `n` working days beginning with the event on `start` (not counted)."""
    return _add_days(start, n, is_workday)


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
    if day.weekday() >= 5:
        return False
    try:
        return not chinese_calendar.is_holiday(day)
    except NotImplementedError:
        raise ValidationError(f"the official holiday calendar for {day.year} is not available yet", field="date",
                              rule="PRC statutory holiday calendar") from None


def add_trading_days(start: date, n: int) -> date:
    """The Nth trading day after `start` (not counted)."""
    return _add_days(start, n, is_trading_day)


def trading_days_between(start: date, end: date) -> int:
    """Trading days after `start` up to and including `end`."""
    return _days_between(start, end, is_trading_day)
