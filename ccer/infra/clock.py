"""The platform's clock. Nothing calls datetime.now() directly: publicity windows last weeks, so the
demo and the tests move this clock instead. The offset is stored in the database so that every process
(CLI, server, workers) agrees on the platform time."""
from __future__ import annotations

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


def advance(session: Session, delta: timedelta) -> datetime:
    row = _setting(session)
    if row.frozen_at is not None:
        row.frozen_at = row.frozen_at + delta
    else:
        row.offset_seconds += int(delta.total_seconds())
    session.flush()
    return now(session)


def set_time(session: Session, instant: datetime, freeze: bool = False) -> datetime:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=CST)
    row = _setting(session)
    if freeze:
        row.frozen_at = instant
        row.offset_seconds = 0
    else:
        row.frozen_at = None
        row.offset_seconds = int((instant - _wall()).total_seconds())
    session.flush()
    return now(session)


def reset(session: Session) -> datetime:
    row = _setting(session)
    row.frozen_at = None
    row.offset_seconds = 0
    session.flush()
    return now(session)


#: the ledger's events table, read here by name only (infra imports no domain): when the latest event happened
_EVENTS = table("events", column("occurred_at", UTCDateTime()))
NO_REWIND = ("the platform clock never goes backwards once events exist: the ledger records them in time order and "
             "every deadline counts from them (ccer.infra.clock)")


def latest_event(session: Session) -> datetime | None:
    return session.execute(select(func.max(_EVENTS.c.occurred_at))).scalar()


def _forward_only(session: Session, target: datetime) -> None:
    """Refuse a move that puts the platform time before the current platform time, or before the latest event,
    once events exist."""
    last = latest_event(session)
    if last is None:
        return
    floor = max(now(session), last.astimezone(CST))
    if target < floor:
        raise ValidationError(f"{target.isoformat()} is before {floor.isoformat()}: {NO_REWIND}", field="clock", rule=NO_REWIND)


def move_to(session: Session, instant: datetime, freeze: bool = False) -> datetime:
    """`set_time` for the operator (`ccer clock set`, demos on a live database): forward only once events exist."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=CST)
    _forward_only(session, instant)
    return set_time(session, instant, freeze)


def move_by(session: Session, delta: timedelta) -> datetime:
    """`advance` for the operator: forward only once events exist (a negative delta is refused then)."""
    _forward_only(session, now(session) + delta)
    return advance(session, delta)


def local(instant: datetime) -> datetime:
    """A stored (UTC) instant as Beijing time, for display."""
    return instant.astimezone(CST)
