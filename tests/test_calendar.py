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


def test_a_year_without_an_official_calendar_is_provisional_never_refused():
    # 2027 is not in the packaged calendars: weekends and the statutory holidays of the 2024 revision of the
    # State Council rules (Art. 2) — 元旦 1 Jan (Fri); 春节 除夕 Fri 5 Feb – 初三 Mon 8 Feb, Sat 6 and Sun 7 made up on
    # Tue 9 and Wed 10; 清明 Mon 5 Apr; 1–2 May (Sat, Sun: made up Mon 3, Tue 4); 端午 Wed 9 Jun; 中秋 Wed 15 Sep;
    # 1–3 Oct (Fri–Sun: Sat 2 and Sun 3 made up on Mon 4 and Tue 5)
    assert calendar.source_of(2027) == "provisional" and calendar.source_of(2026) == "packaged"
    assert sorted(calendar.statutory_holidays(2027)) == [
        date(2027, 1, 1), *(date(2027, 2, d) for d in range(5, 11)), date(2027, 4, 5), *(date(2027, 5, d) for d in range(1, 5)),
        date(2027, 6, 9), date(2027, 9, 15), *(date(2027, 10, d) for d in range(1, 6))]
    # 20 working days from Thu 10 Dec 2026: 11 (1), 14–18 (6), 21–25 (11), 28–31 (15), 1 Jan off, 4–8 Jan (20)
    assert calendar.deadline(date(2026, 12, 10), 20) == (date(2027, 1, 8), True)
    assert calendar.deadline(date(2026, 11, 2), 20) == (date(2026, 11, 30), False)
    assert calendar.add_workdays(date(2099, 1, 1), 3) == date(2099, 1, 6)  # far years too: Fri 2, Mon 5, Tue 6 January
    assert calendar.is_trading_day(date(2027, 2, 9)) is False and calendar.is_trading_day(date(2027, 2, 11)) is True


def test_a_loaded_year_replaces_the_provisional_one():
    loaded = calendar.YearCalendar(2027, frozenset({date(2027, 1, 1), date(2027, 1, 4)}), frozenset({date(2027, 1, 9)}), "test")
    try:
        calendar.install({2027: loaded})
        assert calendar.source_of(2027) == "loaded"
        # 5–8 Jan (19), Sat 9 Jan a make-up working day (20)
        assert calendar.deadline(date(2026, 12, 10), 20) == (date(2027, 1, 9), False)
        assert calendar.is_workday(date(2027, 1, 9)) and not calendar.is_trading_day(date(2027, 1, 9))
        assert calendar.is_workday(date(2027, 10, 4))  # the notice, not the statutory rule, decides once loaded
    finally:
        calendar.install({})


@pytest.mark.parametrize("year", range(2008, 2027))
def test_lunar_festivals_match_every_packaged_state_council_calendar(year):
    """The computed 春节, 端午, 中秋 and 清明 fall on the official holiday of that name in every packaged year since
    2008, when the three lunar festivals became holidays (中秋 2020 and 2006 share 1 October with 国庆)."""
    import chinese_calendar

    from ccer.infra import lunar

    for day, names in ((lunar.spring_festival(year), {"Spring Festival"}), (lunar.dragon_boat(year), {"Dragon Boat Festival"}),
                       (lunar.mid_autumn(year), {"Mid-autumn Festival", "National Day"}), (lunar.qingming(year), {"Tomb-sweeping Day"})):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        # a festival on a weekend shows as a plain weekend day off (端午 2012: Saturday 23 June)
        assert on_holiday and (name in names or (name is None and day.weekday() >= 5)), (year, day, name)


def test_lunar_dates_after_the_packaged_years():
    from ccer.infra import lunar

    # the dates calendars print for 2027–2030 (an independent check of the computation, not its source): 春节 2027-02-06,
    # 2028-01-26, 2029-02-13, 2030-02-03; 端午 2027-06-09, 2028-05-28; 中秋 2027-09-15, 2028-10-03 (a leap month between)
    assert [lunar.spring_festival(y) for y in (2027, 2028, 2029, 2030)] == [
        date(2027, 2, 6), date(2028, 1, 26), date(2029, 2, 13), date(2030, 2, 3)]
    assert (lunar.dragon_boat(2027), lunar.dragon_boat(2028)) == (date(2027, 6, 9), date(2028, 5, 28))
    assert (lunar.mid_autumn(2027), lunar.mid_autumn(2028)) == (date(2027, 9, 15), date(2028, 10, 3))


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
