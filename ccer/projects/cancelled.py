"""A cancelled project can never be re-registered (Measures Art. 16; ccer-rules.md §3.1): a new design document
matching a cancelled project on (owner, location, methodology) is refused, so a cancellation is not undone by
entering the same project again as a new record.

Location: the province, narrowed by the boundary when both records carry one — power projects' corner
coordinates (centroids within 0.01°, about 1 km) or a sink's stored parcels (any overlap) — so an owner's other
site in the same province under the same methodology is not caught; without a boundary the province decides
(the conservative reading)."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Project, ProjectParcel

#: centroids of two corner lists closer than this (degrees, about 1 km) are the same site
SAME_SITE_DEGREES = 0.01


def _centroid(facts_json: str | None):
    corners = json.loads(facts_json or "{}").get("boundary_corners")
    if not corners:
        return None
    xs, ys = [float(c[0]) for c in corners], [float(c[1]) for c in corners]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def _parcels(session: Session, project_id: int):
    import shapely

    rows = session.execute(select(ProjectParcel.wkb).where(ProjectParcel.project_id == project_id)).scalars().all()
    return shapely.union_all(shapely.from_wkb(rows)) if rows else None


def _same_site(session: Session, new: Project, old: Project) -> bool:
    a, b = _centroid(new.facts_json), _centroid(old.facts_json)
    if a and b:
        return abs(a[0] - b[0]) < SAME_SITE_DEGREES and abs(a[1] - b[1]) < SAME_SITE_DEGREES
    if new.id is not None:
        pa, pb = _parcels(session, new.id), _parcels(session, old.id)
        if pa is not None and pb is not None:
            return bool(pa.intersects(pb) and pa.intersection(pb).area > 0)
    return True


def match(session: Session, project: Project) -> Project | None:
    """The cancelled project this one re-enters, if any."""
    candidates = session.execute(select(Project).where(
        Project.status == "cancelled", Project.owner_id == project.owner_id, Project.methodology_code == project.methodology_code,
        Project.province.is_(None) if project.province is None else Project.province == project.province,
        Project.id != (project.id or 0))).scalars()
    return next((old for old in candidates if _same_site(session, project, old)), None)


def problem(session: Session, project: Project) -> str | None:
    old = match(session, project)
    if old is None:
        return None
    return (f"matches cancelled project #{old.id} {old.title!r} (same owner, location {old.province or '—'} and methodology "
            f"{old.methodology_code}): a cancelled project is never registered again")
