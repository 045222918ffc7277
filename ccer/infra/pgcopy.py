"""A query's rows as PostgreSQL's `COPY (query) TO STDOUT (FORMAT BINARY)` sends them, in chunks of whole rows.

For the longest reads (the whole chain, issue #20): the server streams the rows without a statement per page, and
they arrive as bytes — no result set built by libpq, no Python object per value — for compiled code to read
(`ledger._core.walk_copy`); `row_at` reads one row in Python. The format (PostgreSQL's documentation, COPY, "Binary
Format"): a header, then each row as a 16-bit field count and each field as a 32-bit length (-1: NULL) and its
bytes, integers big-endian; then a trailer, the count -1. Text comes in the connection's encoding (`utf8`).
"""
from __future__ import annotations

from typing import Iterator

import psycopg

from .ahead import driver_error

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
#: bytes per chunk (at least: a chunk ends with a whole row)
CHUNK = 1 << 20
_TRAILER = b"\xff\xff"


def utf8(conn) -> bool:
    """Whether a SQLAlchemy connection's text comes as UTF-8 (PostgreSQL then has checked it is valid UTF-8)."""
    return conn.connection.driver_connection.info.encoding == "utf-8"


def copy_chunks(conn, sql: str, chunk: int | None = None) -> Iterator[bytearray]:
    """The rows of `sql` (compiled SQL without parameters) on a SQLAlchemy connection, in its transaction, as
    chunks of whole rows (header and trailer taken off) of at least `chunk` bytes (default CHUNK) but the last. Closing the generator early cancels the COPY (the
    transaction is then failed, as after any cancelled statement). The driver's errors come as SQLAlchemy's."""
    statement = f"COPY ({sql}) TO STDOUT (FORMAT BINARY)"
    chunk = chunk or CHUNK
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            buf, header = bytearray(), True
            for data in copy:
                if header:
                    data, header = _after_header(bytes(data)), False
                if data == _TRAILER:  # (the end: read on, to the statement's result)
                    continue
                buf += data
                if len(buf) >= chunk:
                    yield buf
                    buf = bytearray()
            if buf:
                yield buf
    except psycopg.Error as err:
        raise driver_error(conn, err, statement, None) from err
    finally:
        cursor.close()


def _after_header(data: bytes) -> bytes:
    """What follows the header in the stream's first message."""
    if not data.startswith(SIGNATURE) or len(data) < 19:
        raise ValueError("not a binary COPY stream (its signature is missing)")
    extension = int.from_bytes(data[15:19], "big")
    return data[19 + extension:]


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
