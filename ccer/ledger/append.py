"""Writing events and sealing them into the chain.

Why events are sealed rather than chained as they are written: the chain head is one row, and a writer
holding it until its commit makes every other writer wait for that commit (a convoy that capped the
registry at a few hundred operations a second). So each transaction writes its events *pending* (no seq,
no hash) and, if nobody holds the head, seals every pending event it can see; if somebody does, the holder
— or the next writer, a checkpoint, `seal(wait=True)` or the sealer thread of `ccer serve` — seals them.
Sealing goes in id order, and a transaction writes an event only after the changes it vouches for, which
row locks order: so two events about the same subject are always chained in the order their changes were
made. (Certificate-transparency logs integrate submissions the same way.) The hash is computed here, in
Python, on every database (codec.event_hash); the database only provides the locks.
"""
from __future__ import annotations

import logging
import threading
from datetime import timezone
from typing import Any, Iterable

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from ..infra import clock, db
from ..infra.db import insert_many
from ..infra.actor import Actor
from .codec import canonical, event_hash
from .models import Event, LedgerHead
from .subjects import SUBJECT_TYPES

log = logging.getLogger(__name__)
#: a checkpoint is written automatically once the chain passes a multiple of this many events
CHECKPOINT_EVERY = 10_000
#: the advisory lock a checkpoint holds exclusively while it seals and roots one snapshot; sealers share it
CHECKPOINT_LOCK = 7220914

_events = Event.__table__
_head = LedgerHead.__table__


_UNSET = object()


def payload(session: Session, subject_type: str, subject_id: Any, data: dict | None = None,
            touches: Iterable[tuple[str, Any]] = (), states: dict[str, dict] | None = None, state: Any = _UNSET) -> str:
    """An event's payload, canonical: `data`, the subject's state after the change under "state" (when the
    subject type is registered; read through it unless the caller gives it), and the states of other
    subjects the change touched under "states", keyed "type:id" — read through their subject type
    (`touches`) or given by a caller that already holds them (`states`)."""
    out = dict(data or {})
    kind = SUBJECT_TYPES.get(subject_type)
    if kind is not None:
        out["state"] = kind.snapshot(session, str(subject_id)) if state is _UNSET else state
    others = {f"{t}:{i}": SUBJECT_TYPES[t].snapshot(session, str(i)) for t, i in touches}
    if states:
        others.update(states)
    if others:
        out["states"] = others
    return canonical(out)


def record(session: Session, actor: Actor, action: str, subject_type: str, subject_id: Any, data: dict | None = None,
           touches: Iterable[tuple[str, Any]] = (), states: dict[str, dict] | None = None, state: Any = _UNSET) -> Event:
    """Write one event in the caller's transaction (see `payload`). The event is written pending and sealed
    into the chain at once if the head is free (see `seal`)."""
    session.flush()
    ev = Event(occurred_at=clock.now(session).astimezone(timezone.utc), actor_user_id=actor.user_id, actor=actor.label,
               subject_type=subject_type, subject_id=str(subject_id), action=action,
               payload_json=payload(session, subject_type, subject_id, data, touches, states, state))
    session.add(ev)
    session.flush()
    seal(session)
    return ev


def record_many(session: Session, actor: Actor, entries: Iterable[tuple[str, str, Any, str]]) -> int:
    """Write many events at once — (action, subject type, subject id, payload from `payload`) — in one
    statement at one clock reading, then seal; for a day's settlement. Returns how many."""
    at = clock.now(session).astimezone(timezone.utc)
    rows = [{"occurred_at": at, "actor_user_id": actor.user_id, "actor": actor.label, "subject_type": t, "subject_id": str(i),
             "action": a, "payload_json": p} for a, t, i, p in entries]
    if rows:
        insert_many(session, _events, rows)
        seal(session)
    return len(rows)


def _take_head(session: Session, wait: bool) -> tuple[int, str] | None:
    """Lock the chain head for this transaction: (seq, hash), or None when another transaction holds it (or
    a checkpoint is being taken) and `wait` is False. SQLite has one writer at a time: always free."""
    stmt = select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)
    if session.get_bind().dialect.name != "postgresql":
        return tuple(session.execute(stmt).one())
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": CHECKPOINT_LOCK})
        return tuple(session.execute(stmt.with_for_update()).one())
    # one round trip: the shared checkpoint lock, then the head row if nobody holds it
    row = session.execute(stmt.where(func.pg_try_advisory_xact_lock_shared(CHECKPOINT_LOCK))
                          .with_for_update(skip_locked=True)).first()
    return None if row is None else tuple(row)


_PENDING = (select(_events.c.id, _events.c.occurred_at, _events.c.actor_user_id, _events.c.actor, _events.c.subject_type,
                   _events.c.subject_id, _events.c.action, _events.c.payload_json)
            .where(_events.c.seq.is_(None)).order_by(_events.c.id))
_SEAL_ONE = (update(_events).where(_events.c.id == bindparam("b_id"))
             .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")))


#: PostgreSQL: chain the pending events and move the head in one statement. (Taking the head and reading what
#: is pending stay two statements: the read must take its snapshot after the lock is held — in one statement a
#: head sealed by a transaction that committed meanwhile is locked in its new version while the events are read
#: as they were, pending, and would be chained twice.)
_SEAL_AND_MOVE_PG = text(
    "WITH sealed AS (UPDATE events SET seq = u.seq, prev_hash = u.prev, hash = u.hash "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:seqs AS integer[]), CAST(:prevs AS text[]), CAST(:hashes AS text[])) "
    "AS u(id, seq, prev, hash) WHERE events.id = u.id) "
    "UPDATE ledger_head SET seq = :seq, hash = :hash WHERE id = 1")


def seal(session: Session, wait: bool = False) -> tuple[int, int] | None:
    """Chain the pending events this transaction can see, in id order; (head before, head after), or None
    when another transaction holds the head and `wait` is False."""
    postgres = session.get_bind().dialect.name == "postgresql"
    got = _take_head(session, wait)
    if got is None:
        return None
    before, prev = got
    pending_rows = session.execute(_PENDING).all()
    seq, sealed = before, []
    for row in pending_rows:
        seq += 1
        digest = event_hash(seq, row.occurred_at, row.actor_user_id, row.actor, row.subject_type, row.subject_id,
                            row.action, row.payload_json, prev)
        sealed.append((row.id, seq, prev, digest))
        prev = digest
    if sealed:
        if postgres:
            ids, seqs, prevs, hashes = map(list, zip(*sealed))
            session.execute(_SEAL_AND_MOVE_PG, {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes, "seq": seq, "hash": prev})
        else:
            session.execute(_SEAL_ONE, [{"b_id": i, "b_seq": s, "b_prev": p, "b_hash": h} for i, s, p, h in sealed])
            session.execute(update(_head).where(_head.c.id == 1).values(seq=seq, hash=prev))
        for obj in list(session.identity_map.values()):  # the rows sealed carry seq and hash now
            if isinstance(obj, (Event, LedgerHead)):
                session.expire(obj)
    if passed_checkpoint(before, seq):
        session.info["checkpoint_due"] = True
    return before, seq


def seal_pending(session: Session) -> int:
    """Seal whatever is pending now, waiting for the head if need be, and commit (then checkpoint if the
    chain passed a multiple of CHECKPOINT_EVERY); how many events it chained. `ccer ledger seal`, and the
    sealer of `ccer serve`, so that events left pending by the last writers of a burst do not wait for the
    next write. The session must have no transaction open."""
    before, after = seal(session, wait=True)
    session.commit()
    db.after_commit(session)
    return after - before


def keep_sealing(factory, every: float = 1.0, stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that seals pending events every `every` seconds (PostgreSQL; SQLite seals inline)."""
    stop = stop or threading.Event()

    def run() -> None:
        while not stop.wait(every):
            try:
                with factory() as session:
                    if session.execute(select(Event.id).where(Event.seq.is_(None)).limit(1)).first():
                        session.rollback()
                        seal_pending(session)
            except Exception:  # a lost connection, say: log it and try again next time
                log.exception("sealing pending events failed; retrying in %s s", every)

    thread = threading.Thread(target=run, name="ccer-sealer", daemon=True)
    thread.start()
    return thread


def lock_head(session: Session) -> LedgerHead:
    """Take the chain head's row lock (PostgreSQL) until commit; services that must read-then-write a
    registry-wide sequence (serial units, registry numbers) call it first so that they run one at a time."""
    return session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()


def passed_checkpoint(before: int, after: int) -> bool:
    """Whether the chain passed a multiple of CHECKPOINT_EVERY going from seq `before` to `after`."""
    return before // CHECKPOINT_EVERY != after // CHECKPOINT_EVERY


def pending(session: Session) -> list[Event]:
    """Events written but not yet sealed, in the order they will be."""
    return list(session.execute(select(Event).where(Event.seq.is_(None)).order_by(Event.id)).scalars())


def head(session: Session) -> tuple[int, str]:
    row = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    return row.seq, row.hash


def count(session: Session) -> int:
    return session.execute(select(func.count(Event.id))).scalar_one()
