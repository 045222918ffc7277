"""Engine, sessions, the declarative base and the one-transaction-per-service rule."""
from __future__ import annotations

import functools
import itertools
import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .errors import NotFound

# Constraint names are fixed from the first migration on, so that later migrations can alter them
# by name on both SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the platform stores aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    elif url.startswith("postgresql"):
        kwargs.setdefault("use_native_hstore", False)  # no hstore columns: spare every process's first connection the lookup
    engine = create_engine(url, future=True, json_serializer=lambda o: json.dumps(o, ensure_ascii=False), **kwargs)
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "before_cursor_execute")
        def _binary_rows(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            # `driver_rows`: the driver's own tuples, read in PostgreSQL's binary format (cheaper to load than text)
            if context is not None and context.execution_options.get("ccer_binary"):
                cursor.format = 1  # psycopg.pq.Format.BINARY
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock up front so that
        # concurrent writers queue instead of failing on a lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False, future=True)
    event.listen(factory, "after_flush", _wrote)
    event.listen(factory, "after_transaction_end", _ended)
    return factory


def _wrote(session: Session, _flush_context) -> None:  # noqa: ANN001
    session.info["wrote"] = True


def _ended(session: Session, transaction) -> None:  # noqa: ANN001
    if transaction.parent is None:
        session.info.pop("wrote", None)


def only_read(session: Session) -> bool:
    """Nothing written or waiting to be written in the session's transaction, so ending it loses nothing."""
    return not (session.info.get("wrote") or session.new or session.dirty or session.deleted)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
    finally:
        session.close()


F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")


def fetch(session: Session, model: type[M], ident: Any, what: str, field: str, **options) -> M:
    """The row with this primary key, or NotFound naming the field ("no project 7"); options go to Session.get
    (with_for_update, populate_existing)."""
    row = session.get(model, ident, **options)
    if row is None:
        raise NotFound(f"no {what} {ident}", field=field)
    return row


#: PostgreSQL SQLSTATEs after which the whole transaction can simply be run again
RETRYABLE = {"40001": "serialization failure", "40P01": "deadlock detected"}
RETRIES = 5


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE


#: run after the outermost service has committed, each in a transaction of its own: (session) -> None
#: (events.py: a checkpoint when one is due, kept off the append path so no writer waits for it)
AFTER_COMMIT: list[Callable[[Session], None]] = []


#: run at the start of the outermost service, in its transaction: (session) -> None (ccer.reference: the
#: reference data loaded in this database installed in the tools the service uses — grid factors, calendar)
BEFORE_SERVICE: list[Callable[[Session], None]] = []


def after_commit(session: Session) -> None:
    for hook in AFTER_COMMIT:
        hook(session)


def mutating(fn: F) -> F:
    """A service that changes state: one transaction, committed when the outermost service returns,
    rolled back entirely if anything raises, so a failed call leaves nothing behind. A transaction that
    PostgreSQL aborts for a deadlock or serialization failure is rolled back and run again (up to 5 times).

    The first positional argument must be the Session."""

    @functools.wraps(fn)
    def wrapper(session: Session, *args, **kwargs):
        depth = session.info.get("service_depth", 0)
        attempt = 0
        while True:
            session.info["service_depth"] = depth + 1
            try:
                if depth == 0:
                    for hook in BEFORE_SERVICE:
                        hook(session)
                result = fn(session, *args, **kwargs)
                if depth == 0:
                    session.commit()
                    session.info["service_depth"] = depth
                    after_commit(session)
                return result
            except BaseException as exc:
                if depth == 0:
                    session.rollback()
                    session.info.pop("checkpoint_due", None)
                    if _retryable(exc) and attempt < RETRIES:
                        attempt += 1
                        continue
                raise
            finally:
                session.info["service_depth"] = depth

    return wrapper  # type: ignore[return-value]


def allocate_ids(session: Session, table, n: int) -> list[int]:
    """`n` fresh primary keys of `table`, taken from its sequence before the rows are written (PostgreSQL:
    nextval; SQLite, one writer at a time: after the highest id this transaction has seen or taken)."""
    if n <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                         "FROM generate_series(1, :n)"), {"n": n}).scalars())
    key = f"next_id:{table.name}"
    first = max(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1, session.info.get(key, 0))
    session.info[key] = first + n
    return list(range(first, first + n))


def insert_many(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows of one shape. PostgreSQL: COPY FROM STDIN on the session's own connection (inside its
    transaction) — one stream instead of a statement per row (the exchange's day of settlements writes hundreds
    of thousands); elsewhere an executemany. Values go in as the driver adapts them (no type decorators)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    session.flush()
    quote = session.get_bind().dialect.identifier_preparer.quote
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[c] for c in columns))



def driver_rows(conn, sql: str, params: dict) -> list[tuple]:
    """The rows of compiled SQL as the driver's own tuples: no SQLAlchemy result rows or processing (on
    PostgreSQL the columns read this way need none; instants come as the driver's aware datetimes)."""
    result = conn.exec_driver_sql(sql, params, execution_options={"ccer_binary": True})  # this statement only
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


_CURSORS = itertools.count(1)


def stream_rows(session: Session, stmt, page: int) -> Iterator[tuple]:
    """The rows of a Core select in its order, `page` at a time, holding one page. On PostgreSQL: the driver's own
    tuples from a cursor declared in the transaction (a SQLAlchemy row per row costs a third of a large scan) —
    so only for columns that need no result processing (integers, strings, booleans), and statements without
    expanding `IN` parameters (`ledger.select_among` gives arrays); elsewhere Core rows (yield_per)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield from conn.execute(stmt.execution_options(yield_per=page))
        return
    compiled = stmt.compile(dialect=conn.dialect)
    name = f"ccer_stream_{next(_CURSORS)}"
    conn.exec_driver_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {compiled}", compiled.params).close()
    done = False
    try:
        while rows := driver_rows(conn, f"FETCH FORWARD {int(page)} FROM {name}", {}):
            yield from rows
        done = True
    finally:  # closed when read to the end or left early; after an error the transaction is gone anyway
        if (done or sys.exc_info()[0] is GeneratorExit) and not conn.closed and conn.in_transaction():
            conn.exec_driver_sql(f"CLOSE {name}").close()
