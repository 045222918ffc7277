"""What an event vouches for: the subject types whose state the chain carries, and their Merkle roots.

Packages register their subjects (and invariants) from their own `__init__.py`; an event about a
registered subject carries the subject's state after the change, and `verify` compares the latest vouched
state of every subject with the tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import (BigInteger, Boolean, Enum, Integer, String, TypeDecorator, any_, bindparam, cast, func,
                        literal_column, select, union_all)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ..infra import merkle
from .codec import dumps, plain


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
    #: bulk form of `snapshot`: (session, ids=None) -> (id, state) of every existing subject (or of those of
    #: `ids`), in ascending id order, from one ordered scan of the table(s) — what `verify` compares the
    #: vouched states with. Optional: without it `verify` falls back to `snapshot` per id (slow).
    snapshot_all: Callable[..., Iterable[tuple[Any, dict]]] | None = None

    def kept_now(self, session: Session) -> dict[str, dict]:
        """The current states of the subjects the Merkle root keeps (`merkle`), by id."""
        if self.kept_all is not None:
            return self.kept_all(session)
        states = ((str(i), self.snapshot(session, str(i))) for i in self.all_ids(session))
        return {sid: st for sid, st in states if st is not None and self.merkle(plain(st))}


SUBJECT_TYPES: dict[str, SubjectType] = {}

#: checks `verify` runs after the chain and state comparison: (session) -> messages of what is wrong
INVARIANTS: list[Callable[[Session], Iterable[str]]] = []


class KeptWhen:
    """A Merkle predicate (docs/ledger-format.md §6): a state is kept as a leaf when it is an object whose member
    `field` is true. A declaration rather than a lambda, so that the compiled chain walk (`_core.c`) reads the
    same rule instead of restating it."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def __call__(self, state: Any) -> bool:
        return type(state) is dict and state.get(self.field) is True


def register_invariant(check: Callable[[Session], Iterable[str]]) -> None:
    if check not in INVARIANTS:
        INVARIANTS.append(check)


def register_subject(name: str, snapshot, all_ids, merkle=None, kept_all=None, snapshot_all=None) -> None:
    SUBJECT_TYPES[name] = SubjectType(name, snapshot, all_ids, merkle, kept_all, snapshot_all)


def register_fields(name: str, model, fields: tuple[str, ...], **kw) -> None:
    """A subject whose vouched state is a fixed set of its row's columns (the common case); its bulk
    snapshot is one ordered scan of those columns."""
    def snapshot(session: Session, sid: str) -> dict | None:
        row = session.get(model, int(sid))
        return None if row is None else {f: getattr(row, f) for f in fields}

    kw.setdefault("snapshot_all", fields_scan(model, fields))
    register_subject(name, snapshot, lambda session: session.execute(select(model.id)).scalars(), **kw)


#: rows a bulk snapshot fetches at a time (server-side cursor on PostgreSQL), and ids per IN list
SCAN_PAGE = 5000


#: a run of at least this many consecutive ids is read as a range (an index range scan is ~5 times cheaper than as
#: many probes of an array)
RUN = 64


def among_params(ids: Iterable[int]) -> dict[str, str]:
    """The parameters of `select_among` for `ids`: runs of at least RUN consecutive ids as ranges (their first and
    last ids), the others one by one, each list as one text parameter (psycopg would check every int of a list)."""
    ids = sorted(set(map(int, ids)))
    # runs of consecutive ids: [starts[k], starts[k + 1]) in `ids`
    starts = [0, *[k for k in range(1, len(ids)) if ids[k] != ids[k - 1] + 1], len(ids)]
    lo, hi, singles = [], [], []
    for a, b in zip(starts, starts[1:]):
        if b - a >= RUN:
            lo.append(ids[a])
            hi.append(ids[b - 1])
        else:
            singles.extend(ids[a:b])
    return {f"among_{name}": "{" + ",".join(map(str, values)) + "}"
            for name, values in (("lo", lo), ("hi", hi), ("singles", singles))}


def select_among(conn, columns: list, ids: Iterable[int], *where, ordered: bool = False):
    """`select(*columns).where(*where, columns[0] IN ids)` (integer ids), in id order when `ordered`. On PostgreSQL
    runs of consecutive ids are read as ranges (an incremental verification reads the ids of the last events:
    mostly new rows, one after another) and the rest by `= ANY(array)`, with the parameters `among_params` gives —
    so the statement has one shape whatever the ids: compiled once per process, planned as a prepared statement."""
    id_column = columns[0]
    if conn.dialect.name != "postgresql":
        stmt = select(*columns).where(*where, id_column.in_(list(ids)))
        return stmt.order_by(id_column) if ordered else stmt
    lists = {name: cast(bindparam(name, value, type_=String), ARRAY(BigInteger)) for name, value in among_params(ids).items()}
    runs = func.unnest(lists["among_lo"], lists["among_hi"]).table_valued("lo", "hi").render_derived()
    by_range = select(*columns).join_from(id_column.table, runs, id_column.between(runs.c.lo, runs.c.hi)).where(*where)
    stmt = union_all(select(*columns).where(*where, id_column == any_(lists["among_singles"])), by_range)  # disjoint
    return stmt.order_by(literal_column("1")) if ordered else stmt


def scan(columns: list, to_state: Callable[[Any], dict], *where) -> Callable[..., Iterator[tuple[int, dict]]]:
    """A bulk snapshot (`SubjectType.snapshot_all`) over one table: select `columns` (the first one the id) in
    id order, streamed, each row made a state by `to_state(row)`; with `ids`, only those."""
    id_column = columns[0]

    def snapshot_all(session: Session, ids: Iterable[int] | None = None) -> Iterator[tuple[int, dict]]:
        conn = session.connection()  # Core rows: no ORM machinery per row
        if ids is None:
            stmt = select(*columns).where(*where).order_by(id_column)
            for row in conn.execute(stmt.execution_options(yield_per=SCAN_PAGE)):
                yield row[0], to_state(row)
            return
        wanted = sorted(set(ids))
        for i in range(0, len(wanted), SCAN_PAGE):
            for row in conn.execute(select_among(conn, columns, wanted[i:i + SCAN_PAGE], *where, ordered=True)):
                yield row[0], to_state(row)

    return snapshot_all


class FieldsScan:
    """The bulk snapshot of a subject whose state is `fields` of its row (a `snapshot_all`), and what `verify`
    needs to read it faster: its columns and whether the database driver gives every one of them as a JSON value
    of its own (integers, strings, booleans: no result processing, no conversion before canonical JSON)."""

    def __init__(self, model, fields: tuple[str, ...]):
        self.fields = fields
        self.columns = [model.id, *(getattr(model, f) for f in fields)]
        self._scan = scan(self.columns, lambda row: dict(zip(fields, row[1:])))
        self.native = all(isinstance(c.type, (Integer, String, Boolean)) and not isinstance(c.type, (Enum, TypeDecorator))
                          for c in self.columns)
        #: keyset pages of the rows in id order, up to an id (bind parameters `after`, `n`, `last`)
        self.page = select(*self.columns).where(self.columns[0] > bindparam("after"), self.columns[0] <= bindparam("last", type_=BigInteger)) \
            .order_by(self.columns[0]).limit(bindparam("n"))

    def among_sql(self, conn) -> str:
        """The text of `select_among(conn, self.columns, ids)` on PostgreSQL, for the driver with `among_params(ids)`
        (an incremental verification's one statement per table: compiling it costs more than running it)."""
        quote = conn.dialect.identifier_preparer
        table = quote.format_table(self.columns[0].table)
        columns = ", ".join(f"{table}.{quote.quote(c.name)}" for c in self.columns)
        id_column = f"{table}.{quote.quote(self.columns[0].name)}"
        return (f"SELECT {columns} FROM {table} WHERE {id_column} = ANY(%(among_singles)s::bigint[]) UNION ALL "
                f"SELECT {columns} FROM {table} JOIN unnest(%(among_lo)s::bigint[], %(among_hi)s::bigint[]) AS runs(lo, hi) "
                f"ON {id_column} BETWEEN runs.lo AND runs.hi")

    def __call__(self, session: Session, ids: Iterable[int] | None = None) -> Iterator[tuple[int, dict]]:
        return self._scan(session, ids)


def fields_scan(model, fields: tuple[str, ...]) -> FieldsScan:
    """The bulk snapshot of a subject whose state is `fields` of its row."""
    return FieldsScan(model, fields)


def natural(s: str):
    """Ids in numeric order ("9" before "10") without parsing them."""
    return (len(s), s)


def merkle_leaves(kind: SubjectType, states: dict[str, Any]) -> list[str]:
    """The leaves of a subject type's Merkle tree: "id|canonical state" of the kept states, by id."""
    leaves = []
    for sid, st in sorted(states.items(), key=lambda kv: natural(kv[0])):
        p = None if st is None else plain(st)
        if p is not None and kind.merkle(p):
            leaves.append(f"{sid}|{dumps(p)}")
    return leaves


def merkle_roots(states_by_type: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: merkle.root(merkle_leaves(SUBJECT_TYPES[name], states)) for name, states in states_by_type.items()}


def root_now(session: Session, kind: SubjectType) -> str:
    """The Merkle root of a subject type's kept states as they are now."""
    return merkle.root(merkle_leaves(kind, kind.kept_now(session)))


def rooted_types() -> list[SubjectType]:
    return [k for k in SUBJECT_TYPES.values() if k.merkle is not None]
