"""Reference data the registry maintains: load a file (a new version of an edition, an event in the ledger), list and
show what is in force, install it in the tools that use it (grid factors, fuel defaults, the holiday calendar), and
recompute the working-day deadlines a newly loaded calendar year moves."""
from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from .. import ledger
from ..auth import policy
from ..infra import calendar, clock
from ..infra.actor import Actor
from ..infra.db import mutating
from ..infra.errors import Conflict, NotFound, ValidationError
from ..methodologies import fuels, grid
from . import datasets
from .models import ReferenceDataset

PACKAGED = grid.PACKAGED
LOAD = "reference.load"


# ---- load ----------------------------------------------------------------------------------------------------


@mutating
def load(session: Session, actor: Actor, text: str | bytes, filename: str | None = None, kind: str | None = None) -> ReferenceDataset:
    """Load a reference file as the next version of its (kind, edition); refused with the line and field of the
    first problem. A calendar year recomputes the open deadlines it moves (each an event)."""
    policy.require(actor, LOAD)
    ds = datasets.parse(text, kind)
    latest = _latest_row(session, ds.kind, ds.edition)
    if latest is not None and latest.sha256 == ds.sha256:
        raise Conflict(f"this file is already in force as {ds.kind} {ds.edition} version {latest.version}",
                       field="file", rule="reference data versions")
    raw = text if isinstance(text, str) else text.decode("utf-8-sig")
    row = ReferenceDataset(kind=ds.kind, edition=ds.edition, version=(latest.version + 1 if latest else 1), title=ds.title,
                           source=ds.source, published=ds.published, status=ds.status,
                           content_json=json.dumps({**ds.content, "extra": ds.extra}, ensure_ascii=False, sort_keys=True),
                           file_text=raw, sha256=ds.sha256, loaded_by_id=actor.user_id, loaded_by=actor.label,
                           loaded_at=clock.now(session))
    session.add(row)
    session.flush()
    ledger.record(session, actor, "reference.loaded", "reference_dataset", row.id,
                  {"kind": row.kind, "edition": row.edition, "version": row.version, "title": row.title, "status": row.status,
                   "published": row.published, "sha256": row.sha256, "filename": filename})
    sync(session, force=True)
    if ds.kind == "calendar":
        recompute_deadlines(session, actor, int(ds.edition))
    return row


# ---- what is in force ------------------------------------------------------------------------------------------


def _latest_row(session: Session, kind: str, edition: str) -> ReferenceDataset | None:
    return session.execute(select(ReferenceDataset).where(ReferenceDataset.kind == kind, ReferenceDataset.edition == edition)
                           .order_by(ReferenceDataset.version.desc()).limit(1)).scalar_one_or_none()


def in_force_rows(session: Session) -> list[ReferenceDataset]:
    """The latest version of every loaded (kind, edition)."""
    rows = session.execute(select(ReferenceDataset).order_by(ReferenceDataset.kind, ReferenceDataset.edition,
                                                             ReferenceDataset.version)).scalars().all()
    latest: dict[tuple[str, str], ReferenceDataset] = {}
    for r in rows:
        latest[(r.kind, r.edition)] = r
    return list(latest.values())


def _dataset(row: ReferenceDataset) -> datasets.Dataset:
    content = json.loads(row.content_json)
    extra = content.pop("extra", {})
    return datasets.Dataset(row.kind, row.edition, row.title, row.source, row.published, row.status, content, row.sha256, extra)


def _origin(row: ReferenceDataset) -> str:
    return f"loaded #{row.id} v{row.version} by {row.loaded_by} {clock.local(row.loaded_at):%Y-%m-%d %H:%M}"


def _year_calendar(row: ReferenceDataset) -> calendar.YearCalendar:
    c = json.loads(row.content_json)
    return calendar.YearCalendar(int(row.edition), frozenset(date.fromisoformat(d) for d in c["holidays"]),
                                 frozenset(date.fromisoformat(d) for d in c["workdays"]),
                                 f"{row.title} ({row.status}, {_origin(row)})")


#: databases known to have the table (checked once each)
_migrated: set[str] = set()
#: what the tools were last given: (database URL, [(id, sha256)…]); tools are process-wide, the database is not
_installed_from: tuple | None = None


#: seconds between two looks at a database's reference data by one process (before services and pages): loads made
#: through this process are installed at once (`force`); those of another process (the console) within this delay
SYNC_EVERY = 5.0
#: database URL → when this process last looked
_looked_at: dict[str, float] = {}


def forget() -> None:
    """Look again at the next call whatever the delay (a test's database was emptied under the tools)."""
    global _installed_from
    _looked_at.clear()
    _installed_from = None


def sync(session: Session, force: bool = False) -> None:
    """Install the loaded data sets of this database in the tools (grid factors, fuel defaults, calendar), when
    they differ from what is installed: one small query per SYNC_EVERY seconds and database, run before the
    outermost service (ccer.infra.db.BEFORE_SERVICE) and before pages, never one per call on a hot path."""
    global _installed_from
    url = str(session.get_bind().url)
    now = time.monotonic()
    if not force and now - _looked_at.get(url, -SYNC_EVERY) < SYNC_EVERY:
        return
    _looked_at[url] = now
    if url not in _migrated:  # a database not yet at this revision (being migrated, a scratch copy): nothing loaded
        if not inspect(session.connection()).has_table(ReferenceDataset.__tablename__):
            if _installed_from != (url, ()):
                _install([])
                _installed_from = (url, ())
            return
        _migrated.add(url)
    stamp = (url, tuple(session.execute(select(ReferenceDataset.id, ReferenceDataset.sha256).order_by(ReferenceDataset.id)).all()))
    if not force and stamp == _installed_from:
        return
    _install(in_force_rows(session))
    _installed_from = stamp


def _install(rows: list[ReferenceDataset]) -> None:
    grid.install([grid.from_dataset(_dataset(r), _origin(r)) for r in rows if r.kind == "grid-factors"])
    fuels.install([fuels.from_dataset(_dataset(r), _origin(r)) for r in rows if r.kind == "fuels"])
    calendar.install({int(r.edition): _year_calendar(r) for r in rows if r.kind == "calendar"})


def packaged() -> list[datasets.Dataset]:
    return [datasets.parse(p.read_bytes()) for p in sorted(PACKAGED.glob("*.csv"))]


def listing(session: Session, kind: str | None = None) -> list[dict]:
    """Every data set in force or replaced: packaged files, packaged calendar years, loaded versions."""
    if kind is not None and kind not in datasets.KINDS:
        raise ValidationError(f"{kind!r} is not one of {', '.join(datasets.KINDS)}", field="kind")
    rows = session.execute(select(ReferenceDataset).order_by(ReferenceDataset.kind, ReferenceDataset.edition,
                                                             ReferenceDataset.version)).scalars().all()
    current = {r.id for r in in_force_rows(session)}
    loaded_keys = {(r.kind, r.edition) for r in rows}
    out = []
    for ds in packaged():
        out.append({"kind": ds.kind, "edition": ds.edition, "version": 0, "title": ds.title, "status": ds.status,
                    "published": ds.published.isoformat(), "origin": "packaged", "sha256": ds.sha256,
                    "in_force": (ds.kind, ds.edition) not in loaded_keys, "loaded_by": None, "loaded_at": None})
    for year in sorted(calendar.PACKAGED_YEARS):
        out.append({"kind": "calendar", "edition": str(year), "version": 0, "title": f"{year} 国务院办公厅节假日安排通知",
                    "status": "VERIFIED", "published": None, "origin": "packaged (chinese-calendar)", "sha256": None,
                    "in_force": ("calendar", str(year)) not in loaded_keys, "loaded_by": None, "loaded_at": None})
    for r in rows:
        out.append({"kind": r.kind, "edition": r.edition, "version": r.version, "title": r.title, "status": r.status,
                    "published": r.published.isoformat(), "origin": "loaded", "sha256": r.sha256, "in_force": r.id in current,
                    "loaded_by": r.loaded_by, "loaded_at": clock.local(r.loaded_at).isoformat()})
    out.sort(key=lambda d: (d["kind"], d["edition"], d["version"]))
    return [d for d in out if kind is None or d["kind"] == kind]


def show(session: Session, kind: str, edition: str, version: int | None = None) -> dict:
    """One data set with its content: the version in force (or `version`), or the packaged one."""
    if kind not in datasets.KINDS:
        raise ValidationError(f"{kind!r} is not one of {', '.join(datasets.KINDS)}", field="kind")
    q = select(ReferenceDataset).where(ReferenceDataset.kind == kind, ReferenceDataset.edition == edition)
    row = (session.execute(q.where(ReferenceDataset.version == version)).scalar_one_or_none() if version
           else _latest_row(session, kind, edition))
    if row is not None:
        versions = session.execute(select(ReferenceDataset.version).where(ReferenceDataset.kind == kind,
                                                                          ReferenceDataset.edition == edition)).scalars().all()
        return {"kind": kind, "edition": edition, "version": row.version, "versions": sorted(versions), "title": row.title,
                "source": row.source, "published": row.published.isoformat(), "status": row.status, "origin": "loaded",
                "sha256": row.sha256, "loaded_by": row.loaded_by, "loaded_at": clock.local(row.loaded_at).isoformat(),
                "in_force": row.version == max(versions), "content": _dataset(row).content}
    if not version:
        for ds in packaged():
            if (ds.kind, ds.edition) == (kind, edition):
                return {"kind": kind, "edition": edition, "version": 0, "versions": [0], "title": ds.title, "source": ds.source,
                        "published": ds.published.isoformat(), "status": ds.status, "origin": "packaged",
                        "sha256": ds.sha256, "loaded_by": None, "loaded_at": None, "in_force": True, "content": ds.content}
        if kind == "calendar" and edition.isdigit() and int(edition) in calendar.PACKAGED_YEARS:
            return {"kind": kind, "edition": edition, "version": 0, "versions": [0], "origin": "packaged (chinese-calendar)",
                    "status": "VERIFIED", "in_force": True, "title": f"{edition} 国务院办公厅节假日安排通知",
                    "source": "chinese-calendar package", "content": {"year": int(edition)}}
    raise NotFound(f"no {kind} data set {edition}" + (f" version {version}" if version else ""), field="edition")


def offset_ratio(session: Session, on: date) -> tuple[Decimal, str]:
    """The share of the allowances to surrender that CCERs may offset on `on`, and its source (the loaded
    offset-ratio editions, else the packaged one: 5 % from 2021-02-01, 碳排放权交易管理办法（试行） Art. 29)."""
    rows = [r for r in in_force_rows(session) if r.kind == "offset-ratio"]
    sets = [(_dataset(r), _origin(r)) for r in rows] or [(ds, "packaged") for ds in packaged() if ds.kind == "offset-ratio"]
    best = None
    for ds, origin in sets:
        for start, ratio in ds.content["ratios"]:
            if date.fromisoformat(start) <= on and (best is None or start >= best[0]):
                best = (start, Decimal(ratio), f"{ds.title} ({ds.status}, {origin}), from {start}")
    if best is None:
        raise ValidationError(f"no offset ratio in force on {on}: load one with `ccer reference load FILE` (kind offset-ratio)",
                              field="offset_ratio", rule="national ETS offset ratio")
    return best[1], best[2]


# ---- deadlines a loaded calendar moves -----------------------------------------------------------------------


@mutating
def recompute_deadlines(session: Session, actor: Actor, year: int) -> int:
    """Recompute the open working-day deadlines whose period counts days of `year` (publicity ends, registry review
    dues), with the calendar now in force; each change is an event. Returns how many moved."""
    from ..issuance.models import Account
    from ..projects.lifecycle import PUBLICITY_WORKDAYS, REVIEW_WORKDAYS
    from ..projects.models import MonitoringPeriod, Project

    lo, hi = date(year, 1, 1), date(year, 12, 31)
    moved = 0
    plans = [(Project, "project", ("publicity",), "publicity_end", lambda r: r.publicity_start, PUBLICITY_WORKDAYS),
             (MonitoringPeriod, "monitoring_period", ("publicity",), "publicity_end", lambda r: r.publicity_start, PUBLICITY_WORKDAYS),
             (Project, "project", ("applied",), "review_due", lambda r: r.applied_at and clock.local(r.applied_at).date(), REVIEW_WORKDAYS),
             (MonitoringPeriod, "monitoring_period", ("applied",), "review_due",
              lambda r: r.applied_at and clock.local(r.applied_at).date(), REVIEW_WORKDAYS),
             (Account, "account", ("pending",), "review_due", lambda r: clock.local(r.applied_at).date(), REVIEW_WORKDAYS)]
    for model, subject, states, attr, start_of, n in plans:
        for r in session.execute(select(model).where(model.status.in_(states))).scalars():
            start, old = start_of(r), getattr(r, attr)
            if start is None or old is None or not (start <= hi and old >= lo):
                continue
            new = calendar.add_workdays(start, n)
            if new != old:
                setattr(r, attr, new)
                session.flush()
                ledger.record(session, actor, f"{subject}.deadline_recomputed", subject, r.id,
                              {"field": attr, "from": old, "to": new, "calendar": year,
                               "provisional": calendar.provisional_between(start, new)})
                moved += 1
    return moved


def count(session: Session) -> int:
    return session.execute(select(func.count(ReferenceDataset.id))).scalar_one()
