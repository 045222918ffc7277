"""Who may see a project or a reduction batch that is still a draft — the one rule every list and sub-resource
(API, pages, exports) applies (issue 15: no leaks).

A design document becomes public when it is publicised (Measures Art. 12) and a batch's accounting report
when it is (Art. 19). Before that a draft is its owner's: visible to the owner's organisation and to the
registry (which reviews everything, Art. 15, 22); a draft batch also to the VVB engaged to verify it (Art. 18–20).
Anyone else — another owner, another VVB, anonymous — is answered as if it did not exist (404).
"""
from __future__ import annotations

from sqlalchemy import and_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from ..auth import policy
from ..infra.actor import Actor
from ..infra.errors import NotFound
from .models import MonitoringPeriod, Project

DRAFT = "draft"


def _reviews(actor: Actor | None) -> bool:
    return actor is not None and policy.can(actor, "project.review")


def _org(actor: Actor | None) -> int | None:
    return None if actor is None else actor.organisation_id


def visible_to(actor: Actor | None) -> ColumnElement[bool]:
    """WHERE clause on Project: what `actor` may list. `None` is the public (anonymous, public lists)."""
    if _reviews(actor):
        return true()
    org = _org(actor)
    if org is None:
        return Project.status != DRAFT
    return or_(Project.status != DRAFT, Project.owner_id == org)


def batches_visible_to(actor: Actor | None) -> ColumnElement[bool]:
    """WHERE clause on MonitoringPeriod (joined to its Project): the batches `actor` may list."""
    if _reviews(actor):
        return true()
    org = _org(actor)
    public = and_(MonitoringPeriod.status != DRAFT, Project.status != DRAFT)
    if org is None:
        return public
    return or_(public, Project.owner_id == org,
               and_(MonitoringPeriod.verifier_id == org, Project.status != DRAFT))


def can_see(actor: Actor | None, record: Project | MonitoringPeriod) -> bool:
    """The same rule on one loaded record (a project or a batch)."""
    if _reviews(actor):
        return True
    org = _org(actor)
    project = record if isinstance(record, Project) else record.project
    if org is not None and project.owner_id == org:
        return True
    if project.status == DRAFT:
        return False
    if isinstance(record, MonitoringPeriod) and record.status == DRAFT:
        return org is not None and record.verifier_id == org
    return True


def require_visible(actor: Actor | None, record):
    """The record, or NotFound exactly as if it did not exist."""
    if not can_see(actor, record):
        if isinstance(record, Project):
            raise NotFound(f"no project {record.id}", field="project_id")
        raise NotFound(f"no monitoring period {record.id}", field="monitoring_period_id")
    return record


__all__ = ["visible_to", "batches_visible_to", "can_see", "require_visible"]
