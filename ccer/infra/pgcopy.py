"""A query's rows as PostgreSQL's `COPY (query) TO STDOUT (FORMAT BINARY)` sends them, in chunks of whole rows.

For the longest reads (the whole chain, issue #20): the server streams the rows without a statement per page, and
they arrive as bytes — no result set built by libpq, no Python object per value — for compiled code to read
(`ledger._core.walk_copy`); `row_at` reads one row in Python. The format (PostgreSQL's documentation, COPY, "Binary
Format"): a header, then each row as a 16-bit field count and each field as a 32-bit length (-1: NULL) and its
bytes, integers big-endian; then a trailer, the count -1. Text comes in the connection's encoding (`utf8`).

The rows are taken from libpq by a loop in C (`_core.copy_read`, through the functions of the libpq the driver
runs on: psycopg gives its connection's address for such use, `PGconn.pgconn_ptr`), ~1 MB per call; where that
libpq cannot be told apart (`_libpq`), through psycopg's `Copy`, one call per row.
"""
from __future__ import annotations

import ctypes
import functools
import os
from typing import Iterator

import psycopg
from psycopg import pq

from .ahead import driver_error

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
#: bytes per chunk (at least: a chunk ends with a whole row)
CHUNK = 1 << 20
_TRAILER = b"\xff\xff"


def utf8(conn) -> bool:
    """Whether a SQLAlchemy connection's text comes as valid UTF-8: the client's encoding and the server's (a
    SQL_ASCII server checks nothing it stores)."""
    info = conn.connection.driver_connection.info
    return info.encoding == "utf-8" and info.parameter_status("server_encoding") == "UTF8"


def copy_chunks(conn, sql: str, chunk: int | None = None) -> Iterator[tuple[bytes | bytearray, bool]]:
    """The rows of `sql` (compiled SQL without parameters) on a SQLAlchemy connection, in its transaction, as
    (chunk, ended): chunks of whole rows (header and trailer taken off) of at least `chunk` bytes (default CHUNK).
    Each is handed on once the next has come in, so that those handed on once the statement has ended are marked
    so — at least the last (empty only when there are no rows): the connection is free for other statements while
    they are worked on.
    Closing the generator early cancels the COPY (the transaction is then failed, as after any cancelled
    statement). The driver's errors come as SQLAlchemy's."""
    statement = f"COPY ({sql}) TO STDOUT (FORMAT BINARY)"
    reader = _native if _libpq() is not None else _by_row
    held: bytes | bytearray | None = None
    try:
        for data, ended in reader(conn.connection.driver_connection, statement, chunk or CHUNK):
            if data:
                if held is not None:
                    yield held, ended
                held = data
            if ended:
                yield (held if held is not None else b""), True
                return
    except psycopg.Error as err:
        raise driver_error(conn, err, statement, None) from err


def _native(driver: psycopg.Connection, statement: str, chunk: int) -> Iterator[tuple[bytes, bool]]:
    """The stream through `_core.copy_read`, on the driver's connection below psycopg (which tracks no state of
    its own for it: libpq's is the connection's)."""
    from ..ledger import _core  # (the platform's compiled module; infra holds no rule of the ledger's)

    get_copy_data, freemem = _libpq()
    pgconn = driver.pgconn
    if driver.info.transaction_status == pq.TransactionStatus.IDLE and not driver.autocommit:
        driver.execute("SELECT 1")  # psycopg begins the transaction the COPY is to run in (it sends BEGIN itself)
    pgconn.send_query(statement.encode())
    _result(pgconn, pq.ExecStatus.COPY_OUT)
    ended, header = False, True
    try:
        while not ended:
            data, status = _core.copy_read(pgconn.pgconn_ptr, get_copy_data, freemem,
                                          chunk + (len(SIGNATURE) + 8) * header)  # (the header on top of the first)
            if status == -2:
                raise psycopg.OperationalError(pgconn.get_error_message())
            ended = status == -1
            if ended:  # the statement's end read before its last rows are handed on (they may be the last wanted)
                _result(pgconn, pq.ExecStatus.COMMAND_OK)
            if header:
                data, header = _after_header(data), False
            yield data, ended
    finally:
        if not ended:  # left early (closed, or an error): the server is told to stop, the rest read and dropped
            _abandon(driver, get_copy_data, freemem)


def _abandon(driver: psycopg.Connection, get_copy_data: int, freemem: int) -> None:
    """A COPY left before its end: cancelled, what was still sent read and dropped, its results read — the
    transaction then failed, as after any cancelled statement. A connection that cannot be brought back so is
    closed (SQLAlchemy then drops it), never left in the middle of a COPY."""
    from ..ledger import _core

    pgconn = driver.pgconn
    try:
        if pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            driver.cancel_safe()
        while _core.copy_read(pgconn.pgconn_ptr, get_copy_data, freemem, CHUNK)[1] == 0:
            pass
        while pgconn.get_result() is not None:
            pass
    except BaseException:  # noqa: BLE001 — whatever stopped the reading (a lost connection, Ctrl-C): closed
        driver.close()
        raise


def _result(pgconn: pq.abc.PGconn, want: pq.ExecStatus) -> None:
    """The statement's next result, of status `want` (a COPY's start, its end), or its error raised; after the
    end, libpq's end of the results read."""
    res = pgconn.get_result()
    wanted = res is not None and res.status == want
    if want == pq.ExecStatus.COMMAND_OK or not wanted:  # the statement is over: its results read to their end
        while pgconn.get_result() is not None:
            pass
    if not wanted:
        sqlstate = res.error_field(pq.DiagnosticField.SQLSTATE) if res is not None else None
        message = res.error_message.decode(errors="replace") if res is not None else pgconn.get_error_message()
        raise (psycopg.errors.lookup(sqlstate.decode()) if sqlstate else psycopg.OperationalError)(message)


def _by_row(driver: psycopg.Connection, statement: str, chunk: int) -> Iterator[tuple[bytearray, bool]]:
    """The stream through psycopg's `Copy`, a row per call (its messages gathered into chunks). (psycopg holds the
    connection's lock for the whole COPY: the last chunk is handed on once it is out of it.)"""
    buf, header = bytearray(), True
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for data in copy:
            if header:
                data, header = _after_header(bytes(data)), False
            if data == _TRAILER:  # (the end: read on, to the statement's result)
                continue
            buf += data
            if len(buf) >= chunk:
                yield buf, False
                buf = bytearray()
    yield buf, True  # (the statement has ended: maybe nothing left)


@functools.cache
def _libpq() -> tuple[int, int] | None:
    """The addresses of PQgetCopyData and PQfreemem in the libpq this process has loaded (the driver's: psycopg
    loads one, bundled or the system's), or None when there is not exactly one (or no /proc, or no `_core`)."""
    try:
        from ..ledger import _core  # noqa: F401
        with open("/proc/self/maps") as maps:  # (the path: the sixth field of a mapping's line)
            paths = {fields[5].strip() for line in maps if "libpq" in line and len(fields := line.split(None, 5)) == 6}
    except (ImportError, OSError):
        return None
    libs = {p for p in paths if os.path.basename(p).startswith("libpq") and ".so" in os.path.basename(p)}
    if len(libs) != 1:
        return None
    try:
        lib = ctypes.CDLL(libs.pop(), mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # (the loaded one: nothing new is loaded)
        if lib.PQlibVersion() != pq.version():  # not the library psycopg reports running on
            return None
        return (ctypes.cast(lib.PQgetCopyData, ctypes.c_void_p).value, ctypes.cast(lib.PQfreemem, ctypes.c_void_p).value)
    except (OSError, AttributeError):
        return None


def _after_header(data: bytes) -> bytes:
    """What follows the header in the stream's first message (nothing when that is the trailer: no rows)."""
    if not data.startswith(SIGNATURE) or len(data) < 19:
        raise ValueError("not a binary COPY stream (its signature is missing)")
    extension = int.from_bytes(data[15:19], "big")
    rest = data[19 + extension:]
    return b"" if rest == _TRAILER else rest


def row_at(data, pos: int) -> tuple[list[bytes | None], int]:
    """The fields of the row at offset `pos` of a chunk (None for NULL), and the offset after it."""
    view = memoryview(data)
    count = int.from_bytes(view[pos:pos + 2], "big", signed=True)
    pos += 2
    fields: list[bytes | None] = []
    for _ in range(count):
        n = int.from_bytes(view[pos:pos + 4], "big", signed=True)
        pos += 4
        fields.append(None if n < 0 else bytes(view[pos:pos + n]))
        pos += max(n, 0)
    if count < 0 or pos > len(view):
        raise ValueError(f"binary COPY row at offset {pos} is cut short")
    return fields, pos
