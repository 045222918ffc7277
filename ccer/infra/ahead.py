"""Reads sent ahead: statements go to PostgreSQL before their rows are needed (the driver's pipeline mode), so the
database executes them and sends their rows while the caller works on the rows it has — without a thread (one
that waits for the network needs the GIL for every chunk it receives, which the caller's C walk holds).

Rows come as the driver's own tuples in PostgreSQL's binary format, as `db.driver_rows` gives them. Between the
first `send` and `close` only the read-ahead uses the connection (it is the caller's transaction's).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator


class ReadAhead:
    """In a `with` block: the connection in pipeline mode; leaving it, the results not taken are received and
    dropped (after an error, the driver's pipeline decides what is raised)."""

    def __init__(self, conn) -> None:
        self.driver = conn.connection.driver_connection  # psycopg's, in the SQLAlchemy connection's transaction
        self._pipeline = self.driver.pipeline()

    def __enter__(self) -> ReadAhead:
        self._pipeline.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._pipeline.__exit__(*exc)

    def send(self, sql: str, params: dict[str, Any]) -> Callable[[], list[tuple]]:
        """Send a statement; what it returns gives its rows (waiting for them if they have not come in yet)."""
        cursor = self.driver.cursor(binary=True)
        cursor.execute(sql, params)

        def rows() -> list[tuple]:
            try:
                return cursor.fetchall()
            finally:
                cursor.close()

        return rows

    def pages(self, sql: str, after: Any, page: int, params: dict[str, Any] | None = None) -> Iterator[list[tuple]]:
        """Keyset pages of `sql` (parameters `after`, `n` and `params`; the key its first column), each sent as soon
        as the one before it has come in."""
        ahead: Callable[[], list[tuple]] | None = self.send(sql, {**(params or {}), "after": after, "n": page})
        while ahead is not None:
            rows = ahead()
            ahead = self.send(sql, {**(params or {}), "after": rows[-1][0], "n": page}) if len(rows) == page else None
            yield rows
