"""Sealing on PostgreSQL: events written while another transaction holds the chain head wait pending, are
chained in the order their changes were made, and the server's sealer chains what the last writers left
(ccer/ledger/append.py)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from ccer import ledger
from ccer.infra.db import make_session_factory

from tests.registry_world import World

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


def _ok(session):
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


# ---- sealing: events written while another transaction holds the chain head ------------------------------------


def test_events_wait_pending_while_the_head_is_held_and_are_sealed_in_order(world, session, engine):
    world.issue({2021: 100})
    session.rollback()
    before = ledger.head(session)[0]
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM ledger_head WHERE id = 1 FOR UPDATE"))  # another transaction holds the head
    try:
        world.transfer(world.owner, world.trader, quantity=10)
        world.retire(world.trader, quantity=4)
        session.rollback()
        waiting = ledger.pending(session)
        # a sale (moved into trading, delivered, moved back) and a retirement, each maker–checker half an event
        assert [e.action for e in waiting] == ["approval.proposed", "ccer.to_trading", "ccer.delivered", "approval.proposed",
                                               "ccer.from_trading", "approval.proposed", "ccer.retired"]
        assert ledger.head(session)[0] == before  # nothing waited for the holder
        report = ledger.verify(session)  # their changes are in the tables: verify compares them all the same
        assert report.ok and report.pending == 7, [str(p) for p in report.problems]
        session.rollback()
    finally:
        holder.rollback()
        holder.close()
    session.rollback()
    assert ledger.seal_pending(session) == 7 and not ledger.pending(session)  # `ccer ledger seal`
    cp = ledger.take_checkpoint(session)
    assert cp.seq == before + 7
    chained = session.execute(select(ledger.Event.action).where(ledger.Event.seq > before).order_by(ledger.Event.seq)).scalars().all()
    assert chained == [e.action for e in waiting]  # id order: the order the changes were made
    _ok(session)


def test_the_servers_sealer_chains_what_the_last_writers_left(world, session, engine):
    world.issue({2021: 100})
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM ledger_head WHERE id = 1 FOR UPDATE"))
    world.transfer(world.owner, world.trader, quantity=10)
    session.rollback()
    assert len(ledger.pending(session)) == 5
    session.rollback()
    holder.rollback()
    holder.close()
    stop = threading.Event()
    thread = ledger.keep_sealing(make_session_factory(engine), every=0.05, stop=stop)
    try:
        for _ in range(100):
            session.rollback()
            if not ledger.pending(session):
                break
            time.sleep(0.05)
        assert not ledger.pending(session)
    finally:
        stop.set()
        thread.join(5)
    _ok(session)


def test_writers_racing_for_the_head_never_chain_an_event_twice(engine, session):
    """Eight threads each commit 40 events as fast as they can: whoever finds the head free seals what it
    sees, the others leave theirs pending. Afterwards every event is chained once, seq 1…n without a gap."""
    from concurrent.futures import ThreadPoolExecutor

    from ccer.infra.actor import Actor

    factory = make_session_factory(engine)
    before = ledger.count(session)
    session.rollback()

    def writer(i: int) -> None:
        with factory() as s:
            for n in range(40):
                ledger.record(s, Actor.system(f"writer{i}"), "test.raced", "race", f"{i}-{n}", {"n": n})
                s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    assert ledger.seal_pending(session) >= 0
    seqs = session.execute(select(ledger.Event.seq).order_by(ledger.Event.seq)).scalars().all()
    assert seqs == list(range(1, before + 8 * 40 + 1))
    _ok(session)
