from datetime import datetime, timedelta

import pytest

from ccer import ledger
from ccer.infra import clock
from ccer.infra.actor import Actor
from ccer.infra.clock import CST
from ccer.infra.errors import ValidationError


def _event(session):
    ledger.record(session, Actor.system("test"), "clock.moved", "clock", 1, {})
    session.commit()


def test_frozen_and_advanced(session):
    clock.set_time(session, datetime(2025, 9, 30, 9, 0), freeze=True)
    assert clock.now(session) == datetime(2025, 9, 30, 9, 0, tzinfo=CST)
    clock.advance(session, timedelta(days=20))
    assert clock.today(session).isoformat() == "2025-10-20"  # 30 September + 20 days
    session.commit()
    clock.reset(session)  # no events: back to the wall clock (later than 2025 anyway)
    assert abs((clock.now(session) - datetime.now(CST)).total_seconds()) < 5


def test_an_empty_ledger_lets_the_clock_be_set_anywhere(session):
    """NO_REWIND binds once events exist: before the first event nothing has happened at any time."""
    clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    assert clock.set_time(session, datetime(2026, 12, 1, 9, 0), freeze=True) == datetime(2026, 12, 1, 9, 0, tzinfo=CST)
    assert clock.advance(session, timedelta(days=-1)).date().isoformat() == "2026-11-30"
    clock.reset(session)
    assert abs((clock.now(session) - datetime.now(CST)).total_seconds()) < 5


def test_set_time_back_is_refused_once_an_event_exists(session):
    clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    _event(session)  # occurred at 2026-12-10 09:00
    with pytest.raises(ValidationError) as err:
        clock.set_time(session, datetime(2026, 12, 10, 8, 59), freeze=True)  # one minute back
    assert err.value.field == "clock" and "never goes backwards" in err.value.rule
    assert str(err.value) == "clock: 2026-12-10T08:59:00+08:00 is before 2026-12-10T09:00:00+08:00, the platform time or the latest event"
    with pytest.raises(ValidationError):
        clock.set_time(session, datetime(2026, 12, 10, 8, 59))  # running from there: just as much a move back
    session.rollback()
    assert clock.now(session) == datetime(2026, 12, 10, 9, 0, tzinfo=CST)  # unchanged
    # the same instant is not back; forward is fine
    assert clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True) == datetime(2026, 12, 10, 9, 0, tzinfo=CST)
    assert clock.set_time(session, datetime(2026, 12, 11, 9, 0), freeze=True) == datetime(2026, 12, 11, 9, 0, tzinfo=CST)


def test_the_latest_event_is_a_floor_too(session):
    """An event recorded later than the platform time now (e.g. written by another process before this clock
    was moved) still bounds the clock: set_time may not go before it."""
    clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    _event(session)
    clock.set_time(session, datetime(2026, 12, 12, 9, 0), freeze=True)
    _event(session)  # latest event: 2026-12-12 09:00
    with pytest.raises(ValidationError) as err:
        clock.set_time(session, datetime(2026, 12, 11, 9, 0), freeze=True)
    assert "2026-12-12T09:00:00+08:00" in str(err.value)  # the floor is named


def test_advance_with_a_negative_delta_is_refused_once_an_event_exists(session):
    clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    _event(session)
    with pytest.raises(ValidationError) as err:
        clock.advance(session, timedelta(seconds=-1))
    assert err.value.rule == clock.NO_REWIND
    session.rollback()
    assert clock.advance(session, timedelta(0)) == datetime(2026, 12, 10, 9, 0, tzinfo=CST)  # standing still is not back
    assert clock.advance(session, timedelta(days=1)).date().isoformat() == "2026-12-11"


def test_reset_is_refused_when_the_wall_clock_is_behind(session):
    """A clock that ran ahead of the wall clock (here to 2100) stays ahead once events exist."""
    clock.set_time(session, datetime(2100, 1, 1, 9, 0), freeze=True)
    _event(session)
    with pytest.raises(ValidationError) as err:
        clock.reset(session)
    assert err.value.rule == clock.NO_REWIND
    session.rollback()
    assert clock.now(session) == datetime(2100, 1, 1, 9, 0, tzinfo=CST)


def test_reset_forward_to_the_wall_clock_is_allowed(session):
    clock.set_time(session, datetime(2025, 3, 3, 9, 0), freeze=True)
    _event(session)
    clock.reset(session)  # the wall clock is after 2025-03-03
    assert abs((clock.now(session) - datetime.now(CST)).total_seconds()) < 5


def test_freeze_stands_a_running_clock_still_without_going_back(session):
    _event(session)  # on the running (wall) clock
    frozen = clock.freeze(session)
    session.commit()
    assert clock.now(session) == frozen and frozen >= clock.latest_event(session)


def test_a_running_clock_set_after_the_latest_event_does_not_land_before_it(session):
    """Offsets are whole seconds: set_time rounds up, so a running clock never starts before the instant asked for."""
    clock.set_time(session, datetime(2030, 1, 1, 9, 0, 0, 700_000), freeze=True)
    _event(session)  # at 09:00:00.7
    assert clock.set_time(session, datetime(2030, 1, 1, 9, 0, 0, 700_000)) >= datetime(2030, 1, 1, 9, 0, 0, 700_000, tzinfo=CST)


def test_cli_clock_set_backwards_is_refused(session, db_url):
    from click.testing import CliRunner

    from ccer.cli import main

    run = CliRunner()
    assert run.invoke(main, ["--database", db_url, "clock", "set", "2026-12-10T09:00"]).exit_code == 0  # records clock.moved
    out = run.invoke(main, ["--database", db_url, "clock", "set", "2025-09-01"])
    # one line naming the field, the instants and the rule (ccer.cli CcerGroup.invoke), exit 2
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1
    assert out.output.startswith("error: clock: 2025-09-01T00:00:00+08:00 is before 2026-12-10T09:00:")
    assert out.output.rstrip().endswith(f"[{clock.NO_REWIND}]")
    back = run.invoke(main, ["--database", db_url, "clock", "advance", "0d"])
    # `clock set` leaves the clock running from 09:00 (offset rounded up to whole seconds): seconds later, not back
    assert back.exit_code == 0 and back.output.startswith("2026-12-10T09:00:0")
