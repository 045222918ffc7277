"""PRC working days around the 2025 National Day holiday: 1–8 October off; Sunday 28 September and Saturday
11 October are make-up working days (State Council notice on the 2025 holidays)."""
from datetime import date

import pytest
from click.testing import CliRunner

from ccer.infra import calendar
from ccer.cli import main
from ccer.infra.errors import ValidationError


@pytest.mark.parametrize("start, n, end", [
    (date(2025, 9, 26), 1, date(2025, 9, 28)),   # Fri → Sat off → Sun 28th is a make-up working day
    (date(2025, 9, 30), 1, date(2025, 10, 9)),   # 1–8 October are holidays
    (date(2025, 9, 30), 3, date(2025, 10, 11)),  # 9th, 10th, then Saturday 11th (make-up)
    # 20 working days from Mon 15 Sep: 16–19 (4), 22–26 (9), Sun 28 (10), 29–30 (12), 9–10 Oct (14), Sat 11 (15), 13–17 (20)
    (date(2025, 9, 15), 20, date(2025, 10, 17)),
    (date(2025, 10, 1), 0, date(2025, 10, 1)),
])
def test_add_workdays_across_national_day(start, n, end):
    assert calendar.add_workdays(start, n) == end
    assert calendar.workdays_between(start, end) == n


def test_start_day_is_not_counted():
    # Civil Code Art. 201: a working day as the start contributes nothing
    assert calendar.add_workdays(date(2025, 9, 15), 1) == date(2025, 9, 16)


def test_years_without_an_official_calendar_are_refused():
    with pytest.raises(ValidationError) as err:
        calendar.add_workdays(date(2099, 1, 1), 3)
    assert err.value.field == "date"


def test_cli():
    out = CliRunner().invoke(main, ["calendar", "add-workdays", "2025-09-15", "20"])
    assert out.exit_code == 0 and out.output.strip() == "2025-10-17"
    bad = CliRunner().invoke(main, ["calendar", "add-workdays", "15/09/2025", "20"])
    assert bad.exit_code == 2 and "DATE" in bad.output


@pytest.mark.parametrize("start, n, end", [
    # a make-up working Saturday or Sunday (调休) counts for the registry's deadlines, never as a trading day
    (date(2025, 9, 26), 1, date(2025, 9, 29)),   # Fri → Sun 28th is a working day, not a trading day → Mon 29th
    (date(2025, 9, 30), 1, date(2025, 10, 9)),   # 1–8 October closed
    (date(2025, 10, 10), 1, date(2025, 10, 13)),  # Sat 11th works, does not trade
    (date(2026, 12, 8), 6, date(2026, 12, 16)),  # 9, 10, 11, 14, 15, 16
])
def test_trading_days_skip_make_up_working_days(start, n, end):
    assert calendar.add_trading_days(start, n) == end
    assert calendar.trading_days_between(start, end) == n
    assert calendar.is_workday(date(2025, 9, 28)) and not calendar.is_trading_day(date(2025, 9, 28))


def test_cli_trading_days():
    out = CliRunner().invoke(main, ["calendar", "add-trading-days", "2025-09-26", "1"])
    assert out.exit_code == 0 and out.output.strip() == "2025-09-29"
