"""Engagements of VVBs, findings (CAR / CL / OBS) and commitments (CNCA-CCER-01:2023 §4–5; Measures Art. 13,
14, 18–21). The reports themselves are transitions of the project and monitoring-period workflows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..auth import policy
from ..auth.roles import Role
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, ValidationError
from ..infra.actor import Actor
from ..projects import comments
from ..projects import evidence as files
from ..projects.eligibility import vvb_problem
from ..projects.models import Project
from .models import Commitment, Engagement, Finding

ROLES = {"validation": "project", "verification": "monitoring_period"}
KINDS = {"CAR": "corrective action request (整改要求)", "CL": "clarification", "OBS": "observation (观察项)"}
#: findings that stop a positive conclusion until closed (CNCA-CCER-01 §4.7/§5.7: "all CARs closed")
BLOCKING = ("CAR", "CL")


def _project_of(record) -> Project:
    return record if isinstance(record, Project) else record.project


def _require_owner(actor: Actor, record) -> None:
    if actor.user_id is not None and actor.organisation_id != _project_of(record).owner_id:
        raise Forbidden("only the project owner may do this", field="actor", rule="Measures Art. 11")


# ---- engagements ----------------------------------------------------------------------------------------


@mutating
def engage(session: Session, actor: Actor, role: str, subject_id: int, vvb_id: int) -> Engagement:
    """The owner entrusts a VVB with validation (a project in draft) or verification (a period in draft)."""
    if role not in ROLES:
        raise ValidationError(f"one of {', '.join(ROLES)}", field="role")
    record = comments.subject(session, ROLES[role], subject_id)
    _require_owner(actor, record)
    if record.status != "draft":
        raise Conflict(f"the {ROLES[role]} is {record.status}; the body is engaged before publicity", field="status", rule="Measures Art. 12, 19")
    project = _project_of(record)
    problem = vvb_problem(session, vvb_id, project)
    if problem:
        raise ValidationError(problem[0], field="vvb_id", rule=problem[1])
    if role == "verification" and vvb_id == project.validator_id:
        raise ValidationError("the body that validated the project may not verify its reductions", field="vvb_id", rule="Measures Art. 18")
    e = Engagement(role=role, subject_type=ROLES[role], subject_id=subject_id, vvb_id=vvb_id, status="proposed",
                   proposed_at=clock.now(session))
    session.add(e)
    session.flush()
    ledger.record(session, actor, "engagement.proposed", "engagement", e.id)
    return e


@mutating
def decide_engagement(session: Session, actor: Actor, engagement_id: int, accept: bool) -> Engagement:
    """The VVB accepts (signs the contract) or declines (CNCA-CCER-01 §4.2)."""
    e = fetch(session, Engagement, engagement_id, "engagement", "engagement_id")
    policy.require(actor, "engagement.decide", e)
    if e.status != "proposed":
        raise Conflict(f"engagement {engagement_id} is already {e.status}", field="status")
    e.status, e.decided_at = ("accepted" if accept else "declined"), clock.now(session)
    record = comments.subject(session, e.subject_type, e.subject_id)
    touched = []
    if accept:
        if e.role == "validation":
            record.validator_id = e.vvb_id
        else:
            record.verifier_id = e.vvb_id
        touched = [(e.subject_type, record.id)]
    ledger.record(session, actor, f"engagement.{e.status}", "engagement", e.id, touches=touched)
    return e


def engaged_vvb(record) -> int | None:
    return record.validator_id if isinstance(record, Project) else record.verifier_id


# ---- findings ---------------------------------------------------------------------------------------------


@mutating
def raise_finding(session: Session, actor: Actor, subject_type: str, subject_id: int, kind: str, text: str) -> Finding:
    record = comments.subject(session, subject_type, subject_id)
    if kind not in KINDS:
        raise ValidationError(f"one of {', '.join(KINDS)}", field="kind", rule="CNCA-CCER-01 §4.6")
    if not (text or "").strip():
        raise ValidationError("say what must be corrected or clarified", field="text")
    f = Finding(subject_type=subject_type, subject_id=subject_id, vvb_id=engaged_vvb(record) or 0, kind=kind,
                text=text.strip(), raised_at=clock.now(session), status="open")
    policy.require(actor, "finding.raise", f)
    if record.status != "publicity":
        raise Conflict(f"the {subject_type} is {record.status}; findings are raised while it is validated or verified", field="status")
    session.add(f)
    session.flush()
    ledger.record(session, actor, "finding.raised", "finding", f.id)
    return f


def _finding(session: Session, finding_id: int) -> Finding:
    return fetch(session, Finding, finding_id, "finding", "finding_id")


@mutating
def answer_finding(session: Session, actor: Actor, finding_id: int, response: str, evidence: str | None = None,
                   evidence_file: tuple[str, bytes] | None = None) -> Finding:
    """The owner answers with evidence (CNCA-CCER-01 §4.6): a citation, or the file itself — (name, bytes), kept in
    the document store in this transaction (validation/evidence.py) and cited by name and SHA-256."""
    f = _finding(session, finding_id)
    _require_owner(actor, comments.subject(session, f.subject_type, f.subject_id))
    if f.status != "open":
        raise Conflict(f"finding {finding_id} is {f.status}", field="status")
    if not (response or "").strip():
        raise ValidationError("is required", field="response")
    touches = []
    if evidence_file is not None:
        doc, evidence = files.store(session, "finding", f.id, *evidence_file)
        touches.append(("document", doc.id))
    f.response, f.evidence, f.responded_at, f.status = response.strip(), evidence, clock.now(session), "answered"
    ledger.record(session, actor, "finding.answered", "finding", f.id, touches=touches)
    return f


@mutating
def close_finding(session: Session, actor: Actor, finding_id: int, accept: bool = True) -> Finding:
    """The VVB closes an answered finding, or sends it back open when the answer does not resolve it."""
    f = _finding(session, finding_id)
    policy.require(actor, "finding.raise", f)
    if f.status != "answered" and f.kind != "OBS":
        raise Conflict(f"finding {finding_id} is {f.status}; the owner answers before it is closed", field="status")
    f.status = "closed" if accept else "open"
    f.closed_at = clock.now(session) if accept else None
    ledger.record(session, actor, "finding.closed" if accept else "finding.reopened", "finding", f.id)
    return f


def findings_of(session: Session, subject_type: str, subject_id: int) -> list[Finding]:
    return list(session.execute(select(Finding).where(Finding.subject_type == subject_type, Finding.subject_id == subject_id)
                                .order_by(Finding.id)).scalars())


def unclosed(session: Session, subject_type: str, subject_id: int) -> list[Finding]:
    return [f for f in findings_of(session, subject_type, subject_id) if f.kind in BLOCKING and f.status != "closed"]


def owner_delay_days(session: Session, subject_type: str, subject_id: int, now: datetime) -> int:
    """Days the owner took to answer CARs and CLs: they do not count against the VVB's 100 days
    (CNCA-CCER-01 §4.3.3, §5.3.3: "excluding owner-caused delays"). Overlapping waits count once."""
    spans = sorted((f.raised_at, f.responded_at or now) for f in findings_of(session, subject_type, subject_id) if f.kind in BLOCKING)
    total, cur_start, cur_end = 0.0, None, None
    for a, b in spans:
        if cur_end is None or a > cur_end:
            if cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = a, b
        else:
            cur_end = max(cur_end, b)
    if cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return int(total // 86400)


# ---- commitments ------------------------------------------------------------------------------------------


def commit(session: Session, actor: Actor, kind: str, subject_type: str, subject_id: int, documents: list, text: str) -> Commitment:
    """Record a commitment over the exact documents (their SHA-256) it vouches for."""
    if actor.organisation_id is None:
        raise Forbidden("a commitment is signed by a user for an organisation", field="actor")
    c = Commitment(kind=kind, subject_type=subject_type, subject_id=subject_id, signer_user_id=actor.user_id,
                   organisation_id=actor.organisation_id, signed_at=clock.now(session),
                   documents_json=ledger.canonical([{"kind": d.kind, "document_id": d.id, "sha256": d.sha256} for d in documents]),
                   text=text)
    session.add(c)
    session.flush()
    ledger.record(session, actor, "commitment.signed", "commitment", c.id)
    return c


def commitments_of(session: Session, subject_type: str, subject_id: int, kind: str) -> list[Commitment]:
    return list(session.execute(select(Commitment).where(Commitment.subject_type == subject_type, Commitment.subject_id == subject_id,
                                                         Commitment.kind == kind).order_by(Commitment.id)).scalars())


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("engagement.decide", Role.VVB, when=lambda a, e: a.organisation_id == getattr(e, "vvb_id", None),
                 text="the engaged body itself", cites="CNCA-CCER-01 §4.2")
    policy.allow("finding.raise", Role.VVB, when=lambda a, f: a.organisation_id == getattr(f, "vvb_id", None),
                 text="the engaged body", cites="CNCA-CCER-01 §4.6, §5.6")
    ledger.register_fields("engagement", Engagement, ("role", "subject_type", "subject_id", "vvb_id", "status"))
    ledger.register_fields("finding", Finding, ("subject_type", "subject_id", "vvb_id", "kind", "text", "response", "evidence", "status"))
    ledger.register_fields("commitment", Commitment, ("kind", "subject_type", "subject_id", "signer_user_id", "organisation_id",
                                                      "documents_json", "text"))
