"""The append-only, hash-chained event log.

Every state change is an event (actor, time, subject, action, payload). Its SHA-256 covers its own content
and the previous event's hash, so editing, deleting or reordering any stored event breaks the chain from
there on. Events about a *subject* (an organisation, a user, later a project or a serial block) also carry
the subject's state after the change ("the state it vouches for"); `verify` compares the latest vouched
state of every subject with what the tables hold now, so a row edited behind the platform's back is caught
too. Checkpoints record the chain head periodically and can be exported and checked offline.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock, db, merkle
from .db import Base

GENESIS = "0" * 64
log = logging.getLogger(__name__)
#: a checkpoint is written automatically once the chain passes a multiple of this many events
CHECKPOINT_EVERY = 10_000


def canonical(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, Decimals and dates as strings."""
    return _dumps(_plain(obj))


def _dumps(plain: Any) -> str:
    return json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_SCALARS = (str, int, bool, float, type(None))


def _plain(obj: Any) -> Any:
    if type(obj) in _SCALARS:  # most values; checkpoints plain every state of the registry
        return obj
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.astimezone(timezone.utc).isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: the events open data lists as credits (ccer.issuance.opendata): only these are in the credits index
CREDIT_ACTIONS = ("ccer.issued", "ccer.retired", "ccer.force_cancelled")
#: the partial indexes' predicates, written out as queries must say them to use the indexes (PostgreSQL does
#: not prove a predicate from a bound parameter)
CREDIT_EVENTS = "action IN (" + ", ".join(f"'{a}'" for a in CREDIT_ACTIONS) + ")"
RETIREMENT_EVENTS = "subject_type = 'retirement'"


class Event(Base):
    __tablename__ = "events"
    # Every transfer and retirement writes two events, so each index here is paid twice per operation: the
    # open-data credits (issuances, retirements, cancellations, by seq) and a retirement's events (its
    # certificate) have partial indexes; other filters walk the chain by seq.
    __table_args__ = (
        Index("ix_events_pending", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),
        Index("ix_events_credits", "seq", postgresql_where=text(CREDIT_EVENTS), sqlite_where=text(CREDIT_EVENTS)),
        Index("ix_events_retirement", "subject_id", postgresql_where=text(RETIREMENT_EVENTS), sqlite_where=text(RETIREMENT_EVENTS)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: position in the chain, 1, 2, 3, … without gaps; None while the event is pending (written, not yet sealed)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    occurred_at: Mapped[datetime]
    #: the user who acted, when a user did
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    #: who acted, readable: a username, or "system", or "cli"
    actor: Mapped[str] = mapped_column(String(120))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80))
    #: canonical JSON, hashed exactly as stored
    payload_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: (not indexed: the chain is walked by seq, and writing a random key into an index on every event cost
    #: more than any lookup by hash would save)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def payload(self) -> dict:
        return json.loads(self.payload_json)

    def content(self) -> dict:
        return {
            "seq": self.seq,
            "occurred_at": _plain(self.occurred_at),
            "actor_user_id": self.actor_user_id,
            "actor": self.actor,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "action": self.action,
            "payload": self.payload_json,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return sha256(canonical(self.content()))


class LedgerHead(Base):
    """One row: the chain head. Updating it serialises appends (a row lock on PostgreSQL)."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    #: canonical JSON {subject type: Merkle root of its vouched states} at this seq, e.g. the holdings
    roots_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def roots(self) -> dict[str, str]:
        return json.loads(self.roots_json) if self.roots_json else {}


# ---- subjects whose state the chain vouches for -------------------------------------------------------


@dataclass
class SubjectType:
    name: str
    #: state of one subject as a JSON-able dict, or None if it no longer exists
    snapshot: Callable[[Session, str], dict | None]
    #: ids of every subject of this type that exists now
    all_ids: Callable[[Session], Iterable[str]]
    #: when set, checkpoints carry a Merkle root over the states this predicate keeps (e.g. active blocks)
    merkle: Callable[[dict], bool] | None = None
    #: the states the Merkle root keeps, in one query (optional; checkpoints read every one of them)
    kept_all: Callable[[Session], dict[str, dict]] | None = None
    #: a PostgreSQL function giving the same Merkle root in the database (optional; checkpoints then do no
    #: Python work per leaf, and a server's other threads are not held up behind the GIL)
    root_sql: str | None = None

    def kept_now(self, session: Session) -> dict[str, dict]:
        """The current states of the subjects the Merkle root keeps (`merkle`), by id."""
        if self.kept_all is not None:
            return self.kept_all(session)
        states = ((str(i), self.snapshot(session, str(i))) for i in self.all_ids(session))
        return {sid: st for sid, st in states if st is not None and self.merkle(_plain(st))}


SUBJECT_TYPES: dict[str, SubjectType] = {}

#: checks `verify` runs after the chain and state comparison: (session) -> messages of what is wrong
INVARIANTS: list[Callable[[Session], Iterable[str]]] = []


def register_invariant(check: Callable[[Session], Iterable[str]]) -> None:
    INVARIANTS.append(check)


def register_subject(name: str, snapshot, all_ids, merkle=None, kept_all=None, root_sql=None) -> None:
    SUBJECT_TYPES[name] = SubjectType(name, snapshot, all_ids, merkle, kept_all, root_sql)


def register_fields(name: str, model, fields: tuple[str, ...], **kw) -> None:
    """A subject whose vouched state is a fixed set of its row's columns (the common case)."""
    def snapshot(session: Session, sid: str) -> dict | None:
        row = session.get(model, int(sid))
        return None if row is None else {f: getattr(row, f) for f in fields}

    register_subject(name, snapshot, lambda session: session.execute(select(model.id)).scalars(), **kw)


def merkle_leaves(kind: SubjectType, states: dict[str, Any]) -> list[str]:
    """The leaves of a subject type's Merkle tree: "id|canonical state" of the kept states, by id."""
    leaves = []
    for sid, st in sorted(states.items(), key=lambda kv: _natural(kv[0])):
        plain = None if st is None else _plain(st)
        if plain is not None and kind.merkle(plain):
            leaves.append(f"{sid}|{_dumps(plain)}")
    return leaves


def merkle_roots(states_by_type: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: merkle.root(merkle_leaves(SUBJECT_TYPES[name], states)) for name, states in states_by_type.items()}


def _roots_now(session: Session) -> str | None:
    kinds = [k for k in SUBJECT_TYPES.values() if k.merkle is not None]
    if not kinds:
        return None
    return canonical({k.name: root_now(session, k) for k in kinds})


def root_now(session: Session, kind: SubjectType) -> str:
    """The Merkle root of a subject type's kept states as they are now; in PostgreSQL when the type has a
    function for it (the same tree), else from the states."""
    if kind.root_sql is not None and session.get_bind().dialect.name == "postgresql":
        return session.execute(text(f"SELECT {kind.root_sql}()")).scalar_one()
    return merkle.root(merkle_leaves(kind, kind.kept_now(session)))


@dataclass
class Actor:
    """Who acts: a user, or the platform itself (label only)."""

    label: str
    user_id: int | None = None
    organisation_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(label=label)


def record(
    session: Session,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: Any,
    data: dict | None = None,
    touches: Iterable[tuple[str, Any]] = (),
) -> Event:
    """Write one event in the caller's transaction. When the subject type is registered, the subject's
    state after the change is included under "state"; the states of other subjects the change touched
    (the serial blocks a transfer cut, say) under "states", keyed "type:id". The event is written pending
    and sealed into the chain at once if the head is free (see `seal`)."""
    session.flush()
    payload = dict(data or {})
    kind = SUBJECT_TYPES.get(subject_type)
    if kind is not None:
        payload["state"] = kind.snapshot(session, str(subject_id))
    others = {f"{t}:{i}": SUBJECT_TYPES[t].snapshot(session, str(i)) for t, i in touches}
    if others:
        payload["states"] = others
    ev = Event(
        occurred_at=clock.now(session).astimezone(timezone.utc),
        actor_user_id=actor.user_id,
        actor=actor.label,
        subject_type=subject_type,
        subject_id=str(subject_id),
        action=action,
        payload_json=canonical(payload),
    )
    session.add(ev)
    session.flush()
    seal(session)
    return ev


# ---- sealing: giving pending events their place in the chain ------------------------------------------------
#
# Why not chain each event as it is written: the chain head is one row, and a writer holding it until its
# commit makes every other writer wait for that commit (a convoy that capped the registry at a few hundred
# operations a second). Instead each transaction writes its events pending and, if nobody holds the head,
# seals every pending event it can see; if somebody does, the holder — or the next writer, a checkpoint or
# `seal(wait=True)` — seals them. Sealing goes in id order, and a transaction writes an event only after
# the changes it vouches for, which row locks order: so two events about the same subject are always chained
# in the order their changes were made. (Certificate-transparency logs integrate submissions the same way.)


def seal(session: Session, wait: bool = False) -> tuple[int, int] | None:
    """Chain the pending events this transaction can see; (head before, head after), or None when another
    transaction holds the head and `wait` is False. PostgreSQL: `ccer_seal` (migrations/sql/ledger_sealing_1.sql);
    SQLite has one writer at a time, so the head is always free."""
    if session.get_bind().dialect.name == "postgresql":
        span = session.execute(text("SELECT ccer_seal(:wait)"), {"wait": wait}).scalar_one()
        if span is not None and span[1] > span[0]:
            for obj in list(session.identity_map.values()):  # the rows sealed server-side carry seq and hash now
                if isinstance(obj, Event) and obj.seq is None:
                    session.expire(obj, ["seq", "prev_hash", "hash"])
    else:
        span = _seal_here(session)
    if span is not None and passed_checkpoint(span[0], span[1]):
        session.info["checkpoint_due"] = True
    return None if span is None else (span[0], span[1])


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


def _seal_here(session: Session) -> tuple[int, int]:
    head = lock_head(session)
    before = head.seq
    for ev in session.execute(select(Event).where(Event.seq.is_(None)).order_by(Event.id)).scalars():
        ev.seq, ev.prev_hash = head.seq + 1, head.hash
        ev.hash = ev.compute_hash()
        head.seq, head.hash = ev.seq, ev.hash
    session.flush()
    return before, head.seq


def lock_head(session: Session) -> LedgerHead:
    """Take the chain head's row lock (PostgreSQL) until commit; services that must read-then-write a
    registry-wide sequence (serial units) call it first so that they run one at a time."""
    return session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one()


def passed_checkpoint(before: int, after: int) -> bool:
    """Whether the chain passed a multiple of CHECKPOINT_EVERY going from seq `before` to `after`."""
    return before // CHECKPOINT_EVERY != after // CHECKPOINT_EVERY


#: the advisory lock a checkpoint holds exclusively and sealers share (ccer_seal in ledger_sealing_1.sql)
CHECKPOINT_LOCK = 7220914


def checkpoint_when_due(session: Session) -> None:
    """After a commit whose sealing passed a multiple of CHECKPOINT_EVERY: take a checkpoint."""
    if session.info.pop("checkpoint_due", False):
        take_checkpoint(session)


def take_checkpoint(session: Session) -> Checkpoint:
    """Seal every pending event and record the head with the Merkle roots of the states it vouches for,
    from one view of the database. On PostgreSQL: hold the checkpoint lock (sealers then stand aside, so
    no writer waits), then seal and root inside one REPEATABLE READ snapshot taken after it. The session
    must have no transaction open."""
    if session.get_bind().dialect.name != "postgresql":
        cp = checkpoint(session)
        session.commit()
        return cp
    with session.get_bind().connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({CHECKPOINT_LOCK})")
        conn.commit()
        try:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with Session(bind=conn, expire_on_commit=False) as snapshot:
                cp = checkpoint(snapshot)
                snapshot.commit()
            return cp
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({CHECKPOINT_LOCK})")
            conn.commit()


db.AFTER_COMMIT.append(checkpoint_when_due)


def checkpoint(session: Session) -> Checkpoint:
    """Seal, then record the current head as a checkpoint (idempotent for an unchanged head). The reads
    must see one state of the database: a snapshot, or no other writer (`take_checkpoint` arranges it)."""
    seal(session, wait=True)
    session.info.pop("checkpoint_due", None)  # this is the checkpoint
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    existing = session.execute(select(Checkpoint).where(Checkpoint.seq == head.seq)).scalar_one_or_none()
    if existing:
        return existing
    cp = Checkpoint(seq=head.seq, head_hash=head.hash, created_at=clock.now(session), roots_json=_roots_now(session))
    session.add(cp)
    session.flush()
    return cp


# ---- verification ----------------------------------------------------------------------------------------


@dataclass
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"event #{self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class VerifyReport:
    events: int = 0
    #: events written but not yet sealed into the chain (their states are compared all the same)
    pending: int = 0
    head: str = GENESIS
    subjects: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _iter_events(session: Session) -> Iterator[Event]:
    """The chain: sealed events in order."""
    yield from session.execute(select(Event).where(Event.seq.is_not(None)).order_by(Event.seq)
                               .execution_options(yield_per=2000)).scalars()


def pending(session: Session) -> list[Event]:
    """Events written but not yet sealed, in the order they will be."""
    return list(session.execute(select(Event).where(Event.seq.is_(None)).order_by(Event.id)).scalars())


def verify(session: Session, extra_checks: Iterable[Callable[[Session], Iterable[str]]] = ()) -> VerifyReport:
    """Recompute the chain, compare it with the head and the checkpoints, then compare the latest state
    each event vouches for with the tables. Stops the chain walk at the first broken event (everything
    after it is unvouched) and names it."""
    session.expire_all()  # compare what is stored, not what this session remembers
    report = VerifyReport()
    prev = GENESIS
    latest_state: dict[tuple[str, str], tuple[int, Any]] = {}
    hashes: dict[int, str] = {}
    roots_at: dict[int, dict[str, str]] = {}
    wanted = set(session.execute(select(Checkpoint.seq).where(Checkpoint.roots_json.is_not(None))).scalars())
    expected_seq = 1
    for ev in _iter_events(session):
        if ev.seq != expected_seq:
            report.problems.append(Problem(ev.seq, f"sequence gap: expected #{expected_seq} (an event was removed)"))
            break
        if ev.prev_hash != prev:
            report.problems.append(Problem(ev.seq, "prev_hash does not match the hash of the event before it"))
            break
        if ev.compute_hash() != ev.hash:
            report.problems.append(
                Problem(ev.seq, f"content does not match its hash (action {ev.action} on {ev.subject_type} {ev.subject_id}); the stored event was altered")
            )
            break
        for kind_name, sid, state in _vouched(ev):
            latest_state[(kind_name, sid)] = (ev.seq, state)
        prev = ev.hash
        hashes[ev.seq] = ev.hash
        if ev.seq in wanted:
            roots_at[ev.seq] = _replayed_roots(latest_state)
        report.events += 1
        expected_seq += 1
    report.head = prev
    if report.problems:
        return report

    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    if (head.seq, head.hash) != (report.events, prev):
        report.problems.append(Problem(None, f"chain head says #{head.seq} {head.hash[:12]}… but the events end at #{report.events} {prev[:12]}…"))

    for cp in session.execute(select(Checkpoint).order_by(Checkpoint.seq)).scalars():
        report.checkpoints += 1
        if hashes.get(cp.seq) != cp.head_hash:
            report.problems.append(Problem(cp.seq, f"checkpoint of {cp.created_at:%Y-%m-%d} recorded head {cp.head_hash[:12]}…, the chain has {str(hashes.get(cp.seq))[:12]}…"))
        for name, recorded in cp.roots.items():
            replayed = roots_at.get(cp.seq, {}).get(name)
            if replayed != recorded:
                report.problems.append(Problem(cp.seq, f"checkpoint's {name} Merkle root {recorded[:12]}… differs from the one the events replay to ({str(replayed)[:12]}…)"))

    for ev in pending(session):  # their changes are in the tables already; sealing will chain them in this order
        for kind_name, sid, state in _vouched(ev):
            latest_state[(kind_name, sid)] = (None, state)
        report.pending += 1
    report.problems.extend(_check_states(session, latest_state, report))
    for check in [*INVARIANTS, *extra_checks]:
        report.problems.extend(Problem(None, msg) for msg in check(session))
    return report


def _replayed_roots(latest: dict[tuple[str, str], tuple[int, Any]]) -> dict[str, str]:
    by_type: dict[str, dict[str, Any]] = {k.name: {} for k in SUBJECT_TYPES.values() if k.merkle is not None}
    for (name, sid), (_seq, state) in latest.items():
        if name in by_type:
            by_type[name][sid] = state
    return merkle_roots(by_type)


def replayed_states(session: Session, subject_type: str, upto_seq: int) -> dict[str, Any]:
    """The states the chain vouches for, for one subject type, as of event `upto_seq` (offline checks of
    an exported checkpoint, proofs)."""
    states: dict[str, Any] = {}
    for ev in _iter_events(session):
        if ev.seq > upto_seq:
            break
        for name, sid, state in _vouched(ev):
            if name == subject_type:
                states[sid] = state
    return states


def _vouched(ev: Event) -> Iterator[tuple[str, str, Any]]:
    """(subject type, id, state) of every state an event vouches for: its subject's and the ones it touched."""
    payload = ev.payload
    if "state" in payload:
        yield ev.subject_type, ev.subject_id, payload["state"]
    for key, state in payload.get("states", {}).items():
        name, _, sid = key.partition(":")
        yield name, sid, state


def _check_states(session: Session, latest: dict, report: VerifyReport) -> Iterator[Problem]:
    for name, kind in sorted(SUBJECT_TYPES.items()):
        vouched = {sid for (t, sid) in latest if t == name}
        for sid in sorted(set(map(str, kind.all_ids(session))) - vouched, key=_natural):
            yield Problem(None, f"{name} {sid} exists but no event vouches for it (inserted behind the platform's back)")
        for sid in sorted(vouched, key=_natural):
            seq, state = latest[(name, sid)]
            current = _plain(kind.snapshot(session, sid))
            report.subjects += 1
            if current != state:
                yield Problem(seq, f"{name} {sid} differs from the state this event vouches for: {_diff(state, current)}")


def _natural(s: str):
    return (len(s), s)


def _diff(expected: Any, actual: Any) -> str:
    if expected is None or actual is None:
        return f"expected {'nothing' if expected is None else 'a row'}, found {'nothing' if actual is None else 'a row'}"
    keys = sorted(set(expected) | set(actual))
    parts = [f"{k}: {expected.get(k)!r} -> {actual.get(k)!r}" for k in keys if expected.get(k) != actual.get(k)]
    return "; ".join(parts)


def head(session: Session) -> tuple[int, str]:
    row = session.execute(select(LedgerHead).where(LedgerHead.id == 1)).scalar_one()
    return row.seq, row.hash


def count(session: Session) -> int:
    return session.execute(select(func.count(Event.id))).scalar_one()
