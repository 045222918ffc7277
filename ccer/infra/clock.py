"""The platform's clock. Nothing calls datetime.now() directly: publicity windows last weeks, so the
demo and the tests move this clock instead. The offset is stored in the database so that every process
(CLI, server, workers) agrees on the platform time. Once the ledger holds an event, every move — set_time,
advance, reset — is forward only (NO_REWIND): a test or demo that needs an earlier date sets it first."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, column, func, select, table
from sqlalchemy.orm import Mapped, Session, mapped_column

from .config import TIME_ZONE
from .db import Base, UTCDateTime
from .errors import ValidationError

CST = ZoneInfo(TIME_ZONE)


class ClockSetting(Base):
    """One row: how far the platform clock is from the wall clock, or a frozen instant."""

    __tablename__ = "clock_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: seconds added to the wall clock
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: when set, the platform time stands still at this instant (tests, demos)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def _wall() -> datetime:
    return datetime.now(timezone.utc)  # the one sanctioned call: the wall clock


def _setting(session: Session) -> ClockSetting:
    session.info.pop("clock", None)  # about to change: forget this transaction's reading
    row = session.get(ClockSetting, 1)
    if row is None:
        row = ClockSetting(id=1, offset_seconds=0, frozen_at=None)
        session.add(row)
        session.flush()
    return row


def now(session: Session) -> datetime:
    """Platform time, aware, in Asia/Shanghai. The setting is read once per transaction (a service asks
    for the time several times; other processes' clock moves show from the next transaction on)."""
    tx = session.get_transaction()
    cached = session.info.get("clock")
    if cached is None or cached[0] is not tx or tx is None:
        row = session.execute(select(ClockSetting).where(ClockSetting.id == 1)).scalar_one_or_none()
        cached = (session.get_transaction(), None if row is None else (row.offset_seconds, row.frozen_at))
        session.info["clock"] = cached
    setting = cached[1]
    if setting is None:
        instant = _wall()
    elif setting[1] is not None:
        instant = setting[1]
    else:
        instant = _wall() + timedelta(seconds=setting[0])
    return instant.astimezone(CST)


def today(session: Session) -> date:
    return now(session).date()


#: the ledger's events table, read here by name only (infra imports no domain): when the latest event happened
_EVENTS = table("events", column("id", Integer()), column("occurred_at", UTCDateTime()))
#: events are written in clock order but numbered at insert, so concurrent writers may interleave by a little:
#: the latest instant is looked for among this many newest events (through the primary key, not a scan of the
#: whole ledger, which has no index on the instant)
_RECENT = 1000
NO_REWIND = ("the platform clock never goes backwards once events exist: the ledger records them in time order and "
             "every deadline counts from them (issue #18, ccer.infra.clock)")


def latest_event(session: Session) -> datetime | None:
    recent = select(_EVENTS.c.occurred_at).order_by(_EVENTS.c.id.desc()).limit(_RECENT).subquery()
    return session.execute(select(func.max(recent.c.occurred_at))).scalar()


def _forward_only(session: Session, target: datetime, current: datetime | None = None) -> None:
    """Refuse a move that puts the platform time before the current platform time (`current`, read once by the
    caller: a running clock moves between two readings) or before the latest event, once events exist. The same
    instant is not a move back. An empty ledger may be set anywhere: nothing has happened yet."""
    last = latest_event(session)
    if last is None:
        return
    floor = max(current or now(session), last.astimezone(CST))
    if target < floor:
        raise ValidationError(f"{target.astimezone(CST).isoformat()} is before {floor.isoformat()}, the platform time or the "
                              "latest event", field="clock", rule=NO_REWIND)


def advance(session: Session, delta: timedelta) -> datetime:
    """Move the platform clock by `delta`; a negative delta is refused once events exist (NO_REWIND)."""
    current = now(session)
    _forward_only(session, current + delta, current)
    row = _setting(session)
    if row.frozen_at is not None:
        row.frozen_at = row.frozen_at + delta
    else:
        row.offset_seconds += int(delta.total_seconds())
    session.flush()
    return now(session)


def set_time(session: Session, instant: datetime, freeze: bool = False) -> datetime:
    """Set the platform time (naive = Beijing time), standing still there if `freeze`; an instant before the
    platform time or the latest event is refused once events exist (NO_REWIND)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=CST)
    _forward_only(session, instant)
    row = _setting(session)
    if freeze:
        row.frozen_at = instant
        row.offset_seconds = 0
    else:
        row.frozen_at = None
        # whole seconds, rounded up: a running clock set just after the latest event must not land before it
        row.offset_seconds = math.ceil((instant - _wall()).total_seconds())
    session.flush()
    return now(session)


def freeze(session: Session) -> datetime:
    """Stand the clock still at the current platform time (a test that moves it only when told). Never a move
    back: set_time(now(session)) could be, on a running clock that ticked between the two readings."""
    instant = now(session)
    row = _setting(session)
    row.frozen_at = instant
    row.offset_seconds = 0
    session.flush()
    return now(session)


def reset(session: Session) -> datetime:
    """Back to the wall clock: refused, like any move, if the wall clock is behind the platform time or the
    latest event once events exist (NO_REWIND) — a demo or test that ran ahead stays ahead."""
    current = now(session)
    _forward_only(session, _wall(), current)
    row = _setting(session)
    row.frozen_at = None
    row.offset_seconds = 0
    session.flush()
    return now(session)


def local(instant: datetime) -> datetime:
    """A stored (UTC) instant as Beijing time, for display."""
    return instant.astimezone(CST)
