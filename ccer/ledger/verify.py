"""Verification: recompute the chain, check every checkpoint (its head, its signature, its Merkle roots), then
compare the latest state each event vouches for with the tables, then run the registered invariants.

Set-based, so that it keeps up with the registry at national scale:

- the chain is read in keyset pages of plain rows (`WHERE seq > :last ORDER BY seq LIMIT n`), or on PostgreSQL
  as one binary COPY stream in chunks of bytes: memory does not grow with the ledger;
- of every subject of a registered type, only the latest vouched state is kept, as the first 16 bytes of its
  leaf hash (SHA-256 of "id|canonical state", §6: one hash per state; the whole leaf hash too while a type that
  checkpoints root keeps it); payloads are parsed and states written by `fastjson` (msgspec where it gives the
  stdlib's bytes);
- the Merkle roots are recomputed once per checkpoint, from those leaf hashes;
- each subject table is then read in one ordered scan (`SubjectType.snapshot_all`) and compared with the
  digests; only the subjects that differ are read again, one by one, to name the fields that differ.

Incremental (`since=`): a trusted checkpoint (kept outside, signed) stands for events 1…seq; its head is
compared with the chain and with the stored checkpoint, then only the events after it are checked, and only
the subjects they touched are compared with the tables.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import mmap
import os
import tempfile
from collections import deque
from contextlib import ExitStack, closing, nullcontext
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..infra import merkle
from ..infra.db import driver_rows
from ..infra import pgcopy
from ..infra.ahead import ReadAhead
from . import fastjson
from .append import pending
from .codec import GENESIS, plain
from .codec import loads as _loads  # NaN and the infinities are not JSON
from .models import Checkpoint, Event, LedgerHead
from .signing import PublicKey, public_key
from .subjects import INVARIANTS, SCAN_PAGE, SUBJECT_TYPES, FieldsScan, KeptWhen, SubjectType, among_params, natural

from . import _core  # compiled at install (setup.py): the chain walk's and the table scan's per-event work

#: the Merkle reduction (§6) in C; `_core` itself may be set to None by tests, to check its walk against the
#: Python path that decides every event it hands back
_merkle_node = _core.merkle_node

#: events read per page of the chain walk
PAGE = 5000
#: read in pages on PostgreSQL (a server whose text may not be valid UTF-8: not streamed), the chain is read a page
#: ahead of the walk (`ReadAhead`): a verification of few events in at least AHEAD pages of at least AHEAD_PAGE
#: events, so that the two overlap
AHEAD, AHEAD_PAGE = 5, 500
#: ids per statement of an incremental verification's reads of the rows its events touched
AMONG = 50_000
#: how `_core.walk` stopped: at the page's end, after a checkpoint's event (else: before an event it hands back)
_DONE, _CHECKPOINT = 0, 1
#: (stage, done, total or None): `verify` reports its progress through it
Progress = Callable[[str, int, "int | None"], None]

_canon = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode  # codec.dumps
_sha256 = hashlib.sha256
_encode = fastjson.encode
_events = Event.__table__
_head = LedgerHead.__table__
_CHAIN_COLUMNS = (_events.c.seq, _events.c.occurred_at, _events.c.actor_user_id, _events.c.actor, _events.c.subject_type,
                  _events.c.subject_id, _events.c.action, _events.c.payload_json, _events.c.prev_hash, _events.c.hash)


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
    #: incremental: the seq of the trusted checkpoint the verification started from
    since: int | None = None
    #: what was not checked, and why (incremental verification says what it left to the trusted checkpoint)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def iter_events(session: Session) -> Iterator[Event]:
    """The chain: sealed events in order."""
    yield from session.execute(select(Event).where(Event.seq.is_not(None)).order_by(Event.seq)
                               .execution_options(yield_per=2000)).scalars()


#: the chain after seq `after`, in order (streamed whole: `chain_copy`), and a page of it (`chain_pages`)
_CHAIN_ALL = select(*_CHAIN_COLUMNS).where(_events.c.seq > bindparam("after")).order_by(_events.c.seq)
_CHAIN_PAGE = _CHAIN_ALL.limit(bindparam("n"))


def chain_pages(session: Session, after: int = 0, page: int = PAGE, ahead: ReadAhead | None = None) -> Iterator[list[tuple]]:
    """The sealed events after seq `after` as pages of plain tuples (seq, occurred_at, actor_user_id, actor,
    subject_type, subject_id, action, payload_json, prev_hash, hash), in keyset order: memory does not grow with
    the chain. ahead (PostgreSQL): each page sent as soon as the one before it has come in."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # the instants as UTC for the rest of the transaction: the same instants, which the driver loads 2.4 times
        # faster than in a named zone (the server's default may be one, as "Etc/UTC" is)
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'").close()
        yield from driver_pages(conn, _CHAIN_PAGE, after, page, ahead)
        return
    last = after
    while True:
        rows = [tuple(r) for r in session.execute(_CHAIN_PAGE, {"after": last, "n": page})]
        yield rows
        if len(rows) < page:
            return
        last = rows[-1][0]


def chain_rows(session: Session, after: int = 0, page: int = PAGE) -> Iterator[tuple]:
    """The rows of `chain_pages`, one by one."""
    for rows in chain_pages(session, after, page):
        yield from rows


def driver_pages(conn, stmt, after: int, page: int, ahead: ReadAhead | None = None, params: dict | None = None) \
        -> Iterator[list[tuple]]:
    """Keyset pages of `stmt` (bind parameters `after`, `n`, and `params`; the key its first column), each a list of the
    driver's own tuples: no SQLAlchemy result rows or processing (on PostgreSQL none of these columns needs it:
    instants come as the driver's aware datetimes), which cost a third of a table scan. ahead: each page sent as
    soon as the one before it has come in."""
    sql = str(stmt.compile(dialect=conn.dialect))
    if ahead is not None:
        yield from ahead.pages(sql, after, page, params)
        return
    last = after
    while True:
        rows = driver_rows(conn, sql, {**(params or {}), "after": last, "n": page})
        yield rows
        if len(rows) < page:
            return
        last = rows[-1][0]


#: PostgreSQL's instants: microseconds since this one (its binary format)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_MIN_MICROS = -(2 ** 63)


def chain_copy(session: Session, after: int = 0) -> Iterator[tuple[bytes | bytearray, bool]]:
    """PostgreSQL: the sealed events after seq `after`, in seq order, as one binary COPY stream, (chunk of whole
    rows, ended) as `pgcopy.copy_chunks` gives them: the columns of `chain_pages`, which `_core.walk_copy` and
    `copy_event` read."""
    conn = session.connection()
    sql = _CHAIN_ALL.params(after=int(after)).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    yield from pgcopy.copy_chunks(conn, str(sql))


def copy_instant(micros: int) -> datetime | str:
    """A binary COPY instant as the driver gives it: an aware datetime; one Python has no datetime for (the
    infinities, a year past 9999) as its text, which no event's hash was made from."""
    if micros in (_MIN_MICROS, 2 ** 63 - 1):
        return "-infinity" if micros < 0 else "infinity"
    try:
        return _PG_EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return f"{micros} microseconds after 2000-01-01T00:00:00+00:00"


def _copy_at_text(micros: int) -> str:
    """occurred_at's text in the event hash (`plain`), from a binary COPY instant."""
    return plain(copy_instant(micros))


def copy_event(data: Any, pos: int) -> tuple[tuple, int]:
    """The chain row at offset `pos` of a `chain_copy` chunk as `chain_pages` gives it, and the offset after it."""
    fields, pos = pgcopy.row_at(data, pos)
    if len(fields) != len(_CHAIN_COLUMNS) or fields[0] is None or fields[1] is None:
        raise ValueError(f"the chain's COPY stream has a row of {len(fields)} fields")
    seq, at, uid, *texts = fields
    return (int.from_bytes(seq, "big", signed=True), copy_instant(int.from_bytes(at, "big", signed=True)),
            None if uid is None else int.from_bytes(uid, "big", signed=True),
            *(None if t is None else t.decode() for t in texts)), pos


def event_hash_of(seq: int, at_text: str, uid: int | None, actor: str, stype: str, sid: str, action: str, payload: str,
                  prev: str) -> str:
    """codec.event_hash with the instant already in its text form (the hot path; the golden vectors check that
    both agree): every member a string, an integer or null, which `fastjson.encode` writes canonically."""
    content = {"action": action, "actor": actor, "actor_user_id": uid, "occurred_at": at_text, "payload": payload,
               "prev_hash": prev, "seq": seq, "subject_id": sid, "subject_type": stype}
    try:
        text = _encode(content)
    except UnicodeEncodeError:  # a lone surrogate (a Python str from SQLite): the stdlib decides
        text = _canon(content).encode("utf-8", "surrogatepass")
    return _sha256(text).hexdigest()


def leaf(sid: str, text: bytes) -> bytes:
    """SHA-256(0x00 ‖ "id|canonical state"): the Merkle leaf hash of a state (docs/ledger-format.md §6), and,
    its first 16 bytes, the digest every vouched state is kept and compared as (one hash per state)."""
    return _sha256(b"\x00" + sid.encode("utf-8") + b"|" + text).digest()


def digest(sid: str, text: bytes) -> bytes:
    return leaf(sid, text)[:16]


def null_digest(sid: str) -> bytes:
    """The digest of "no such subject" (a vouched deletion)."""
    return digest(sid, b"null")
_INT_LIMIT = 1 << 31
#: above any id a table can hold (PostgreSQL's bigint)
_LAST = (1 << 63) - 1
#: ids below a type's cap are kept in flat arrays (16–33 bytes per id up to the cap), larger ones in dicts: a
#: forged row or event with a huge id must not make verification allocate gigabytes. A full verification sets
#: each type's cap from its table's row count (`caps`); ids of a healthy registry are dense below it
BASE_CAP = 1 << 20
#: a full verification keeps the per-id arrays of a type with at least this many ids in scratch files that the OS
#: pages (`scratch`): its resident memory stays flat in the registry's size — the arrays are on disk, in the page
#: cache while there is room — and what it touches is handed back as it goes (`release`)
SCRATCH_FROM = 1 << 16


def scratch(nbytes: int) -> mmap.mmap:
    """`nbytes` zero bytes in an unlinked temporary file (in CCER_SCRATCH_DIR, else the system's), mapped shared: a
    process forked afterwards writes into the same pages."""
    with tempfile.TemporaryFile(dir=os.environ.get("CCER_SCRATCH_DIR")) as f:
        f.truncate(nbytes)
        return mmap.mmap(f.fileno(), nbytes)


def release(*buffers: Any) -> None:
    """Hand the resident pages of scratch mappings back to the OS (their contents stay in the file); anything else
    is left alone."""
    for b in buffers:
        b = getattr(b, "obj", b)  # a memoryview of a mapping
        if isinstance(b, mmap.mmap):
            b.madvise(mmap.MADV_DONTNEED)


def _int_id(sid: str) -> int | None:
    """The id as a table index when it is a canonical non-negative integer of sensible size."""
    if sid.isascii() and sid.isdigit() and (sid == "0" or sid[0] != "0") and len(sid) < 11:
        i = int(sid)
        return i if i < _INT_LIMIT else None
    return None


class Slots:
    """The latest vouched state of every subject of one type: (seq, digest) by id. Integer ids index two flat
    arrays (8 + 16 bytes per id), others a dict. seq 0: never vouched; a negative seq: -id of a pending event."""

    __slots__ = ("seqs", "digests", "other", "count", "sparse", "cap")

    def __init__(self, track: bool = False, cap: int = BASE_CAP, size: int = 0) -> None:
        size = min(size, cap)
        if size >= SCRATCH_FROM:  # in scratch files, never grown: ids from `size` on are kept by their text
            self.cap = size
            self.seqs: Any = memoryview(scratch(8 * size)).cast("q")
            self.digests: Any = scratch(16 * size)
        else:
            self.cap = cap
            self.seqs = array("q", bytes(8 * size))
            self.digests = bytearray(16 * size)
        self.other: dict[str, tuple[int, bytes]] = {}
        self.count = 0
        #: track: integer ids kept in a dict instead of the flat arrays (incremental verification: few ids, in a
        #: large id space)
        self.sparse: dict[int, tuple[int, bytes]] | None = {} if track else None

    def put_int(self, i: int, seq: int, dg: bytes) -> None:
        if self.sparse is not None:
            self.sparse[i] = (seq, dg)
            return
        if i >= self.cap:  # beyond the dense range: by its text, as the table side keeps it (`caps`)
            self.other[str(i)] = (seq, dg)
            return
        seqs = self.seqs
        if i >= len(seqs):  # never beyond the cap: the walk's inlined put writes any id below len(seqs) in place
            grow = min(max(i + 1, 2 * len(seqs), 1024), self.cap) - len(seqs)
            seqs.extend(array("q", bytes(8 * grow)))
            self.digests.extend(bytes(16 * grow))
        if not seqs[i]:
            self.count += 1
        seqs[i] = seq
        self.digests[16 * i:16 * i + 16] = dg

    def int_ids(self) -> list[int]:
        if self.sparse is not None:
            return sorted(self.sparse)
        seqs = self.seqs
        return [i for i in range(len(seqs)) if seqs[i]]

    def __len__(self) -> int:
        return self.count + len(self.other) + (len(self.sparse) if self.sparse is not None else 0)

    def release(self) -> None:
        release(self.seqs, self.digests)


class Rooted:
    """The leaf hashes of the states a rooted subject type keeps (its Merkle leaves), by id: canonical integer ids
    in two flat arrays (1 + 32 bytes per id: the leaves come out in id order without a sort or a dict entry per
    leaf), any other id in a dict."""

    __slots__ = ("kind", "merkle", "present", "hashes", "texts", "subtrees", "fixed")

    def __init__(self, kind: SubjectType, size: int = 0) -> None:
        self.kind = kind
        self.merkle = kind.merkle
        #: in scratch files, never grown: ids from `size` on are kept by their text
        self.fixed = size >= SCRATCH_FROM
        self.present: Any = scratch(size) if self.fixed else bytearray(size)
        self.hashes: Any = scratch(32 * size) if self.fixed else bytearray(32 * size)
        #: ids that are not canonical integers
        self.texts: dict[str, bytes] = {}
        #: the subtree roots of the last root's full chunks, by a digest of the chunk's leaf hashes (root_of_blob)
        self.subtrees: dict[bytes, bytes] = {}

    def update(self, key: Any, state: Any, leaf_hash: bytes) -> None:
        """key: the id (an int when canonical); leaf_hash: `leaf` of the state."""
        self.put(key, leaf_hash if state is not None and self.merkle(state) else None)

    def put(self, key: Any, leaf_hash: bytes | None) -> None:
        """Keep a leaf (None: the subject's state is no longer kept)."""
        if type(key) is not int:
            if leaf_hash is None:
                self.texts.pop(key, None)
            else:
                self.texts[key] = leaf_hash
            return
        present = self.present
        if key >= len(present):
            if self.fixed or key >= 2 * len(present) + BASE_CAP:  # far beyond the ids seen: by its text (natural order is kept)
                self.put(str(key), leaf_hash)
                return
            if leaf_hash is None:
                return
            grow = max(key + 1, 2 * len(present), 1024) - len(present)
            present.extend(bytes(grow))
            self.hashes.extend(bytes(32 * grow))
        if self.texts:  # kept by its text before the arrays reached it
            self.texts.pop(str(key), None)
        if leaf_hash is None:
            present[key] = 0
        else:
            present[key] = 1
            self.hashes[32 * key:32 * key + 32] = leaf_hash

    def blob(self) -> bytes | memoryview:
        """The kept leaf hashes, concatenated in the natural order of their ids (§6)."""
        import numpy as np

        kept = np.flatnonzero(np.frombuffer(self.present, dtype=np.uint8))
        ints = np.frombuffer(self.hashes, dtype=np.uint8).reshape(-1, 32)[kept]
        if not self.texts:
            return memoryview(ints.reshape(-1))  # canonical integer ids: their natural order is numeric order (no copy)
        ints = ints.tobytes()
        pairs = [(str(int(i)), ints[32 * n:32 * n + 32]) for n, i in enumerate(kept)] + list(self.texts.items())
        pairs.sort(key=lambda p: natural(p[0]))
        return b"".join(h for _, h in pairs)

    def root(self) -> str:
        fresh: dict[bytes, bytes] = {}
        if self.fixed and not self.texts:
            root = self._root_by_windows(fresh)
        else:
            root = root_of_blob(self.blob(), self.subtrees, fresh)
        self.subtrees = fresh
        return root

    def _root_by_windows(self, fresh: dict[bytes, bytes], window: int = 1 << 16) -> str:
        """`root` of scratch arrays, a window of ids at a time (each handed back to the OS once read): the memory of
        a window and of the chunks' roots, whatever the number of leaves."""
        import numpy as np

        tree = _Chunks(self.subtrees, fresh)
        hashes = np.frombuffer(self.hashes, dtype=np.uint8).reshape(-1, 32)
        for a in range(0, len(self.present), window):
            b = min(a + window, len(self.present))
            kept = np.flatnonzero(np.frombuffer(self.present, dtype=np.uint8, count=b - a, offset=a)) + a
            tree.feed(hashes[kept].reshape(-1))
            if b - a == window:  # whole pages (a window is a multiple of the page size): handed back
                self.present.madvise(mmap.MADV_DONTNEED, a, window)
                self.hashes.madvise(mmap.MADV_DONTNEED, 32 * a, 32 * window)
        del hashes
        release(self.present, self.hashes)
        return tree.root()

    def release(self) -> None:
        release(self.present, self.hashes)


#: leaves per cached subtree: a power of two, so that a full chunk starting at a multiple of it is a subtree of
#: the whole tree (docs/ledger-format.md §6 pairs from the left)
CHUNK = 1024


class _Chunks:
    """merkle.root fed leaf hashes in order (32 bytes each), a part at a time. Successive checkpoints share most of
    their tree: `known` maps a digest of a full chunk's leaf hashes to its subtree root from the previous
    computation, and `fresh` collects this one's. At the chunks' level the whole tree holds the full chunks' roots
    and then the rest's one node (the full part is even at every level below, so the rest pairs and carries exactly
    as it does in the whole)."""

    def __init__(self, known: dict[bytes, bytes] | None = None, fresh: dict[bytes, bytes] | None = None,
                 chunk: int = CHUNK) -> None:
        self.known = {} if known is None else known
        self.fresh = {} if fresh is None else fresh
        self.width = 32 * chunk
        self.nodes: list[bytes] = []
        self.rest = bytearray()

    def feed(self, leaves: Any) -> None:
        """The next leaf hashes (bytes-like, a multiple of 32 bytes): full chunks hashed from where they lie."""
        view, width = memoryview(leaves), self.width
        if self.rest:  # complete the chunk begun by the part before
            need = width - len(self.rest)
            self.rest += view[:need]
            view = view[need:]
            if len(self.rest) < width:
                return
            self._chunk(self.rest)
            self.rest = bytearray()
        full = len(view) - len(view) % width
        for a in range(0, full, width):
            self._chunk(view[a:a + width])
        self.rest += view[full:]

    def _chunk(self, part: Any) -> None:
        key = _sha256(part).digest()  # a stand-in for the chunk no forger can match (SHA-256: 2.4 times blake2b here)
        node = self.known.get(key)
        if node is None:
            node = _merkle_node(part)
        self.fresh[key] = node
        self.nodes.append(node)

    def root(self) -> str:
        if not self.nodes and not self.rest:
            return merkle.EMPTY_ROOT
        nodes = self.nodes + ([_merkle_node(self.rest)] if self.rest else [])
        return _merkle_node(b"".join(nodes)).hex()


def root_of_blob(blob: Any, known: dict[bytes, bytes] | None = None, fresh: dict[bytes, bytes] | None = None,
                 chunk: int = CHUNK) -> str:
    """merkle.root, from the leaf hashes concatenated (32 bytes each), with the subtree cache of `_Chunks`."""
    tree = _Chunks(known, fresh, chunk)
    tree.feed(blob)
    return tree.root()


def leaf_hashes(leaves: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(id, leaf hash) of leaf strings "id|canonical state"."""
    for leaf in leaves:
        yield leaf.partition("|")[0], _sha256(b"\x00" + leaf.encode("utf-8")).digest()


class _Walk:
    """The state of a chain walk: what the events vouch for, by type."""

    def __init__(self, incremental: bool = False, caps: dict[str, int] | None = None, tops: dict[str, int] | None = None) -> None:
        self.slots: dict[str, Slots] = {}
        self.rooted: dict[str, Rooted] = {}
        for name, kind in SUBJECT_TYPES.items():
            size = 0 if incremental else (tops or {}).get(name, 0)  # (ids seen beyond it grow the arrays as before)
            self.slots[name] = Slots(track=incremental, cap=(caps or {}).get(name, BASE_CAP), size=size)
            if kind.merkle is not None:
                self.rooted[name] = Rooted(kind, size)
        #: False when an incremental verification starts from a checkpoint without its leaves
        self.replay_roots = True

    def vouch_all(self, stype: str, sid: str, seq: int, obj: Any, exact: bool = False) -> None:
        """Every state an event's payload vouches for: its subject's ("state") and those it touched ("states").
        (`vouch` for each, inlined: this runs for every state of the chain.)"""
        if type(obj) is not dict:
            return
        items = [(stype, sid, obj["state"])] if "state" in obj else []
        states = obj.get("states")
        if states and type(states) is dict:
            for key, state in states.items():
                name, _, other = key.partition(":")
                items.append((name, other, state))
        all_slots, all_rooted, sha = self.slots, self.rooted, _sha256
        text = _encode if exact else _canon_text
        for name, sid_, state in items:
            slots = all_slots.get(name)
            if slots is None:  # not a registered subject type: nothing to compare it with
                continue
            h = sha(b"\x00" + sid_.encode("utf-8") + b"|" + text(state)).digest()
            # _int_id and Slots.put_int, inlined for the common case (a canonical id below 10⁹, arrays grown)
            i = int(sid_) if sid_.isascii() and sid_.isdigit() and sid_[0] != "0" and len(sid_) < 10 else _int_id(sid_)
            if i is None:
                slots.other[sid_] = (seq, h[:16])
            elif slots.sparse is None and i < len(slots.seqs):
                seqs = slots.seqs
                if not seqs[i]:
                    slots.count += 1
                seqs[i] = seq
                slots.digests[16 * i:16 * i + 16] = h[:16]
            else:
                slots.put_int(i, seq, h[:16])
            rooted = all_rooted.get(name)
            if rooted is not None:
                rooted.update(sid_ if i is None else i, state, h)

    def release(self) -> None:
        """Hand back the pages of the scratch arrays touched so far (a page of the chain at a time)."""
        for slots in self.slots.values():
            slots.release()
        for rooted in self.rooted.values():
            rooted.release()

    def core_kinds(self) -> tuple:
        """What the compiled walk writes into: (name, slots, rooted or None, the field of a KeptWhen predicate or
        None) per type (a rooted type with another predicate, a subclass's included, is vouched for by `vouch_all`)."""
        return tuple((name, slots, self.rooted.get(name),
                      SUBJECT_TYPES[name].merkle.field if type(SUBJECT_TYPES[name].merkle) is KeptWhen else None)
                     for name, slots in self.slots.items())

    def roots(self, names: Iterable[str]) -> dict[str, str | None]:
        return {n: (self.rooted[n].root() if n in self.rooted else None) for n in names}


class _Chain:
    """A chain walk under way: the seq it expects next, the hash that event must chain from, the checkpoints
    still ahead. Each page goes through the compiled walk (`_core.walk`) while it proves every event good; an
    event it hands back goes through `event`, which decides and words any problem."""

    def __init__(self, walk: _Walk, expected: int, prev: str, cps: dict[int, Checkpoint], key: PublicKey,
                 report: VerifyReport) -> None:
        self.walk, self.expected, self.prev, self.cps, self.key, self.report = walk, expected, prev, cps, key, report
        self.last_at: Any = None
        self.at_text = ""
        #: `walk_copy`'s instant and its text (its own: the Python path keeps the datetime's in last_at, at_text)
        self.copy_at = (_MIN_MICROS, _copy_at_text(_MIN_MICROS))
        self.kinds = walk.core_kinds()

    def page(self, rows: list[tuple]) -> Problem | None:
        try:
            return self._page(rows)
        finally:
            self.walk.release()

    def _page(self, rows: list[tuple]) -> Problem | None:
        i, n = 0, len(rows)
        while i < n:
            if _core is not None:
                stop = next(iter(self.cps), 0)
                i, self.expected, self.prev, status, self.last_at, self.at_text = _core.walk(
                    rows, i, self.expected, self.prev, stop, self.kinds, plain, self.last_at, self.at_text)
                if status == _CHECKPOINT:
                    _check_checkpoint(self.cps.pop(self.expected - 1), self.prev, self.walk, self.key, self.report)
                    continue
                if status == _DONE:
                    return None
            bad = self.event(rows[i])
            if bad is not None:
                return bad
            i += 1
        return None

    def chunk(self, data: Any) -> Problem | None:
        """A `chain_copy` chunk: as `page`, through `_core.walk_copy`; an event it hands back is read in Python."""
        try:
            return self._chunk(data)
        finally:
            self.walk.release()

    def _chunk(self, data: Any) -> Problem | None:
        pos, n = 0, len(data)
        while pos < n:
            if _core is not None:
                stop = next(iter(self.cps), 0)
                pos, self.expected, self.prev, status, *self.copy_at = _core.walk_copy(
                    data, pos, self.expected, self.prev, stop, self.kinds, _copy_at_text, *self.copy_at)
                if status == _CHECKPOINT:
                    _check_checkpoint(self.cps.pop(self.expected - 1), self.prev, self.walk, self.key, self.report)
                    continue
                if status == _DONE:
                    return None
            row, pos = copy_event(data, pos)
            bad = self.event(row)
            if bad is not None:
                return bad
        return None

    def event(self, row: tuple) -> Problem | None:
        seq, at, uid, actor, stype, sid, action, payload, prev_hash, hash_ = row
        if seq != self.expected:
            return Problem(seq, f"sequence gap: expected #{self.expected} (an event was removed)")
        if prev_hash != self.prev:
            return Problem(seq, "prev_hash does not match the hash of the event before it")
        if at != self.last_at:  # a day's settlement writes its events at one clock reading
            self.last_at, self.at_text = at, plain(at)
        if event_hash_of(seq, self.at_text, uid, actor, stype, sid, action, payload, prev_hash) != hash_:
            return Problem(seq, f"content does not match its hash (action {action} on {stype} {sid}); the stored event was altered")
        obj, canonical, exact = fastjson.parse(payload)
        if not canonical:
            return Problem(seq, "payload is not canonical JSON (docs/ledger-format.md)")
        self.walk.vouch_all(stype, sid, seq, obj, exact)
        self.prev = hash_
        self.expected += 1
        if seq in self.cps:
            _check_checkpoint(self.cps.pop(seq), hash_, self.walk, self.key, self.report)
        return None


def _since(session: Session, since: Any, key: PublicKey, report: VerifyReport, walk: _Walk) -> tuple[int, str] | None:
    """Check the trusted checkpoint an incremental verification starts from; (seq, head hash) to go on from,
    or None when it cannot be trusted or the chain does not reach it."""
    if isinstance(since, int):
        row = session.execute(select(Checkpoint).where(Checkpoint.seq == since)).scalar_one_or_none()
        if row is None:
            report.problems.append(Problem(None, f"no checkpoint at #{since} to start from"))
            return None
        since = row.public()
    seq, head_hash, roots = int(since["seq"]), since["head_hash"], since.get("roots") or {}
    report.since = seq
    if since.get("signature") is not None or since.get("key_id") is not None:
        if not key.verifies(since.get("signature"), seq, head_hash, roots, since.get("key_id")):
            report.problems.append(Problem(seq, "the trusted checkpoint's signature does not verify with the registry's key "
                                                f"{key.id[:16]}… (forged, or another registry's)"))
            return None
    else:
        report.notes.append(f"the trusted checkpoint #{seq} carries no signature: trusted as given")
    got = session.execute(select(_events.c.hash).where(_events.c.seq == seq)).scalar_one_or_none()
    if got != head_hash:
        report.problems.append(Problem(seq, f"does not match the exported checkpoint: the chain has {str(got)[:12]}… where it "
                                            f"recorded {head_hash[:12]}… — history was rewritten"))
        return None
    stored = session.execute(select(Checkpoint).where(Checkpoint.seq == seq)).scalar_one_or_none()
    if stored is not None and (stored.head_hash != head_hash or stored.roots != roots):
        report.problems.append(Problem(seq, "the stored checkpoint differs from the exported checkpoint"))
    leaves = since.get("leaves")
    if leaves:
        for name, rooted in walk.rooted.items():
            if name not in roots:
                continue
            for sid, h in leaf_hashes(leaves.get(name, [])):
                i = _int_id(sid)
                rooted.put(sid if i is None else i, h)
            if rooted.root() != roots[name]:
                report.problems.append(Problem(seq, f"the trusted checkpoint's {name} leaves do not hash to its Merkle root"))
                return None
    else:
        walk.rooted.clear()
        walk.replay_roots = False
        report.notes.append(f"the trusted checkpoint #{seq} carries no Merkle leaves: the roots of later checkpoints are not "
                            "recomputed (export it with --with-states to have them)")
    report.notes.append(f"events 1…{seq} and the subjects no later event touched are vouched for by the trusted checkpoint "
                        "(a full verification checks them)")
    return seq, head_hash


def verify(session: Session, extra_checks: Iterable[Callable[[Session], Iterable[str]]] = (), *, since: Any = None,
           progress: Progress | None = None, key: PublicKey | None = None, invariants: bool | None = None,
           page: int = PAGE, jobs: int = 1) -> VerifyReport:
    """Stops the chain walk at the first broken event (everything after it is unvouched) and names it.

    since: a trusted checkpoint (a dict as exported: seq, head_hash, roots, signature, key_id, optionally
    leaves) or the seq of a stored checkpoint: verify only what came after it. key: the registry's public key
    (default: this instance's). invariants: run the registered invariants (default: on a full verification).
    jobs: 2 or more on PostgreSQL, for a full verification: the tables are scanned and the invariants run by a
    second process, in the same snapshot (pg_export_snapshot), while this one walks the chain. The session must
    then have no changes of its own (its transaction is ended)."""
    session.expire_all()  # compare what is stored, not what this session remembers
    report = VerifyReport()
    run_invariants = invariants if invariants is not None else since is None
    helper = None
    if jobs > 1 and since is None and session.get_bind().dialect.name == "postgresql":
        helper = _StatesHelper(session, run_invariants, list(extra_checks))
    try:
        return _verify(session, report, helper, list(extra_checks), since, progress, key, run_invariants, page)
    finally:  # (after `finish` it has exited: nothing to stop)
        if helper is not None:
            helper.stop()


def _verify(session: Session, report: VerifyReport, helper: _StatesHelper | None, extra_checks: list, since: Any,
            progress: Progress | None, key: PublicKey | None, run_invariants: bool, page: int) -> VerifyReport:
    key = key or public_key()
    tops: dict[str, int] = {}
    caps = helper.caps if helper is not None else None if since is not None else type_caps(session, tops)
    walk = _Walk(incremental=since is not None, caps=caps, tops=helper.tops if helper is not None else tops)
    tell = progress or (lambda stage, done, total: None)
    prev, expected_seq = GENESIS, 1
    if since is not None:
        start = _since(session, since, key, report, walk)
        if start is None:
            return report
        expected_seq, prev = start[0] + 1, start[1]
    head_row = session.execute(select(_head.c.seq, _head.c.hash).where(_head.c.id == 1)).one()
    total = max(head_row.seq - expected_seq + 1, 0)
    cps = {cp.seq: cp for cp in session.execute(select(Checkpoint).where(Checkpoint.seq >= expected_seq)
                                                .order_by(Checkpoint.seq)).scalars()}

    chain = _Chain(walk, expected_seq, prev, cps, key, report)
    pg = session.get_bind().dialect.name == "postgresql"
    if pg and pgcopy.utf8(session.connection()):
        bad, early = _walk_stream(session, chain, tell, total, touched=since is not None)
    else:
        bad, early = _walk_pages(session, chain, tell, total, page, head_row.seq if pg and since is not None else None)
    prev = chain.prev
    report.events, report.head = chain.expected - 1, prev
    if bad is not None:
        report.problems.append(bad)
        return report

    if (head_row.seq, head_row.hash) != (report.events, prev):
        report.problems.append(Problem(None, f"chain head says #{head_row.seq} {head_row.hash[:12]}… but the events end at "
                                             f"#{report.events} {prev[:12]}…"))
    for cp in cps.values():  # beyond the end of the chain
        report.checkpoints += 1
        report.problems.append(Problem(cp.seq, f"checkpoint of {cp.created_at:%Y-%m-%d} recorded head {cp.head_hash[:12]}…, "
                                               "the chain has None…"))

    for ev in pending(session):  # their changes are in the tables already; sealing will chain them in this order
        try:
            walk.vouch_all(ev.subject_type, ev.subject_id, -ev.id, _loads(ev.payload_json))
        except ValueError:
            report.problems.append(Problem(None, f"pending event {ev.id}: payload is not JSON"))
        report.pending += 1
    tables, messages = helper.finish(session) if helper is not None else (None, None)
    touched = _touched_rows(session, walk, early) if since is not None and pg else None
    report.problems.extend(_check_states(session, walk, report, incremental=since is not None, tell=tell, tables=tables,
                                         touched=touched))
    if run_invariants:
        if messages is None:
            messages = [msg for check in [*INVARIANTS, *extra_checks] for msg in check(session)]
        report.problems.extend(Problem(None, msg) for msg in messages)
        tell("invariants", 1, 1)
    else:
        report.notes.append("the registry's invariants were not run (a full verification runs them)")
    return report


def _walk_stream(session: Session, chain: _Chain, tell: Progress, total: int, touched: bool) \
        -> tuple[Problem | None, list]:
    """PostgreSQL: the chain as one binary COPY stream (the server sends on while a chunk is walked). touched (an
    incremental verification): once the stream has ended (the connection is free), before each chunk left the
    rows touched so far are sent for (`_send_touched`), so that the database reads them while the walk goes on.
    (The first bad event or None, those reads.)"""
    start = chain.expected
    early: list = []
    with ExitStack() as stack:
        chunks = stack.enter_context(closing(chain_copy(session, start - 1)))  # (left early: the rest is not wanted)
        ahead: ReadAhead | None = None
        for data, ended in chunks:
            reads = _to_send(chain.walk, early) if ended and touched else []
            if reads:  # (no pipeline for nothing: its sync costs a round trip)
                ahead = ahead or stack.enter_context(ReadAhead(session.connection()))
                early += _send_touched(session.connection(), ahead, reads)
            bad = chain.chunk(data)
            if bad is not None:
                if ahead is not None:
                    ahead.unwanted()  # (reads nobody will take: an error of theirs must not hide this event's)
                return bad, early
            tell("chain", chain.expected - start, total)
    return None, early


def _walk_pages(session: Session, chain: _Chain, tell: Progress, total: int, page: int, touched_at: int | None) \
        -> tuple[Problem | None, list]:
    """The chain in keyset pages (SQLite; PostgreSQL where its text may not be valid UTF-8); on PostgreSQL the
    database reads the next page while this one is walked.
    touched_at (PostgreSQL, incremental): the head's seq; the rows touched so far are read with the page that
    reaches it (`_send_touched`: the database is idle then). (The first bad event or None, those reads.)"""
    start = chain.expected
    early: list = []
    pg = session.get_bind().dialect.name == "postgresql"
    with ReadAhead(session.connection()) if pg else nullcontext() as ahead:
        if ahead is not None:
            page = min(page, max(AHEAD_PAGE, -(-total // AHEAD)))
        for rows in chain_pages(session, start - 1, page, ahead):
            if ahead is not None and touched_at is not None and not early and chain.expected - 1 + len(rows) >= touched_at:
                early = _send_touched(session.connection(), ahead, _to_send(chain.walk))
            bad = chain.page(rows)
            if bad is not None:
                if ahead is not None:
                    ahead.unwanted()  # the page in flight: an error of its own must not hide this event's
                return bad, early
            tell("chain", chain.expected - start, total)
    return None, early


def _check_checkpoint(cp: Checkpoint, chain_hash: str, walk: _Walk, key: PublicKey, report: VerifyReport) -> None:
    report.checkpoints += 1
    if chain_hash != cp.head_hash:
        report.problems.append(Problem(cp.seq, f"checkpoint of {cp.created_at:%Y-%m-%d} recorded head {cp.head_hash[:12]}…, "
                                               f"the chain has {chain_hash[:12]}…"))
    recorded = cp.roots
    if cp.signature is None:
        report.problems.append(Problem(cp.seq, "checkpoint is not signed (taken before checkpoints were signed: "
                                               "`ccer ledger sign-checkpoints` signs them after a verification)"))
    elif cp.key_id != key.id:
        report.problems.append(Problem(cp.seq, f"checkpoint is signed by key {str(cp.key_id)[:16]}…, not the registry's key "
                                               f"{key.id[:16]}…"))
    elif not key.verifies(cp.signature, cp.seq, cp.head_hash, recorded, cp.key_id):
        report.problems.append(Problem(cp.seq, "checkpoint's signature does not verify: its head or roots were altered, "
                                               "or it was forged"))
    if not walk.replay_roots:  # incremental without leaves: the roots cannot be recomputed
        return
    for name, replayed in walk.roots(recorded).items():
        if replayed != recorded[name]:
            report.problems.append(Problem(cp.seq, f"checkpoint's {name} Merkle root {recorded[name][:12]}… differs from the "
                                                   f"one the events replay to ({str(replayed)[:12]}…)"))


def _plain_value(o: Any) -> Any:
    """codec.plain of the values JSON has no form for (the encoder asks only about those)."""
    if isinstance(o, (Decimal, datetime, date)):
        return plain(o)
    raise TypeError(f"{type(o).__name__} is not JSON")


#: the canonical text of a state straight from its row's values (codec.canonical, without building plain copies)
_canon_row = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain_value).encode


def type_caps(session: Session, tops: dict[str, int] | None = None) -> dict[str, int]:
    """Each subject type's cap (see BASE_CAP): twice its table's rows and a margin, for the types read through a
    FieldsScan (the large ones); the base cap for the others. `tops`, when given, gets those tables' largest ids:
    a full verification sizes its arrays to them once (doubling them as ids come would overshoot by up to half
    and copy them at each step)."""
    caps = {}
    for name, kind in SUBJECT_TYPES.items():
        scan = kind.snapshot_all
        n = top = 0
        if isinstance(scan, FieldsScan):
            id_column = scan.columns[0]
            top = session.execute(select(func.max(id_column))).scalar() or 0
            n = _rows_estimate(session, id_column.table)
            if n is None or 2 * n + BASE_CAP < top + 1:  # (counting the rows of a large table takes a while)
                n = session.execute(select(func.count(id_column))).scalar() or 0
        caps[name] = min(2 * n + BASE_CAP, _INT_LIMIT)
        size = min(top + 1, caps[name]) if top > 0 else 0
        if size >= SCRATCH_FROM:  # arrays in scratch files, never grown: on both sides ids from `size` on by text
            caps[name] = size
        if tops is not None and size:
            tops[name] = size
    return caps


def _rows_estimate(session: Session, table) -> int | None:
    """PostgreSQL's estimate of a table's rows (pg_class.reltuples, kept by ANALYZE and autovacuum), or None (never
    estimated, or another database). `type_caps` takes it for the count when the table's ids all fit the cap it
    gives — ids dense as a registry's are: a cap only bounds what forged ids far beyond the rows can make it allocate."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    name = session.get_bind().dialect.identifier_preparer.format_table(table)
    # (an estimate older than a mass deletion is too high: the arrays are then sized to what the table held at the
    # last ANALYZE — the registry's tables only grow, blocks are superseded, not deleted)
    got = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": name}).scalar()
    return int(got) if got is not None and got >= 0 else None


def table_digests(session: Session, kind: SubjectType, int_ids: list[int] | None = None, other_ids: list[str] | None = None,
                  tell: Progress | None = None, sparse: bool = False, cap: int = BASE_CAP, into: tuple | None = None,
                  part: tuple[int, int] | None = None) -> tuple[Any, Any, dict[str, bytes]] | None:
    """The digests of the current states of a subject type, from one ordered scan of its table (`snapshot_all`),
    or of the ids given: (16 bytes per integer id, 1 byte per integer id telling which rows exist, {other id:
    digest}). part (a table kept in the shared scratch arrays `into`): only the ids from part[0] to part[1]
    (`_parts`), written into them; None when the table is not what its parts assume (its first part reads it all)."""
    fields = kind.snapshot_all if isinstance(kind.snapshot_all, FieldsScan) else None
    # plain ints, strings, booleans from PostgreSQL's driver: the fast encoder writes them canonically (SQLite may
    # hold any type in any column — a BLOB would be written as base64 text — so its rows go through the stdlib)
    pg = session.get_bind().dialect.name == "postgresql"
    text = _encode if fields is not None and fields.native and pg else _canon_text
    if text is _encode and int_ids is None and other_ids is None:
        return _native_digests(session, kind, fields, tell, cap, into, part)
    return _unsplit(part, lambda: _general_digests(session, kind, int_ids, other_ids, text, tell, sparse, cap))


def _unsplit(part: tuple[int, int] | None, whole: Callable[[], Any]) -> Any:
    """A table its parts cannot share (not in the shared scratch arrays, or not as they assume): the first part
    reads it whole, the others nothing (None)."""
    return whole() if part is None or part[0] == 0 else None


def _among_types(walk: _Walk) -> list[str]:
    """The types whose touched rows an incremental verification on PostgreSQL reads by id (`_among_digests`): the
    JSON-native tables (`FieldsScan.native`) whose vouched ids are all integers."""
    return [name for name, kind in SUBJECT_TYPES.items() if isinstance(kind.snapshot_all, FieldsScan)
            and kind.snapshot_all.native and walk.slots[name].sparse and not walk.slots[name].other]


def _among_digests(conn, reads: Iterable[tuple[str, list[int]]]) -> Iterator[tuple[str, list[int], bytes]]:
    """(type, ids of the rows found in the order read, their digests) for each (type, ids) of a JSON-native table,
    on PostgreSQL: one statement per read (`FieldsScan.among_sql`), each sent while the rows of the one before it are
    digested (two in flight: the database reads the next while this process works, and holds no more rows than
    that); the driver's rows."""
    sent: deque = deque()
    with ReadAhead(conn) as ahead:
        for name, ids in reads:
            sent.append((name, ahead.send(SUBJECT_TYPES[name].snapshot_all.among_sql(conn), among_params(ids))))
            if len(sent) == 2:
                yield _digested(*sent.popleft())
        while sent:
            yield _digested(*sent.popleft())


def _digested(name: str, read: Callable[[], list[tuple]]) -> tuple[str, list[int], bytes]:
    """(type, ids of the rows, their digests) of a read of `_among_digests` or `_send_touched`."""
    rows = read()
    return name, [row[0] for row in rows], _digester(SUBJECT_TYPES[name].snapshot_all)(rows)


def _send_touched(conn, ahead: ReadAhead, reads: list[tuple[str, list[int]]]) \
        -> list[tuple[str, list[int], Callable[[], list[tuple]]]]:
    """The first reads of `_touched_rows` (`_to_send`), sent ahead in the pipeline: (type, ids, their rows) of each."""
    return [(name, ids, ahead.send(SUBJECT_TYPES[name].snapshot_all.among_sql(conn), among_params(ids)))
            for name, ids in reads]


def _to_send(walk: _Walk, sent: list = ()) -> list[tuple[str, list[int]]]:
    """The ids vouched so far that the reads `sent` before did not ask for, of at most two types and AMONG ids of
    each in all, with those of `sent` (as many rows as `_touched_rows` holds at once): (type, ids) to read."""
    asked = _asked(sent)
    among = _among_types(walk)
    names = [n for n in among if n in asked] + [n for n in among if n not in asked][:max(0, 2 - len(asked))]
    out = []
    for name in names:
        room = AMONG - len(asked.get(name, ()))
        ids = sorted(walk.slots[name].sparse.keys() - asked.get(name, set()))[:room] if room > 0 else []
        if ids:
            out.append((name, ids))
    return out


def _asked(sent: Iterable[tuple[str, list[int], Any]]) -> dict[str, set[int]]:
    """The ids of reads sent, by type."""
    asked: dict[str, set[int]] = {}
    for name, ids, _ in sent:
        asked.setdefault(name, set()).update(ids)
    return asked


def _touched_rows(session: Session, walk: _Walk, early: list = ()) -> dict[str, list[tuple[str, int]]]:
    """An incremental verification on PostgreSQL: the vouched states that differ from their row, (id, seq), of each
    of the `_among_types`, read in statements of up to AMONG ids — after those sent ahead (`_send_touched`) — each
    id once."""
    found: dict[str, tuple[list[int], list[bytes]]] = {name: ([], []) for name in _among_types(walk)}
    # (a type whose ids turned out not all integers is `_check_states`'s to read: its early read is left)
    early = [(name, ids, read) for name, ids, read in early if name in found]
    asked = _asked(early)
    reads = [(name, ids[a:a + AMONG]) for name in found
             for ids in [sorted(walk.slots[name].sparse.keys() - asked.get(name, set()))] for a in range(0, len(ids), AMONG)]
    for name, ids, blob in itertools.chain((_digested(name, read) for name, _, read in early),
                                           _among_digests(session.connection(), reads)):
        found[name][0].extend(ids)
        found[name][1].append(blob)
    return {name: _differing_rows(walk.slots[name].sparse, *got) for name, got in found.items()}


def _differing_rows(sparse: dict[int, tuple[int, bytes]], ids: list[int], blobs: list[bytes]) -> list[tuple[str, int]]:
    """`_differing_sparse` of the rows read by id: (ids found, their digests in that order), each id asked for once."""
    blob = b"".join(blobs)
    # the usual case, in one comparison: every row there (the ids are unique, and only these were asked for) and
    # each as vouched — the vouched digests in the rows' order are the rows' digests
    if len(ids) == len(sparse) and b"".join([sparse[i][1] for i in ids]) == blob:
        return []
    return _differing_sparse(sparse, dict(zip(ids, [blob[j:j + 16] for j in range(0, len(blob), 16)])))


def _digester(scan: FieldsScan) -> Callable[[list[tuple]], bytes]:
    """Rows (id, *fields) of a JSON-native table → their 16-byte digests, concatenated: the C core's, or the Python
    expression's for a page it does not write (a value of another type)."""
    names, enc, sha = scan.fields, _encode, _sha256
    order = tuple(sorted(range(1, len(names) + 1), key=lambda j: names[j - 1]))  # the columns in key order
    keys = tuple(_encode(names[j - 1]) for j in order)
    unique = len(set(names)) == len(names)  # a field named twice: a dict keeps it once

    def digests(rows: list[tuple]) -> bytes:
        blob = _core.row_digests(rows, order, keys) if _core is not None and unique else None
        if blob is None:
            blob = b"".join(sha(b"\x00" + str(row[0]).encode() + b"|" + enc(dict(zip(names, row[1:])))).digest()[:16]
                            for row in rows)
        return blob

    return digests


def _general_digests(session: Session, kind: SubjectType, int_ids: list[int] | None, other_ids: list[str] | None,
                     text: Callable[[Any], bytes], tell: Progress | None, sparse: bool = False, cap: int = BASE_CAP) \
        -> tuple[bytearray, bytearray, dict[str, bytes]]:
    """sparse: every digest in the dict, by id text (the few rows an incremental verification reads); otherwise
    ids from 0 to below `cap` in the arrays, any other by its text."""
    digests, present, other = bytearray(), bytearray(), {}
    n = 0
    for rid, state in _scan(session, kind, int_ids, other_ids):
        dg = digest(str(rid), text(state))
        i = None if sparse else rid if type(rid) is int and 0 <= rid < cap else _int_id(str(rid))
        if i is not None and i >= cap:
            i = None
        if i is None:
            other[str(rid)] = dg
        else:
            if i >= len(present):
                grow = max(i + 1, 2 * len(present), 1024) - len(present)
                present.extend(bytes(grow))
                digests.extend(bytes(16 * grow))
            present[i] = 1
            digests[16 * i:16 * i + 16] = dg
        n += 1
        if tell is not None and not n % 100_000:
            tell(f"states:{kind.name}", n, None)
    return digests, present, other


def _canon_text(state: Any) -> bytes:
    return _canon_row(state).encode("utf-8")


def _native_digests(session: Session, kind: SubjectType, scan: FieldsScan, tell: Progress | None, cap: int,
                    into: tuple | None = None, part: tuple[int, int] | None = None) -> tuple[Any, Any, dict] | None:
    """`table_digests` of a whole table whose columns are all JSON-native (`FieldsScan.native`), on PostgreSQL:
    keyset pages of the driver's rows, the arrays sized once, one tight loop. When the ids fill the cap exactly (a
    type kept in scratch files, `type_caps`) the arrays are scratch too — `into`'s, when given (made before the
    table-scanning process was forked, so that the verifying process reads them where they are); `part`: only
    those ids, written into `into`'s arrays (`_unsplit` otherwise)."""
    conn = session.connection()
    id_column = scan.columns[0]
    low, top = session.execute(select(func.min(id_column), func.max(id_column))).one()
    low, top = low or 0, top or 0
    if low < 0 or top >= cap:  # a negative id, or ids beyond the dense range (forged rows): the general path
        return _unsplit(part, lambda: _general_digests(session, kind, None, None, _encode, tell, cap=cap))
    shared = into is not None and len(into[1]) == cap
    if part is not None and not (shared and top + 1 == cap):
        return _unsplit(part, lambda: _native_digests(session, kind, scan, tell, cap, into))
    if top + 1 == cap >= SCRATCH_FROM:  # never grown: rows written after max() was read are beyond the cap
        digests, present = into if shared else (scratch(16 * cap), scratch(cap))
    else:
        digests, present = bytearray(16 * (top + 1)), bytearray(top + 1)
    other: dict = {}
    row_digests = _digester(scan)
    n = 0
    first, last = part or (0, _LAST)
    if part is not None and part[1] == cap - 1:
        last = _LAST  # the last part: the rows beyond the cap too
    for rows in driver_pages(conn, scan.page, first - 1, SCAN_PAGE, params={"last": last}):
        if not rows:
            continue
        blob = row_digests(rows)
        a, b = rows[0][0], rows[-1][0]
        if b >= len(present):  # written after max() was read, in a transaction that sees it
            new = min(b + 1, cap)
            if new > len(present):
                present.extend(bytes(new - len(present)))
                digests.extend(bytes(16 * new - len(digests)))
            if b >= cap:
                for k, row in enumerate(rows):
                    if row[0] >= cap:
                        other[str(row[0])] = blob[16 * k:16 * k + 16]
                    else:
                        present[row[0]] = 1
                        digests[16 * row[0]:16 * row[0] + 16] = blob[16 * k:16 * k + 16]
                n += len(rows)
                continue
        if b - a == len(rows) - 1:  # consecutive ids (the usual page): two slice copies
            present[a:b + 1] = b"\x01" * len(rows)
            digests[16 * a:16 * (b + 1)] = blob
        else:
            for k, row in enumerate(rows):
                i = row[0]
                present[i] = 1
                digests[16 * i:16 * i + 16] = blob[16 * k:16 * k + 16]
        if (n + len(rows)) // 100_000 > n // 100_000:
            release(digests, present)
            if tell is not None:
                tell(f"states:{kind.name}", n + len(rows), None)
        n += len(rows)
    release(digests, present)
    return digests, present, other


def _compare(slots: Slots, digests: bytearray, present: bytearray, other: dict[str, bytes],
             incremental: bool) -> tuple[list[str], list[tuple[str, int]]]:
    """(ids of rows no event vouches for, (id, seq) of vouched states that differ from their row): the digest
    arrays compared in blocks, only the blocks that differ looked at id by id."""
    unvouched, differing = [], []
    seqs, vouched = slots.seqs, slots.digests
    n = max(len(seqs), len(present))
    block = 4096
    for a in range(0, n, block):
        b = min(a + block, n)
        if not a % (64 * block):  # scratch arrays: what was read is handed back as the comparison goes
            release(seqs, vouched, digests, present)
        if vouched[16 * a:16 * b] == digests[16 * a:16 * b] and (len(vouched) >= 16 * b) == (len(digests) >= 16 * b):
            continue
        for i in range(a, b):
            seq = seqs[i] if i < len(seqs) else 0
            exists = i < len(present) and present[i]
            if not seq:
                if exists and not incremental:
                    unvouched.append(str(i))
                continue
            mine = bytes(vouched[16 * i:16 * i + 16])
            if not exists:
                if mine != null_digest(str(i)):
                    differing.append((str(i), seq))
            elif mine != bytes(digests[16 * i:16 * i + 16]):
                differing.append((str(i), seq))
    differing.extend(_differing_sparse(slots.sparse or {}, other))
    for sid, (seq, mine) in slots.other.items():
        got = other.get(sid)
        if (got is None and mine != null_digest(sid)) or (got is not None and got != mine):
            differing.append((sid, seq))
    if not incremental:
        unvouched.extend(sid for sid in other if sid not in slots.other)
    return unvouched, differing


def _differing_sparse(sparse: dict[int, tuple[int, bytes]], other: dict) -> list[tuple[str, int]]:
    """(id, seq) of the vouched states {id: (seq, digest)} of an incremental verification that differ from the
    rows' digests `other` (by id, or by id text): a row missing differs unless the state vouched is its absence."""
    if sparse and {i: v[1] for i, v in sparse.items()}.items() <= other.items():
        return []  # every touched row as vouched (the native scan keys by id): nothing to look at
    differing = []
    for i, (seq, mine) in sparse.items():
        got = other.get(i) or other.get(str(i))
        if (got is None and mine != null_digest(str(i))) or (got is not None and got != mine):
            differing.append((str(i), seq))
    return differing


def _check_states(session: Session, walk: _Walk, report: VerifyReport, incremental: bool, tell: Progress,
                  tables: dict | None = None, touched: dict[str, list[tuple[str, int]]] | None = None) -> Iterator[Problem]:
    """Each subject table in one ordered scan against the latest vouched digests; the subjects that differ are
    read again to name the fields. tables: digests already computed (`table_digests`'s, by table); touched: tables
    already compared (`_touched_rows`'s differing states)."""
    for name, kind in sorted(SUBJECT_TYPES.items()):
        slots = walk.slots.get(name) or Slots()
        vouched = len(slots)
        report.subjects += vouched
        if incremental and not vouched:
            continue
        if touched is not None and name in touched:
            unvouched, differing = [], touched[name]
        else:
            if tables is not None and name in tables:
                digests, present, other = tables[name]
            elif incremental:
                digests, present, other = table_digests(session, kind, slots.int_ids(), list(slots.other), tell, sparse=True)
            else:
                digests, present, other = table_digests(session, kind, tell=tell, cap=slots.cap)
            unvouched, differing = _compare(slots, digests, present, other, incremental)
            del digests, present, other
        for sid in sorted(unvouched, key=natural):
            yield Problem(None, f"{name} {sid} exists but no event vouches for it (inserted behind the platform's back)")
        for sid, seq in sorted(differing, key=lambda x: natural(x[0])):
            vouched_state = _vouched_state(session, name, sid, seq)
            current = plain(kind.snapshot(session, sid))
            if current != vouched_state:
                yield Problem(seq if seq > 0 else None, f"{name} {sid} differs from the state this event vouches for: "
                                                        f"{_diff(vouched_state, current)}")
        tell(f"states:{name}", vouched, vouched)


class _StatesHelper:
    """A second process, in the snapshot of the verifying session (PostgreSQL: pg_export_snapshot / SET TRANSACTION
    SNAPSHOT), that computes the subject tables' digests and runs the invariants while the chain is walked. The
    work is a list of jobs both processes take from one shared counter: the verifying process joins in once its
    walk is done, so neither waits while the other still has several jobs ahead."""

    def __init__(self, session: Session, invariants: bool, extra: list) -> None:
        import multiprocessing

        from sqlalchemy import text

        session.rollback()
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        #: the types' caps, read once in the shared snapshot: both processes keep the same ids in their arrays
        self.tops: dict[str, int] = {}
        self.caps = type_caps(session, self.tops)
        self.jobs = _jobs(self.caps, self.tops, [*INVARIANTS, *extra] if invariants else [])
        #: the digest arrays of the tables kept in scratch files, made before the fork: both processes map them
        self.into = {name: (scratch(16 * size), scratch(size)) for name, size in self.tops.items()
                     if size >= SCRATCH_FROM and size == self.caps[name]}
        url = session.get_bind().url.render_as_string(hide_password=False)
        ctx = multiprocessing.get_context("fork")
        self.counter = ctx.Value("i", 0)
        self.receive, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_states_worker, args=(url, snapshot, self.caps, self.jobs, self.counter, send,
                                                                 self.into), daemon=True)
        self.process.start()
        send.close()

    def finish(self, session: Session) -> tuple[dict, list[str]]:
        """The jobs still untaken, done here; then the other process's results: (digests by type, the invariants'
        messages in their registered order)."""
        import pickle

        done = _run_jobs(session, self.jobs, self.caps, self.counter, self.into)
        try:
            got = pickle.loads(self.receive.recv_bytes())
            if isinstance(got, BaseException):
                raise got
            for i, result in got.items():  # the tables' arrays follow, each received into its own buffer (no copy)
                if self.jobs[i][0] == "table" and result is not None:
                    sizes, other = result
                    if sizes is None:  # written into the shared scratch arrays
                        got[i] = (*self.into[self.jobs[i][1]], other)
                        continue
                    arrays = [bytearray(n) for n in sizes]
                    for array_ in arrays:
                        if array_:
                            self.receive.recv_bytes_into(array_)
                    got[i] = (*arrays, other)
        except EOFError:
            raise RuntimeError("the table-scanning process of ledger verify died") from None
        self.process.join()
        done.update(got)
        tables: dict[str, Any] = {}
        for i, job in enumerate(self.jobs):  # a table in parts: the shared arrays, the rows beyond them of every part
            if job[0] == "table" and done[i] is not None:
                if job[1] in tables and tables[job[1]][0] is done[i][0]:
                    tables[job[1]][2].update(done[i][2])
                else:
                    tables[job[1]] = done[i]
        messages = [msg for i, job in enumerate(self.jobs) if job[0] == "check" for msg in done[i]]
        return tables, messages

    def stop(self) -> None:
        self.process.kill()
        self.process.join()


#: ids per job of a table kept in scratch files: jobs small enough that neither process is left with a long one
#: while the other has nothing to do
PART = 1 << 18


def _jobs(caps: dict[str, int], tops: dict[str, int], checks: list) -> list[tuple]:
    """("table", type name, part or None) and ("check", invariant): the largest table first (the other process
    starts on it at once), then the invariants as registered (the largest first), then the other tables, largest
    first. A table kept in the shared scratch arrays (its size is its cap) goes in parts of PART ids."""
    tables = []
    for name in sorted(caps, key=lambda n: (-tops.get(n, 0), n)):
        size = tops.get(name, 0)
        if size >= SCRATCH_FROM and size == caps[name]:
            tables.append([("table", name, (a, min(a + PART, size) - 1)) for a in range(0, size, PART)])
        else:
            tables.append([("table", name, None)])
    groups = tables[:1] + [[("check", c) for c in checks]] + tables[1:]
    return [job for group in groups for job in group]


def _run_jobs(session: Session, jobs: list, caps: dict[str, int], counter, into: dict | None = None) -> dict[int, Any]:
    """Take jobs from the shared counter until none is left: {job index: digests or messages}."""
    done: dict[int, Any] = {}
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value += 1
        if i >= len(jobs):
            return done
        what, arg = jobs[i][:2]
        done[i] = (table_digests(session, SUBJECT_TYPES[arg], cap=caps[arg], into=(into or {}).get(arg), part=jobs[i][2])
                   if what == "table" else list(arg(session)))


def _states_worker(url: str, snapshot: str, caps: dict[str, int], jobs: list, counter, send, into: dict) -> None:
    """In the forked process: its own engine (the parent's connections are left alone), the parent's snapshot."""
    import pickle

    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    from ..infra.db import make_engine

    try:
        engine = make_engine(url, poolclass=NullPool)  # the platform's engine: binary rows for `driver_rows`
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            with Session(bind=conn) as session:
                out: Any = _run_jobs(session, jobs, caps, counter, into)
            conn.rollback()
    except BaseException as exc:  # noqa: BLE001 — handed to the parent, which raises it
        out = RuntimeError(f"ledger verify's table scan failed: {exc!r}")
    if isinstance(out, BaseException):
        send.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    else:  # the tables' digest arrays after the rest, as they are (pickling would copy them twice on each side)
        def shared(i: int) -> bool:
            return jobs[i][0] == "table" and jobs[i][1] in into and out[i][0] is into[jobs[i][1]][0]

        def arrays(i: int) -> bool:  # (a part that found nothing to do has no result)
            return jobs[i][0] == "table" and out[i] is not None and not shared(i)

        head = {i: (None if shared(i) else (len(r[0]), len(r[1])), r[2]) if jobs[i][0] == "table" and r is not None else r
                for i, r in out.items()}
        send.send_bytes(pickle.dumps(head, protocol=pickle.HIGHEST_PROTOCOL))
        for i, r in out.items():
            if arrays(i):
                for array_ in r[:2]:
                    if array_:
                        send.send_bytes(array_)
    send.close()


def _scan(session: Session, kind: SubjectType, int_ids: list[int] | None, other_ids: list[str] | None) -> Iterator[tuple[Any, Any]]:
    """(id, state) of the subjects of a type that exist: all of them (ids None) or those given."""
    if kind.snapshot_all is not None:
        if int_ids is None:
            yield from kind.snapshot_all(session)
            return
        if int_ids:
            yield from kind.snapshot_all(session, int_ids)
        ids: Iterable[str] = other_ids or []
    else:  # no bulk form: one query per subject
        ids = (str(i) for i in kind.all_ids(session)) if int_ids is None else [*map(str, int_ids), *(other_ids or [])]
    for sid in ids:
        state = kind.snapshot(session, sid)
        if state is not None:
            yield sid, state


def _vouched_state(session: Session, name: str, sid: str, seq: int) -> Any:
    """The state event `seq` (a negative seq: pending event -seq) vouches for subject `name` `sid`."""
    col = _events.c.seq if seq > 0 else _events.c.id
    row = session.execute(select(_events.c.subject_type, _events.c.subject_id, _events.c.payload_json)
                          .where(col == abs(seq))).one()
    payload = _loads(row.payload_json)
    if row.subject_type == name and row.subject_id == sid and "state" in payload:
        return payload["state"]
    return payload.get("states", {}).get(f"{name}:{sid}")


def replayed_states(session: Session, subject_type: str, upto_seq: int) -> dict[str, Any]:
    """The states the chain vouches for, for one subject type, as of event `upto_seq` (offline checks of
    an exported checkpoint, proofs)."""
    states: dict[str, Any] = {}
    prefix = subject_type + ":"
    for row in chain_rows(session):
        seq, stype, sid, payload_json = row[0], row[4], row[5], row[7]
        if seq > upto_seq:
            break
        if stype != subject_type and prefix not in payload_json:
            continue
        payload = _loads(payload_json)
        if stype == subject_type and "state" in payload:
            states[sid] = payload["state"]
        for key, state in payload.get("states", {}).items():
            name, _, other = key.partition(":")
            if name == subject_type:
                states[other] = state
    return states


def vouched(ev: Event) -> Iterator[tuple[str, str, Any]]:
    """(subject type, id, state) of every state an event vouches for: its subject's and the ones it touched."""
    payload = ev.payload
    if "state" in payload:
        yield ev.subject_type, ev.subject_id, payload["state"]
    for key, state in payload.get("states", {}).items():
        name, _, sid = key.partition(":")
        yield name, sid, state


def _diff(expected: Any, actual: Any) -> str:
    if expected is None or actual is None:
        return f"expected {'nothing' if expected is None else 'a row'}, found {'nothing' if actual is None else 'a row'}"
    keys = sorted(set(expected) | set(actual))
    return "; ".join(f"{k}: {expected.get(k)!r} -> {actual.get(k)!r}" for k in keys if expected.get(k) != actual.get(k))
