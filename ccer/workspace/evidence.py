"""GET /workspace/evidence/<id> — an evidence file behind an owner's answer, for whoever the document store lets
read it (validation/evidence.py: the owner's organisation, the VVB that raised the finding, the registry); anyone
else gets 404, as if it did not exist. Pages link it through the `evidence_doc` template global."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response

from ..projects import evidence as store
from ..projects.models import Document
from ..requests import current_actor, db_session
from ..validation import evidence
from .access import pages_of
from .blueprint import bp

ACTION = "workspace.evidence"


@bp.app_template_global("evidence_doc")
def evidence_doc(finding) -> Document | None:
    """The stored file a finding's answer cites, if the answer came with one."""
    return store.of(db_session(), "finding", [finding.id]).get(finding.id) if finding.evidence else None


@bp.app_template_global("comment_evidence")
def comment_evidence(comment) -> Document | None:
    """The file the owner's answer to a public comment came with, if any."""
    return store.of(db_session(), "comment", [comment.id]).get(comment.id) if comment.response else None


@bp.get("/evidence/<int:document_id>")
@pages_of(ACTION)
def evidence_download(document_id: int):
    session = db_session()
    doc = evidence.require_readable(session, current_actor(), session.get(Document, document_id), document_id)
    name = evidence.file_name(session, doc)
    return Response(doc.content, mimetype=doc.media_type, headers={
        "X-SHA256": doc.sha256, "X-Content-Type-Options": "nosniff",
        # attachment: an uploaded file is never rendered in the platform's origin
        "Content-Disposition": f"attachment; filename=\"evidence-{doc.id}{_ext(name)}\"; filename*=UTF-8''{quote(name)}"})


def _ext(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:] if dot > 0 and name[dot:].isascii() else ""
