"""Who may read an evidence file of the document store (projects/evidence.py). A finding's evidence is between the
parties of the validation or verification — the owner's organisation, the VVB that raised the finding, and the
registry; the rules publish the reports, not the working papers (Measures Art. 12, 19 publish the design document
and the accounting report), so it is never public. A comment's answer is public with the comment (Registry Rules
Art. 19 publish comments and their handling), so its evidence is public once the comment is published."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth.roles import Role
from ..infra.actor import Actor
from ..infra.errors import NotFound
from ..projects import comments
from ..projects.evidence import KIND, MEDIA_TYPES
from ..projects.models import Comment, Document
from .models import Finding


def file_name(session: Session, doc: Document) -> str:
    """The name the answer cites (what the owner uploaded), for the download."""
    record = session.get(Finding, doc.subject_id) if doc.subject_type == "finding" else None
    cited = (record.evidence or "").split(" (SHA-256 ")[0] if record is not None else ""
    ext = next((e for e, t in MEDIA_TYPES.items() if t == doc.media_type), "")
    return cited or f"evidence-{doc.id}{ext}"


def readable(session: Session, actor: Actor, doc: Document) -> bool:
    if doc.kind != KIND:
        return True  # the lifecycle's documents are published (projects/api.py)
    if doc.subject_type == "comment":
        c = session.get(Comment, doc.subject_id)
        return c is not None and c.status == "published"
    if doc.subject_type != "finding" or actor.user_id is None:
        return False
    if Role.REGISTRY_OPERATOR.value in actor.roles:
        return True
    f = session.get(Finding, doc.subject_id)
    if f is None:
        return False
    return actor.organisation_id in (f.vvb_id, comments.owner_id_of(comments.subject(session, f.subject_type, f.subject_id)))


def require_readable(session: Session, actor: Actor, doc: Document | None, document_id: int) -> Document:
    """The document, or 404 as if it did not exist (whether someone else's evidence exists is not disclosed)."""
    if doc is None or not readable(session, actor, doc):
        raise NotFound(f"no document {document_id}", field="document_id")
    return doc
