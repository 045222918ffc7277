"""One project's public record: its facts, VVBs, reduction batches, documents (with their SHA-256), issuances
with their serial ranges, retirements, comments and findings, and the timeline of every event about it read
from the ledger — in a fixed number of statements whatever the project's size (no N+1)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session, aliased, joinedload

from ..auth.models import Organisation
from ..infra import calendar, clock
from ..infra.errors import NotFound, ValidationError
from ..issuance.models import Issuance, Retirement
from ..issuance.serials import format_serial
from ..ledger import RETIREMENT_EVENTS, Event
from ..projects import visibility
from ..projects.models import (
    Comment,
    Document,
    MonitoringPeriod,
    Project,
    ProjectParcel,
)
from ..validation.models import Engagement, Finding

#: the subjects of a project's life, as the events name them
PROJECT, BATCH = "project", "monitoring_period"


@dataclass
class ProjectRecord:
    project: Project
    validator: Organisation | None
    batches: list
    documents: list
    issuances: list
    retirements: list
    comments: list
    findings: list
    vvbs: list
    timeline: list
    windows: list
    has_boundary: bool
    issued: int = 0
    retired: int = 0
    extra: dict = field(default_factory=dict)


def public_project(session: Session, project_id: int) -> Project:
    """The project with its owner, or NotFound — a draft exactly as if it did not exist (visibility)."""
    return _public(session, project_id)[0]


def _public(session: Session, project_id: int) -> tuple[Project, Organisation | None, bool]:
    """The project with its owner, its validation body and whether it has stored parcels: one statement."""
    validator = aliased(Organisation)
    has_parcels = select(ProjectParcel.id).where(ProjectParcel.project_id == Project.id).exists()
    row = session.execute(select(Project, validator, has_parcels).options(joinedload(Project.owner))
                          .outerjoin(validator, validator.id == Project.validator_id)
                          .where(Project.id == project_id, visibility.visible_to(None))).first()
    if row is None:
        raise NotFound(f"no project {project_id}", field="project_id")
    return row[0], row[1], bool(row[2])


def _subject_is(kind: str, ids) -> object:
    """`subject_type = '<kind>' AND subject_id IN (…)` with the type written out, as the partial indexes'
    predicates need (PostgreSQL does not prove them from a bound parameter)."""
    return and_(text(f"events.subject_type = '{kind}'"), Event.subject_id.in_([str(i) for i in ids]))


def load(session: Session, project_id: int) -> ProjectRecord:
    """The whole public record of one project: 9 statements, 10 when it has a publicity window (the clock)."""
    p, validator, has_boundary = _public(session, project_id)
    batches = session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == p.id,
                                                             MonitoringPeriod.status != visibility.DRAFT)
                              .order_by(MonitoringPeriod.number)).scalars().all()
    batch_ids = [b.id for b in batches]
    subjects = or_(and_(Document.subject_type == PROJECT, Document.subject_id == p.id),
                   and_(Document.subject_type == BATCH, Document.subject_id.in_(batch_ids)))
    # the documents' columns, not their bytes
    documents = session.execute(select(Document.id, Document.kind, Document.subject_type, Document.subject_id, Document.sha256,
                                       Document.media_type, Document.created_at).where(subjects).order_by(Document.id)).all()
    issuances = session.execute(select(Issuance).where(Issuance.project_id == p.id)
                                .order_by(Issuance.batch, Issuance.vintage)).scalars().all()
    retirements = session.execute(select(Retirement).where(Retirement.project_id == p.id)
                                  .order_by(Retirement.id.desc())).scalars().all()
    on_it = lambda model: or_(and_(model.subject_type == PROJECT, model.subject_id == p.id),
                              and_(model.subject_type == BATCH, model.subject_id.in_(batch_ids)))
    comments = session.execute(select(Comment).where(on_it(Comment), Comment.status == "published")
                               .order_by(Comment.submitted_at)).scalars().all()
    findings = session.execute(select(Finding, Organisation.name).join(Organisation, Organisation.id == Finding.vvb_id)
                               .where(on_it(Finding)).order_by(Finding.raised_at)).all()
    vvbs = session.execute(select(Engagement, Organisation).join(Organisation, Organisation.id == Engagement.vvb_id)
                           .where(on_it(Engagement)).order_by(Engagement.proposed_at)).all()
    sector = p.sector
    issued_rows = [{"issuance": i, "serial": format_serial(sector, p.registry_no, i.vintage, i.batch, i.first, i.last)
                    if p.registry_no else None} for i in issuances]
    record = ProjectRecord(
        project=p, validator=validator, batches=batches, documents=documents, issuances=issued_rows, retirements=retirements,
        comments=comments, findings=findings, vvbs=vvbs, has_boundary=has_boundary,
        timeline=timeline(session, p, batch_ids, [c.id for c in comments], [f.id for f, _ in findings],
                          [e.id for e, _ in vvbs], [i.id for i in issuances], [r.id for r in retirements]),
        windows=windows(session, p, batches),
        issued=sum(i.quantity for i in issuances), retired=sum(r.quantity for r in retirements))
    return record


def timeline(session: Session, p: Project, batch_ids, comment_ids, finding_ids, engagement_ids, issuance_ids, retirement_ids) -> list:
    """Every sealed or pending event about the project, its batches, their published comments, findings,
    engagements, issuances and retirements, oldest first: one statement on the timeline index."""
    arms = [_subject_is(PROJECT, [p.id])]
    for kind, ids in (("monitoring_period", batch_ids), ("comment", comment_ids), ("finding", finding_ids),
                      ("engagement", engagement_ids), ("issuance", issuance_ids)):
        if ids:
            arms.append(_subject_is(kind, ids))
    if retirement_ids:
        arms.append(and_(text(RETIREMENT_EVENTS), Event.subject_id.in_([str(i) for i in retirement_ids])))
    rows = session.execute(select(Event.id, Event.seq, Event.occurred_at, Event.actor, Event.subject_type, Event.subject_id,
                                  Event.action, Event.hash).where(or_(*arms)).order_by(Event.id)).all()
    return [{"seq": r.seq, "at": clock.local(r.occurred_at), "actor": r.actor, "subject_type": r.subject_type,
             "subject_id": r.subject_id, "action": r.action, "hash": r.hash} for r in rows]


def windows(session: Session, p: Project, batches) -> list[dict]:
    """The publicity windows (Measures Art. 12, 19: 20 working days) of the project and its batches, with the
    working days left to comment when a window is open today."""
    spans = [(kind, number, start, end) for kind, number, start, end in
             [(PROJECT, None, p.publicity_start, p.publicity_end), *((BATCH, b.number, b.publicity_start, b.publicity_end) for b in batches)]
             if start and end]
    if not spans:
        return []
    today = clock.today(session)
    return [{"kind": kind, "number": number, "start": start, "end": end, **window_state(today, start, end)}
            for kind, number, start, end in spans]


def window_state(today: date, start: date, end: date) -> dict:
    """Open now (and the working days left, the closing day counted) or not."""
    is_open = start <= today <= end
    left = None
    if is_open:
        try:
            left = calendar.workdays_between(today, end) + (1 if calendar.is_workday(today) else 0)
        except ValidationError:  # a year the official holiday calendar does not cover yet: show the date only
            left = None
    return {"open": is_open, "workdays_left": left}
