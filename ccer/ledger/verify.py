"""Verification: recompute the chain, compare it with the head and the checkpoints, then compare the latest
state each event vouches for with the tables, then run the registered invariants."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .append import pending
from .codec import GENESIS, is_canonical, plain
from .models import Checkpoint, Event, LedgerHead
from .subjects import INVARIANTS, SUBJECT_TYPES, merkle_roots, natural


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


def iter_events(session: Session) -> Iterator[Event]:
    """The chain: sealed events in order."""
    yield from session.execute(select(Event).where(Event.seq.is_not(None)).order_by(Event.seq)
                               .execution_options(yield_per=2000)).scalars()


def verify(session: Session, extra_checks: Iterable[Callable[[Session], Iterable[str]]] = ()) -> VerifyReport:
    """Stops the chain walk at the first broken event (everything after it is unvouched) and names it."""
    session.expire_all()  # compare what is stored, not what this session remembers
    report = VerifyReport()
    prev = GENESIS
    latest_state: dict[tuple[str, str], tuple[int, Any]] = {}
    hashes: dict[int, str] = {}
    roots_at: dict[int, dict[str, str]] = {}
    wanted = set(session.execute(select(Checkpoint.seq).where(Checkpoint.roots_json.is_not(None))).scalars())
    expected_seq = 1
    for ev in iter_events(session):
        if ev.seq != expected_seq:
            report.problems.append(Problem(ev.seq, f"sequence gap: expected #{expected_seq} (an event was removed)"))
            break
        if ev.prev_hash != prev:
            report.problems.append(Problem(ev.seq, "prev_hash does not match the hash of the event before it"))
            break
        if ev.compute_hash() != ev.hash:
            report.problems.append(Problem(ev.seq, f"content does not match its hash (action {ev.action} on {ev.subject_type} "
                                                   f"{ev.subject_id}); the stored event was altered"))
            break
        if not is_canonical(ev.payload_json):
            report.problems.append(Problem(ev.seq, "payload is not canonical JSON (docs/ledger-format.md)"))
            break
        for kind_name, sid, state in vouched(ev):
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
            report.problems.append(Problem(cp.seq, f"checkpoint of {cp.created_at:%Y-%m-%d} recorded head {cp.head_hash[:12]}…, "
                                                   f"the chain has {str(hashes.get(cp.seq))[:12]}…"))
        for name, recorded in cp.roots.items():
            replayed = roots_at.get(cp.seq, {}).get(name)
            if replayed != recorded:
                report.problems.append(Problem(cp.seq, f"checkpoint's {name} Merkle root {recorded[:12]}… differs from the one "
                                                       f"the events replay to ({str(replayed)[:12]}…)"))

    for ev in pending(session):  # their changes are in the tables already; sealing will chain them in this order
        for kind_name, sid, state in vouched(ev):
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
    for ev in iter_events(session):
        if ev.seq > upto_seq:
            break
        for name, sid, state in vouched(ev):
            if name == subject_type:
                states[sid] = state
    return states


def vouched(ev: Event) -> Iterator[tuple[str, str, Any]]:
    """(subject type, id, state) of every state an event vouches for: its subject's and the ones it touched."""
    payload = ev.payload
    if "state" in payload:
        yield ev.subject_type, ev.subject_id, payload["state"]
    for key, state in payload.get("states", {}).items():
        name, _, sid = key.partition(":")
        yield name, sid, state


def _check_states(session: Session, latest: dict, report: VerifyReport) -> Iterator[Problem]:
    for name, kind in sorted(SUBJECT_TYPES.items()):
        vouched_ids = {sid for (t, sid) in latest if t == name}
        for sid in sorted(set(map(str, kind.all_ids(session))) - vouched_ids, key=natural):
            yield Problem(None, f"{name} {sid} exists but no event vouches for it (inserted behind the platform's back)")
        for sid in sorted(vouched_ids, key=natural):
            seq, state = latest[(name, sid)]
            current = plain(kind.snapshot(session, sid))
            report.subjects += 1
            if current != state:
                yield Problem(seq, f"{name} {sid} differs from the state this event vouches for: {_diff(state, current)}")


def _diff(expected: Any, actual: Any) -> str:
    if expected is None or actual is None:
        return f"expected {'nothing' if expected is None else 'a row'}, found {'nothing' if actual is None else 'a row'}"
    keys = sorted(set(expected) | set(actual))
    return "; ".join(f"{k}: {expected.get(k)!r} -> {actual.get(k)!r}" for k in keys if expected.get(k) != actual.get(k))
