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
