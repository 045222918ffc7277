from datetime import datetime, timedelta

from ccer.infra import clock
from ccer.infra.clock import CST


def test_frozen_and_advanced(session):
    clock.set_time(session, datetime(2025, 9, 30, 9, 0), freeze=True)
    assert clock.now(session) == datetime(2025, 9, 30, 9, 0, tzinfo=CST)
    clock.advance(session, timedelta(days=20))
    assert clock.today(session).isoformat() == "2025-10-20"
    session.commit()
    clock.reset(session)
    assert abs((clock.now(session) - datetime.now(CST)).total_seconds()) < 5


def test_the_operator_clock_never_goes_back_once_events_exist(session):
    """ccer.infra.clock.move_to / move_by (`ccer clock set|advance`): forward only once the ledger holds events."""
    import pytest

    from ccer import ledger
    from ccer.infra.actor import Actor
    from ccer.infra.errors import ValidationError

    clock.set_time(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    clock.move_to(session, datetime(2026, 12, 1, 9, 0), freeze=True)  # no events yet: a fresh platform may be set anywhere
    assert clock.today(session).isoformat() == "2026-12-01"
    clock.move_to(session, datetime(2026, 12, 10, 9, 0), freeze=True)
    ledger.record(session, Actor.system("test"), "clock.moved", "clock", 1, {})
    session.commit()
    with pytest.raises(ValidationError) as err:
        clock.move_to(session, datetime(2026, 12, 10, 8, 59), freeze=True)  # one minute back
    assert err.value.field == "clock" and "never goes backwards" in err.value.rule
    with pytest.raises(ValidationError):
        clock.move_by(session, timedelta(seconds=-1))
    assert clock.now(session) == datetime(2026, 12, 10, 9, 0, tzinfo=CST)  # unchanged
    assert clock.move_to(session, datetime(2026, 12, 10, 9, 0), freeze=True) == datetime(2026, 12, 10, 9, 0, tzinfo=CST)  # same instant
    assert clock.move_by(session, timedelta(days=1)).date().isoformat() == "2026-12-11"


def test_cli_clock_set_backwards_is_refused(session, db_url):
    from click.testing import CliRunner

    from ccer.cli import main

    run = CliRunner()
    assert run.invoke(main, ["--database", db_url, "clock", "set", "2026-12-10T09:00"]).exit_code == 0  # records clock.moved
    out = run.invoke(main, ["--database", db_url, "clock", "set", "2025-09-01"])
    assert out.exit_code != 0 and "never goes backwards" in out.output
