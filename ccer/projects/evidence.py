"""Evidence files behind an answer — the owner's answer to a VVB's finding (CNCA-CCER-01 §4.6: the owner answers
a CAR/CL with evidence) or to a published public comment — kept in the platform's one document store
(projects.models.Document: the bytes with their SHA-256, never changed) as kind "evidence", subject the finding or
the comment. The answering service stores the file in its own transaction (nothing half-written) and its event
touches the document, so the ledger vouches for the bytes.

Who may download is validation/evidence.py's (`require_readable`): a finding's evidence only the parties of the
validation or verification, a comment's evidence everyone once the comment is published."""
from __future__ import annotations

import hashlib
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..infra import clock
from ..infra.errors import TooLarge, ValidationError
from .models import Document

KIND = "evidence"
#: the largest evidence file (a scanned report or a photo set in a PDF); the request limit (50 MiB) is above it
MAX_BYTES = 20 * 2**20
#: what evidence may be: documents, scans, photos, tables, text — by the file name's extension. (Office files are
#: kept as octet-stream: documents.media_type holds 40 characters; they are downloaded as attachments anyway.)
MEDIA_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".docx": "application/octet-stream", ".xlsx": "application/octet-stream", ".csv": "text/csv",
               ".txt": "text/plain", ".zip": "application/zip"}


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
