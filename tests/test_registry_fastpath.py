"""The registry's one-statement path on PostgreSQL (ccer/issuance/fastpath.py) against the general path.

The peer is the general (Python/ORM) path itself: the same operations run through both must leave the same
holdings, the same serial blocks and the same kinds of events, and the chain written by the SQL functions
must verify with Python's hashing. What the fast path declines must come back with the general path's
reason and leave nothing behind.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from ccer import events, merkle
from ccer.db import make_engine, make_session_factory
from ccer.auth import makerchecker
from ccer.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from ccer.issuance import fastpath, groupcommit, holdings, retirements, services
from ccer.events import Checkpoint
from ccer.issuance.models import SerialBlock
from ccer.issuance.serials import format_serial

from tests.registry_world import World

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


@pytest.fixture()
def calls(monkeypatch):
    """How many fast-path calls were carried out (not declined)."""
    done = {"n": 0}
    real = fastpath._call

    def counting(session, sql, params):
        result = real(session, sql, params)
        done["n"] += result is not None
        return result

    monkeypatch.setattr(fastpath, "_call", counting)
    return done


def _ok(session):
    report = events.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def _events(session) -> int:
    session.rollback()
    return session.execute(select(func.count()).select_from(events.Event)).scalar_one()


# ---- the hash, computed by PostgreSQL, equals Python's -----------------------------------------------------

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(actor=_TEXT, subject_id=_TEXT, action=_TEXT, payload=_TEXT, user=st.none() | st.integers(1, 10**6),
       micro=st.sampled_from([0, 1, 500000, 999999]))
def test_sql_event_hash_is_pythons(engine, db_url, actor, subject_id, action, payload, user, micro):
    # Peer: ccer.events.Event.compute_hash (canonical JSON + SHA-256 in Python) on the same content;
    # quotes, backslashes, control characters, CJK and astral characters all go through both escapers.
    at = datetime(2026, 11, 22, 4, 15, 4, micro, tzinfo=timezone.utc)
    ev = events.Event(seq=7, occurred_at=at, actor_user_id=user, actor=actor, subject_type="transfer", subject_id=subject_id,
                      action=action, payload_json=payload, prev_hash="ab" * 32)
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT ccer_event_hash(7, :at, :user, :actor, 'transfer', :sid, :action, :payload, :prev)"),
                           {"at": at, "user": user, "actor": actor, "sid": subject_id, "action": action, "payload": payload,
                            "prev": "ab" * 32}).scalar_one()
    assert sql == ev.compute_hash()


def test_sql_event_hash_on_a_known_case(engine, db_url):
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    ev = events.Event(seq=1, occurred_at=at, actor_user_id=None, actor='引号"与\\反斜杠\n', subject_type="t", subject_id="1",
                      action="a", payload_json='{"k":"值"}', prev_hash=events.GENESIS)
    with engine.connect() as conn:
        sql = conn.execute(text("SELECT ccer_event_hash(1, :at, NULL, :actor, 't', '1', 'a', :payload, :prev)"),
                           {"at": at, "actor": ev.actor, "payload": ev.payload_json, "prev": events.GENESIS}).scalar_one()
    assert events.canonical(ev.content()).startswith('{"action":"a","actor":"引号\\"与\\\\反斜杠\\n","actor_user_id":null,'
                                                     '"occurred_at":"2026-01-02T03:04:05+00:00"')
    assert sql == ev.compute_hash()


# ---- the same operations through both paths ----------------------------------------------------------------


def _script(world):
    """Transfers and retirements across block boundaries; returns what a reader would compare."""
    world.issue({2021: 1000, 2022: 500})
    world.transfer(world.owner, world.trader, quantity=300)                # 2021: 1–300 to the trader
    world.transfer(world.owner, world.trader, quantity=800)                # 700 of 2021 and 100 of 2022: two pieces
    world.retire(world.trader, quantity=250, vintage=2021, beneficiary_uscc=world.trader.org.uscc)
    world.transfer(world.trader, world.emitter, quantity=60, vintage=2022, project_no=world.project.registry_no)
    world.retire(world.owner, quantity=5, purpose="event_neutrality", event_name="2026 兰州马拉松",
                 event_start="2026-04-12", event_end="2026-04-12")
    s = world.session
    s.rollback()
    blocks = s.execute(select(SerialBlock.first, SerialBlock.last, SerialBlock.status, SerialBlock.account_id, SerialBlock.active)
                       .order_by(SerialBlock.first, SerialBlock.active)).all()
    acts = s.execute(select(events.Event.action).order_by(events.Event.seq)).scalars().all()
    held = {h: holdings.holdings(s, getattr(world, h).account.id) for h in ("owner", "trader", "emitter")}
    return blocks, acts, held


def test_both_paths_leave_the_same_registry(session, parties, calls, monkeypatch):
    fast = _script(World(session, parties))
    _ok(session)
    assert calls["n"] == 10  # five operations, each two halves, all on the fast path

    from tests.conftest import _wipe

    session.rollback()  # the TRUNCATE waits for nothing of ours
    _wipe(session.get_bind())
    monkeypatch.setattr(fastpath, "ENABLED", False)
    general = _script(World(session, parties))
    _ok(session)
    assert calls["n"] == 10
    assert fast == general
    # the retirement of 250 from the trader's 1,000 of 2021 leaves 750 of it; 100 of 2022 less 60 → 40
    assert {(r["vintage"], r["status"]): r["quantity"] for r in fast[2]["trader"]} == {(2021, "available"): 750, (2021, "retired"): 250,
                                                                                      (2022, "available"): 40}


# ---- what the fast path declines: the general path's answer, nothing written ----------------------------------


def test_declined_operations_get_the_general_paths_reason(world, session, calls):
    world.issue({2021: 100})
    before = _events(session)
    with pytest.raises(ValidationError) as err:
        world.transfer(world.owner, world.trader, quantity=101)
    assert err.value.rule == holdings.OVERSPEND_RULE and "holds 100" in err.value.message
    with pytest.raises(Forbidden):  # the trader's user proposing from the owner's account
        services.propose_transfer(session, world.trader.maker, world.owner.account.id, world.trader.account.number, quantity=1)
    with pytest.raises(Conflict) as err:  # a VVB's account holds only
        world.transfer(world.owner, world.vvb, quantity=1)
    assert err.value.rule == "Registry Rules Art. 5"
    with pytest.raises(NotFound):
        services.propose_transfer(session, world.owner.maker, world.owner.account.id, "RA99999999", quantity=1)
    with pytest.raises(ValidationError) as err:
        world.retire(world.owner, quantity=5, purpose="national_ets", beneficiary_uscc=world.emitter.org.uscc, compliance_year=2025)
    assert err.value.field == "compliance_year"  # no obligation recorded: the general path's cap check answers
    assert _events(session) == before and calls["n"] == 0
    _ok(session)


def test_a_request_that_changed_is_declined_and_refused(world, session, calls):
    world.issue({2021: 100})
    req = services.propose_transfer(session, world.owner.maker, world.owner.account.id, world.trader.account.number, quantity=80)
    world.transfer(world.owner, world.trader, quantity=30)  # leaves 70, fewer than the 80 the request wants
    from ccer.auth import makerchecker

    with pytest.raises(ValidationError, match="holds 70"):
        makerchecker.confirm(session, world.owner.checker, req.id)
    with pytest.raises(Forbidden):  # the maker cannot confirm their own request, on either path
        makerchecker.confirm(session, world.owner.maker, req.id)
    assert calls["n"] == 3  # the proposal of 80 and both halves of the transfer of 30
    _ok(session)


def test_serial_ranges_take_the_general_path(world, session, calls):
    world.issue({2021: 100})
    first = session.execute(select(SerialBlock.first).where(SerialBlock.active)).scalar_one()
    serial = format_serial("01", world.project.registry_no, 2021, 1, first + 10, first + 19)
    r = world.retire(world.owner, serial=serial)
    assert r.quantity == 10 and calls["n"] == 0
    _ok(session)


# ---- checkpoints are written after the commit, off the chain head --------------------------------------------


def test_checkpoints_follow_fast_path_commits(world, session, calls, monkeypatch):
    session.rollback()
    start = events.head(session)[0]
    monkeypatch.setattr(events, "CHECKPOINT_EVERY", 10)
    world.issue({2021: 1000})
    for _ in range(6):
        world.transfer(world.owner, world.trader, quantity=7)
    session.rollback()
    seqs = session.execute(select(Checkpoint.seq).order_by(Checkpoint.seq)).scalars().all()
    head = events.head(session)[0]
    assert head - start == 13  # the issuance's event, then two per transfer: proposed; the transfer, vouching for the approval
    # every multiple of 10 the chain passed has a checkpoint at or just after it
    assert [s // 10 for s in seqs] == list(range(start // 10 + 1, head // 10 + 1)) and calls["n"] == 12
    _ok(session)  # each checkpoint's Merkle root is replayed from the events up to its seq


def test_retirement_objects_read_back(world, session):
    world.issue({2021: 100})
    r = world.retire(world.owner, quantity=12, beneficiary_uscc=world.owner.org.uscc)
    session.rollback()
    assert r.number == retirements.get_retirement(session, r.number).number and r.quantity == 12
    assert retirements.retirement_serials(session, r) == [format_serial("01", world.project.registry_no, 2021, 1, 1, 12)]  # units 1–12 of 1–100


# ---- sealing: events written while another transaction holds the chain head ------------------------------------


def test_events_wait_pending_while_the_head_is_held_and_are_sealed_in_order(world, session, engine, calls):
    world.issue({2021: 100})
    session.rollback()
    before = events.head(session)[0]
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM ledger_head WHERE id = 1 FOR UPDATE"))  # another transaction holds the head
    try:
        world.transfer(world.owner, world.trader, quantity=10)
        world.retire(world.trader, quantity=4)
        session.rollback()
        waiting = events.pending(session)
        assert [e.action for e in waiting] == ["approval.proposed", "ccer.transfer", "approval.proposed", "ccer.retired"]
        assert events.head(session)[0] == before and calls["n"] == 4  # nothing waited for the holder
        report = events.verify(session)  # their changes are in the tables: verify compares them all the same
        assert report.ok and report.pending == 4, [str(p) for p in report.problems]
        session.rollback()
    finally:
        holder.rollback()
        holder.close()
    session.rollback()
    assert events.seal_pending(session) == 4 and not events.pending(session)  # `ccer ledger seal`
    cp = events.take_checkpoint(session)
    assert cp.seq == before + 4
    chained = session.execute(select(events.Event.action).where(events.Event.seq > before).order_by(events.Event.seq)).scalars().all()
    assert chained == [e.action for e in waiting]  # id order: the order the changes were made
    _ok(session)


def test_the_servers_sealer_chains_what_the_last_writers_left(world, session, engine):
    world.issue({2021: 100})
    holder = engine.connect()
    holder.execute(text("SELECT 1 FROM ledger_head WHERE id = 1 FOR UPDATE"))
    world.transfer(world.owner, world.trader, quantity=10)
    session.rollback()
    assert len(events.pending(session)) == 2
    session.rollback()
    holder.rollback()
    holder.close()
    stop = threading.Event()
    thread = events.keep_sealing(make_session_factory(engine), every=0.05, stop=stop)
    try:
        for _ in range(100):
            session.rollback()
            if not events.pending(session):
                break
            time.sleep(0.05)
        assert not events.pending(session)
    finally:
        stop.set()
        thread.join(5)
    _ok(session)


def test_fast_path_connections_leave_the_pool_to_the_sessions(world, session, db_url):
    world.issue({2021: 100})
    session.rollback()
    small = make_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=3)
    try:
        s = make_session_factory(small)()
        req = services.propose_transfer(s, world.owner.maker, world.owner.account.id, world.trader.account.number, quantity=3)
        assert req.status == "pending" and fastpath._group(small).calls == 1
        assert s.execute(select(func.count()).select_from(SerialBlock)).scalar_one() == 1  # the one pool connection is free
        s.close()
        lanes = list(fastpath._group(small)._idle)
        assert lanes and not any(c.closed for c in lanes)
    finally:
        small.dispose()
    assert small not in fastpath._groups and all(c.closed for c in lanes)  # the group's connections closed with the pool


def _until(condition, timeout=10.0):
    stop = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.005)


def test_waiting_calls_travel_together_each_with_its_own_outcome(world, session, engine, monkeypatch):
    """While one call holds the only lane, three more queue; they then go as one group in one transaction,
    and the one that over-spends is refused with the general path's reason without undoing the other two."""
    world.issue({2021: 100})
    session.commit()
    group = groupcommit.GroupCommit(engine, lanes=1)
    monkeypatch.setitem(fastpath._groups, engine, group)
    first, real = threading.Event(), group._execute

    def held(calls):
        if not first.is_set():  # the first group waits until the other three are queued behind it
            first.set()
            _until(lambda: len(group._waiting) == 3)
        real(calls)

    monkeypatch.setattr(group, "_execute", held)
    out = {}

    def propose(i, quantity):
        s = make_session_factory(engine)()
        try:
            out[i] = services.propose_transfer(s, world.owner.maker, world.owner.account.id, world.trader.account.number,
                                               quantity=quantity)
        except DomainError as exc:
            out[i] = exc
        finally:
            s.close()

    threads = []
    for i, quantity in enumerate([10, 20, 1000, 30]):
        threads.append(threading.Thread(target=propose, args=(i, quantity)))
        threads[-1].start()
        _until(first.is_set if i == 0 else (lambda n=i: len(group._waiting) == n))
    for t in threads:
        t.join(10)
    assert (group.groups, group.calls) == (2, 4)  # [10] alone, then [20, 1000, 30] together
    assert isinstance(out[2], ValidationError) and "holds 100" in out[2].message
    # the group's events were appended together at its end: one per call that succeeded, in call order,
    # chained at once (the head was free), none for the call that declined (the general path refused it)
    session.rollback()
    proposed = session.execute(select(events.Event).where(events.Event.action == "approval.proposed")
                               .order_by(events.Event.id)).scalars().all()
    assert [e.subject_id for e in proposed] == [str(out[i].id) for i in (0, 1, 3)]
    assert proposed[2].id == proposed[1].id + 1 and proposed[2].seq == proposed[1].seq + 1
    assert proposed[1].occurred_at == proposed[2].occurred_at  # one clock reading per group
    for i in (0, 1, 3):
        makerchecker.confirm(session, world.owner.checker, out[i].id)
    assert (world.balance(world.owner), world.balance(world.trader)) == (40, 60)
    _ok(session)


def test_the_checkpoint_root_computed_in_postgresql_is_pythons(world, session):
    """ccer_serial_block_root (migrations/sql/ledger_checkpoint_1.sql) builds the tree ccer/merkle.py
    defines over the leaves ccer.events.merkle_leaves gives, for every size from no live block up: odd
    levels, frozen and retired blocks (their freeze and retirement ids), superseded blocks left out."""
    kind = events.SUBJECT_TYPES["serial_block"]

    def both() -> tuple[str, str]:
        session.commit()
        leaves = events.merkle_leaves(kind, kind.kept_now(session))
        in_sql = session.execute(text("SELECT ccer_block_leaf(b) FROM serial_blocks b WHERE b.active ORDER BY b.id")).scalars().all()
        assert in_sql == leaves
        return session.execute(text("SELECT ccer_serial_block_root()")).scalar_one(), merkle.root(leaves)

    assert both() == (merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    world.issue({2021: 1000})
    roots = [both()]
    for quantity in (7, 11, 13):
        world.transfer(world.owner, world.trader, quantity=quantity)
        roots.append(both())
    services.freeze(session, world.registry, world.owner.account.id, authority="北京市朝阳区人民法院", order_ref="（2026）京0105执1号",
                    quantity=5)
    roots.append(both())
    world.retire(world.trader, quantity=3)
    roots.append(both())
    assert all(sql == py for sql, py in roots) and len({py for _, py in roots}) == len(roots)
    assert events.root_now(session, kind) == roots[-1][1]
