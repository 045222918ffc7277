"""Reads sent ahead: statements go to PostgreSQL before their rows are needed (the driver's pipeline mode), so the
database executes them and sends their rows while the caller works on the rows it has — without a thread (one
that waits for the network needs the GIL for every chunk it receives, which the caller's C walk holds).

Rows come as the driver's own tuples in PostgreSQL's binary format, as `db.driver_rows` gives them. Between the
first `send` and the end of the `with` block only the read-ahead uses the connection (it is the caller's
transaction's). The driver's errors come out as SQLAlchemy's (`DBAPIError`), as from any other statement.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import psycopg
from sqlalchemy.exc import DBAPIError


#: rows of the first page of `ReadAhead.pages` (measured: an incremental verification of 5,000 events, its first page
#: of 1,000 rows, was ~9 ms slower than with a first page of 250)
FIRST_PAGE = 250


class ReadAhead:
    """In a `with` block: the connection in pipeline mode; leaving it, the results not taken are received and
    dropped."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.driver = conn.connection.driver_connection  # psycopg's, in the SQLAlchemy connection's transaction
        self._pipeline = self.driver.pipeline()
        self._unwanted = False

    def __enter__(self) -> ReadAhead:
        self._pipeline.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._pipeline.__exit__(*exc)
        except psycopg.Error as err:
            if exc[0] is None and self._unwanted:  # a failure of a read nobody is waiting for: the transaction is
                return None                        # left failed, and the caller's answer stands
            raise driver_error(self.conn, err, "(pipeline sync)", None) from err

    def unwanted(self) -> None:
        """The results not taken yet are not wanted (the caller stops early): an error of theirs is not raised."""
        self._unwanted = True

    def send(self, sql: str, params: dict[str, Any]) -> Callable[[], list[tuple]]:
        """Send a statement; what it returns gives its rows (waiting for them if they have not come in yet)."""
        cursor = self.driver.cursor(binary=True)
        try:
            cursor.execute(sql, params)
        except psycopg.Error as err:
            raise driver_error(self.conn, err, sql, params) from err

        def rows() -> list[tuple]:
            try:
                return cursor.fetchall()
            except psycopg.Error as err:
                raise driver_error(self.conn, err, sql, params) from err
            finally:
                cursor.close()

        return rows

    def pages(self, sql: str, after: Any, page: int, params: dict[str, Any] | None = None) -> Iterator[list[tuple]]:
        """Keyset pages of `sql` (parameters `after`, `n` and `params`; the key its first column), each sent as soon
        as the one before it has come in. The first is of at most FIRST_PAGE rows: nothing is there to work on while
        it comes, so the sooner the better (the others come while the one before them is worked on)."""
        n = min(page, FIRST_PAGE)
        ahead: Callable[[], list[tuple]] | None = self.send(sql, {**(params or {}), "after": after, "n": n})
        while ahead is not None:
            rows = ahead()
            ahead = self.send(sql, {**(params or {}), "after": rows[-1][0], "n": page}) if len(rows) == n else None
            n = page
            yield rows


def driver_error(conn, err: psycopg.Error, sql: str, params: Any) -> DBAPIError:
    """The driver's error, from a statement sent past SQLAlchemy on its connection `conn`, as SQLAlchemy raises it
    for its own statements; a lost connection is invalidated."""
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    lost = dialect.is_disconnect(err, driver, None)
    if lost:
        conn.invalidate(err)
    return DBAPIError.instance(sql, params, err, psycopg.Error, connection_invalidated=lost, dialect=dialect)
