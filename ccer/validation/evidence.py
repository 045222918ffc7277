"""Evidence files behind an answer — the owner's answer to a VVB's finding (CNCA-CCER-01 §4.6: the owner answers
a CAR/CL with evidence) or to a published public comment — kept in the platform's one document store
(projects.models.Document: the bytes with their SHA-256, never changed) as kind "evidence", subject the finding or
the comment. The answering service stores the file in its own transaction (nothing half-written) and its event
touches the document, so the ledger vouches for the bytes.

Who may download (`require_readable`): a finding's evidence is between the parties of the validation or
verification — the owner's organisation, the VVB that raised the finding, and the registry; the rules publish the
reports, not the working papers (Measures Art. 12, 19 publish the design document and the accounting report), so
it is never public. A comment's answer is public with the comment (Registry Rules Art. 19 publish comments and
their handling), so its evidence is public once the comment is published."""
from __future__ import annotations

import hashlib
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.roles import Role
from ..infra import clock
from ..infra.actor import Actor
from ..infra.errors import NotFound, TooLarge, ValidationError
from ..projects.models import Comment, Document
from .models import Finding

KIND = "evidence"
#: the largest evidence file (a scanned report or a photo set in a PDF); the request limit (50 MiB) is above it
MAX_BYTES = 20 * 2**20
#: what evidence may be: documents, scans, photos, tables, text — by the file name's extension
MEDIA_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".csv": "text/csv", ".txt": "text/plain", ".zip": "application/zip"}


def checked(name: str, content: bytes, field: str = "evidence") -> tuple[str, str]:
    """(the plain file name, its media type), or the refusal naming the field."""
    plain = PureWindowsPath(PurePosixPath(name or "").name).name.strip()  # no folders from the browser's path
    ext = PurePosixPath(plain.lower()).suffix
    if not plain:
        raise ValidationError("the file has no name", field=field)
    if ext not in MEDIA_TYPES:
        raise ValidationError(f"{ext or 'no extension'} is not accepted; accepted: {', '.join(sorted(MEDIA_TYPES))}", field=field,
                              rule="evidence file types")
    if not content:
        raise ValidationError("the file is empty", field=field)
    if len(content) > MAX_BYTES:
        raise TooLarge(f"{len(content)} bytes; at most {MAX_BYTES}", field=field, rule="evidence file size")
    return plain[:200], MEDIA_TYPES[ext]


def store(session: Session, subject_type: str, subject_id: int, name: str, content: bytes) -> tuple[Document, str]:
    """Keep the file in the caller's transaction; (the document, the citation "name (SHA-256 …)" the answer records).
    The caller's event touches the document."""
    plain, media_type = checked(name, content)
    doc = Document(kind=KIND, subject_type=subject_type, subject_id=subject_id, sha256=hashlib.sha256(content).hexdigest(),
                   content=content, media_type=media_type, created_at=clock.now(session))
    session.add(doc)
    session.flush()
    return doc, f"{plain} (SHA-256 {doc.sha256})"


def of(session: Session, subject_type: str, subject_ids) -> dict[int, Document]:
    """The latest evidence document of each subject (without loading the bytes of the others)."""
    ids = sorted({int(i) for i in subject_ids})
    if not ids:
        return {}
    rows = session.execute(select(Document).where(Document.kind == KIND, Document.subject_type == subject_type,
                                                  Document.subject_id.in_(ids)).order_by(Document.id)).scalars()
    return {d.subject_id: d for d in rows}


def file_name(session: Session, doc: Document) -> str:
    """The name the answer cites (what the owner uploaded), for the download."""
    model = Finding if doc.subject_type == "finding" else Comment
    record = session.get(model, doc.subject_id)
    cited = (getattr(record, "evidence", None) or "") if record is not None else ""
    return cited.split(" (SHA-256 ")[0] or f"evidence-{doc.id}"


def readable(session: Session, actor: Actor, doc: Document) -> bool:
    from ..projects import comments

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
