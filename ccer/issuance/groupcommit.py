"""Group commit for the registry's fast path: the calls that threads of one process make at the same moment
go to PostgreSQL together, as one statement in one transaction (ccer_fast_batch,
migrations/sql/registry_fastpath_3.sql).

Why: a fast-path call costs little work but a whole transaction — a round trip, a commit, a turn at the
ledger head (ccer/events.py). Under load those fixed costs were most of an operation's price; a server's
threads (waitress) and the exchange's clients make many calls at once, and paying the fixed costs once per
group instead of once per call is what lets the registry keep up (bench/registry_tps.py). PostgreSQL's own
WAL group commit shares only the flush; this shares the round trip, the commit, the clock reading and the
chain head: the group's events are appended together after its last call, with one turn at the head.

How: leader and followers, as in a database's own group commit. A caller that finds a lane free runs at
once, taking along whatever calls are waiting (at most MAX_BATCH, its own first); a caller that finds every
lane busy waits, and is either carried by the next group or handed the lane to lead it. LANES groups run at
a time, each on its own autocommit connection (detached from the pool, like fastpath's connections, so
server threads cannot use up the pool their sessions draw from). Each call runs in a subtransaction, so one
call's decline or deadlock does not touch the others; every caller gets its own outcome (see the SQL file).
An error of the whole statement — the connection lost, the function missing — is every caller's error.
The price of sharing: a call that waits for a row lock holds up the calls grouped with it (the other lanes
go on), as a commit's fsync holds up the commits flushed with it.

With one caller at a time a group is that one call, so the single-threaded behaviour is the plain call.
"""
from __future__ import annotations

import json
import os
import threading
from collections import deque

import psycopg
from sqlalchemy.engine import Engine

#: groups in flight at once: one per core. More lanes make smaller groups, and every group pays the fixed
#: costs again (bench/registry_tps.py, 2 cores: 3 lanes used ~9 % more CPU per operation than 2, and 1 lane
#: left the second core idle while its commit reached the disk). Each is a connection beside the pool's,
#: hence the cap: a big machine runs several server processes, all within max_connections.
LANES = min(os.cpu_count() or 1, 8)
#: calls per group; each takes a subtransaction id, and PostgreSQL caches 64 per transaction before slowing
MAX_BATCH = 32


class Call:
    """One fast-path call: function name ("propose" or "confirm") and arguments; after the group ran,
    `outcome` (a dict, see registry_fastpath_3.sql) or `error` (an exception of the whole statement)."""

    __slots__ = ("fn", "args", "outcome", "error", "lead", "ready")

    def __init__(self, fn: str, args: dict) -> None:
        self.fn, self.args = fn, args
        self.outcome: dict | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.ready = threading.Event()


class GroupCommit:
    """The group-commit queue of one engine's database."""

    def __init__(self, engine: Engine, lanes: int | None = None, max_batch: int | None = None) -> None:
        self._engine = engine
        self._max = max_batch or MAX_BATCH
        self._lock = threading.Lock()
        self._waiting: deque[Call] = deque()
        self._free_lanes = lanes or LANES
        self._idle: list[psycopg.Connection] = []
        #: groups run and calls carried, for tests and the benchmark
        self.groups = self.calls = 0

    def run(self, fn: str, args: dict) -> Call:
        """Carry out one call with whatever calls other threads are making; returns it with its outcome."""
        call = Call(fn, args)
        with self._lock:
            lead = self._free_lanes > 0
            if lead:
                self._free_lanes -= 1
            else:
                self._waiting.append(call)
        if not lead:
            call.ready.wait()
            if not call.lead:
                return call
        self._lead(call)
        return call

    def _lead(self, own: Call) -> None:
        with self._lock:
            group = [own] + [self._waiting.popleft() for _ in range(min(len(self._waiting), self._max - 1))]
        try:
            self._execute(group)
        finally:
            with self._lock:
                successor = self._waiting.popleft() if self._waiting else None
                if successor is None:
                    self._free_lanes += 1
                else:
                    successor.lead = True
            for call in group[1:]:
                call.ready.set()
            if successor is not None:
                successor.ready.set()

    def _execute(self, group: list[Call]) -> None:
        conn = None
        try:
            conn = self._connection()
            answer = conn.execute("SELECT ccer_fast_batch(%s)",
                                  [json.dumps([{"fn": c.fn, "args": c.args} for c in group], ensure_ascii=False)]).fetchone()[0]
            outcomes = answer.get("outcomes") if isinstance(answer, dict) else None
            if not isinstance(outcomes, list) or len(outcomes) != len(group):
                raise RuntimeError(f"ccer_fast_batch answered {len(group)} calls with {answer!r}")
            sealed = answer["sealed"]  # the group's events went in at its end, chained then if the head was free
            for call, outcome in zip(group, outcomes):
                if "ok" in outcome:
                    outcome["ok"]["sealed"], sealed = sealed, None  # one caller looks after a checkpoint it passed
                call.outcome = outcome
        except BaseException as exc:  # the statement as a whole failed: each caller raises it
            for call in group:
                call.outcome, call.error = None, exc
            if conn is not None and (conn.closed or conn.broken):
                conn.close()
                conn = None
        finally:
            with self._lock:
                self.groups += 1
                self.calls += len(group)
                if conn is not None:
                    self._idle.append(conn)

    def _connection(self) -> psycopg.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        fairy = self._engine.raw_connection()
        conn = fairy.driver_connection
        fairy.detach()
        conn.autocommit = True
        return conn

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
