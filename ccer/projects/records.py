"""The documents of the lifecycle — design document, validation report, reduction accounting report,
verification report — generated from the structured data and the calculation trace as PDFs, stored with
their SHA-256 and never changed afterwards (a new version is a new document)."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock, documents
from .models import Document

TITLES = {
    "pdd": ("温室气体自愿减排项目设计文件", "Project design document"),
    "validation_report": ("审定报告", "Validation report"),
    "accounting_report": ("减排量核算报告", "Reduction accounting report"),
    "verification_report": ("核查报告", "Verification report"),
}


def document_state(session: Session, did: str) -> dict | None:
    d = session.get(Document, int(did))
    return None if d is None else {"kind": d.kind, "subject": f"{d.subject_type}:{d.subject_id}", "sha256": d.sha256}


#: document_state of every document in one ordered scan, without their contents (ledger verify)
document_states = ledger.scan([Document.id, Document.kind, Document.subject_type, Document.subject_id, Document.sha256],
                              lambda r: {"kind": r.kind, "subject": f"{r.subject_type}:{r.subject_id}", "sha256": r.sha256})


def check_contents(session: Session):
    """Invariant for `ccer ledger verify`: every stored document's bytes still hash to its recorded SHA-256
    (the hash the chain and the commitments vouch for)."""
    for did, sha, content in session.execute(select(Document.id, Document.sha256, Document.content)):
        if hashlib.sha256(content).hexdigest() != sha:
            yield f"document {did}: its content no longer matches SHA-256 {sha[:12]}… (altered after publication)"


def store(session: Session, actor, kind: str, subject_type: str, subject_id: int, content: bytes,
          media_type: str = "application/pdf") -> Document:
    doc = Document(kind=kind, subject_type=subject_type, subject_id=subject_id, sha256=hashlib.sha256(content).hexdigest(),
                   content=content, media_type=media_type, created_at=clock.now(session))
    session.add(doc)
    session.flush()
    ledger.record(session, actor, "document.published", subject_type, subject_id,
                  {"document_id": doc.id, "kind": kind, "sha256": doc.sha256}, touches=[("document", doc.id)])
    return doc


def latest(session: Session, kind: str, subject_type: str, subject_id: int) -> Document | None:
    return session.execute(select(Document).where(Document.kind == kind, Document.subject_type == subject_type,
                                                  Document.subject_id == subject_id).order_by(Document.id.desc())).scalars().first()


def render(session: Session, kind: str, number: str, sections: list[dict], calculation: dict | None = None,
           tables: list[dict] | None = None, commitment: str | None = None) -> bytes:
    """sections: [{"heading": …, "rows": [(label, value), …]}]; tables: [{"heading", "columns", "rows"}];
    calculation: a methodology Calculation.to_dict() whose totals and trace are printed."""
    zh, en = TITLES[kind]
    html = documents.render_html("documents/record.html", title_zh=zh, title_en=en, number=number, sections=sections,
                                 calculation=calculation, tables=tables or [], commitment=commitment,
                                 generated=clock.now(session).strftime("%Y-%m-%d %H:%M"))
    return documents.to_pdf(html)


def calculation_of(text: str | None) -> dict | None:
    return json.loads(text) if text else None


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_subject("document", document_state, lambda s: s.execute(select(Document.id)).scalars(), snapshot_all=document_states)
    ledger.register_invariant(check_contents)
