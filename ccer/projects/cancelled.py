"""A cancelled or revoked project can never come back as a new record: a new design document matching one on
(owner, location, methodology) is refused, so neither is undone by entering the same project again.

- cancelled (注销): never registered again (Measures Art. 16; ccer-rules.md §3.1);
- revoked (撤销, registration revoked for fraud, Measures Art. 43): entering the project again as a new record
  would undo the revocation. The owner's 3-year bar (eligibility.OWNER_FREE) ends, the revocation does not (the
  platform's reading: Art. 43 bars the owner for a time and revokes the registration without a term), so the
  same project is still refused after the bar; the owner's other projects are free again.
- refused (不予登记) is not matched: a refusal decides one application, and the owner may apply again with the
  shortcomings remedied; rejected (a negative validation) likewise.

Location: the province, narrowed by the boundary when both records carry one — power projects' corner
coordinates (centroids within 0.01°, about 1 km) or a sink's stored parcels (any overlap) — so an owner's other
site in the same province under the same methodology is not caught; without a boundary the province decides
(the conservative reading)."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Project, ProjectParcel

#: the statuses a project never comes back from, with the article that says so
NEVER_AGAIN = {"cancelled": "Measures Art. 16", "revoked": "Measures Art. 43"}
#: the rule of the guard that checks both
RULE = "Measures Art. 16, 43"

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
    """The cancelled or revoked project this one re-enters, if any."""
    candidates = session.execute(select(Project).where(
        Project.status.in_(tuple(NEVER_AGAIN)), Project.owner_id == project.owner_id,
        Project.methodology_code == project.methodology_code,
        Project.province.is_(None) if project.province is None else Project.province == project.province,
        Project.id != (project.id or 0)).order_by(Project.id)).scalars()
    return next((old for old in candidates if _same_site(session, project, old)), None)


def refusal(session: Session, project: Project) -> tuple[str, str] | None:
    """(why the project is refused, the article) when it re-enters a cancelled or revoked project, else None."""
    old = match(session, project)
    if old is None:
        return None
    why = {"cancelled": "a cancelled project is never registered again",
           "revoked": "a project whose registration was revoked for fraud is never registered again, after the owner's "
                      "3-year bar too"}[old.status]
    article = NEVER_AGAIN[old.status]
    return (f"matches {old.status} project #{old.id} {old.title!r} (same owner, location {old.province or '—'} and methodology "
            f"{old.methodology_code}): {why} ({article})"), article


def problem(session: Session, project: Project) -> str | None:
    found = refusal(session, project)
    return found and found[0]
