"""Public comments on documents in publicity (Measures Art. 12, 19): anyone may comment while the window is
open; the registry moderates (Registry Rules Art. 19: it may refuse unlawful content); the owner answers
each published comment, and the reports must say how each was handled."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, ValidationError
from ..infra.actor import Actor
from . import evidence
from .models import Comment, MonitoringPeriod, Project


SUBJECTS = {"project": Project, "monitoring_period": MonitoringPeriod}
#: the state in which each kind of record takes comments (its window: publicity_start–publicity_end)
OPEN_STATE = {"project": "publicity", "monitoring_period": "publicity", "methodology_proposal": "consultation"}
MAX_LENGTH = 5000


def comment_state(session: Session, cid: str) -> dict | None:
    c = session.get(Comment, int(cid))
    return None if c is None else {"subject": f"{c.subject_type}:{c.subject_id}", "author_name": c.author_name, "body": c.body,
                                   "status": c.status, "moderation_reason": c.moderation_reason, "response": c.response}


#: comment_state of every comment in one ordered scan (ledger verify)
comment_states = ledger.scan(
    [Comment.id, Comment.subject_type, Comment.subject_id, Comment.author_name, Comment.body, Comment.status,
     Comment.moderation_reason, Comment.response],
    lambda r: {"subject": f"{r.subject_type}:{r.subject_id}", "author_name": r.author_name, "body": r.body, "status": r.status,
               "moderation_reason": r.moderation_reason, "response": r.response})


def subject(session: Session, subject_type: str, subject_id: int):
    model = SUBJECTS.get(subject_type)
    if model is None:
        raise ValidationError(f"comments are on {' or '.join(SUBJECTS)}", field="subject_type")
    return fetch(session, model, subject_id, subject_type, "subject_id")


def owner_id_of(record) -> int:
    """Who answers the comments: the project's owner, or the methodology's author."""
    if isinstance(record, Project):
        return record.owner_id
    return record.project.owner_id if isinstance(record, MonitoringPeriod) else record.author_id


@mutating
def submit(session: Session, actor: Actor, subject_type: str, subject_id: int, author_name: str, body: str) -> Comment:
    policy.require(actor, "comment.submit")
    record = subject(session, subject_type, subject_id)
    today = clock.today(session)
    if record.status != OPEN_STATE[subject_type] or record.publicity_end is None or today > record.publicity_end:
        raise Conflict(f"the {subject_type} is not open for comments; they are taken while it is in {OPEN_STATE[subject_type]}",
                       field="subject_id", rule="Measures Art. 12, 19")
    if not (author_name or "").strip():
        raise ValidationError("give a name (it is published with the comment)", field="author_name")
    if not (body or "").strip() or len(body) > MAX_LENGTH:
        raise ValidationError(f"must be 1–{MAX_LENGTH} characters", field="body")
    c = Comment(subject_type=subject_type, subject_id=subject_id, author_name=author_name.strip()[:120], body=body.strip(),
                submitted_at=clock.now(session), status="pending")
    session.add(c)
    session.flush()
    ledger.record(session, actor, "comment.submitted", "comment", c.id)
    return c


@mutating
def moderate(session: Session, actor: Actor, comment_id: int, publish: bool, reason: str | None = None) -> Comment:
    policy.require(actor, "comment.moderate")
    c = fetch(session, Comment, comment_id, "comment", "comment_id")
    if c.status != "pending":
        raise Conflict(f"comment {comment_id} is already {c.status}", field="status")
    if not publish and not (reason or "").strip():
        raise ValidationError("say which rule the content breaks", field="reason", rule="Registry Rules Art. 19")
    c.status, c.moderation_reason = ("published" if publish else "refused"), reason
    ledger.record(session, actor, f"comment.{c.status}", "comment", c.id)
    return c


@mutating
def respond(session: Session, actor: Actor, comment_id: int, response: str, evidence_file: tuple[str, bytes] | None = None) -> Comment:
    """The owner's answer, optionally with an evidence file (name, bytes) kept in the document store in this
    transaction (projects/evidence.py) — public with the answer."""
    c = fetch(session, Comment, comment_id, "comment", "comment_id")
    record = subject(session, c.subject_type, c.subject_id)
    if actor.user_id is not None and actor.organisation_id != owner_id_of(record):
        policy.require(actor, "comment.moderate")  # nobody but the owner (or the operator) answers
    if c.status != "published":
        raise Conflict(f"comment {comment_id} is {c.status}; only published comments are answered", field="status")
    if not (response or "").strip():
        raise ValidationError("is required", field="response")
    touches = [("document", evidence.store(session, "comment", c.id, *evidence_file)[0].id)] if evidence_file is not None else []
    c.response, c.responded_at = response.strip(), clock.now(session)
    ledger.record(session, actor, "comment.answered", "comment", c.id, touches=touches)
    return c


def of(session: Session, subject_type: str, subject_id: int, public_only: bool = False) -> list[Comment]:
    stmt = select(Comment).where(Comment.subject_type == subject_type, Comment.subject_id == subject_id).order_by(Comment.id)
    if public_only:
        stmt = stmt.where(Comment.status == "published")
    return list(session.execute(stmt).scalars())


def unhandled(session: Session, subject_type: str, subject_id: int) -> list[Comment]:
    """Comments still waiting for moderation, or published and not yet answered."""
    return [c for c in of(session, subject_type, subject_id)
            if c.status == "pending" or (c.status == "published" and not c.response)]


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("comment.submit", Role.PUBLIC, cites="Measures Art. 12, 19")
    policy.allow("comment.moderate", Role.REGISTRY_OPERATOR, cites="Registry Rules Art. 19")
    ledger.register_subject("comment", comment_state, lambda s: s.execute(select(Comment.id)).scalars(), snapshot_all=comment_states)
