"""Bulk certificates (issue 16 item 8): every retirement certificate of an account as one ZIP, made by a job so the
page shows progress instead of waiting for dozens of PDFs. Each PDF comes from the certificate cache, so a bundle
made twice renders nothing the second time while the ledger is unchanged."""
from __future__ import annotations

import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import jobs
from ..auth import policy
from ..infra import documents
from ..infra.actor import Actor
from . import certificates
from .accounts import get_account
from .models import Retirement

KIND = "certificates.bundle"


def request_bundle(session: Session, actor: Actor, account_ref: int | str, *, instance: Path, public_url: str) -> jobs.Job:
    """Who may read the account may have its certificates; the job is refused before it is queued otherwise."""
    account = get_account(session, account_ref)
    policy.require(actor, "registry.account.read", account)
    return jobs.enqueue(session, actor, KIND, {"account_id": account.id, "public_url": public_url}, instance=instance)


def _make_bundle(session: Session, job: jobs.Job, progress, folder: Path) -> dict:
    numbers = session.scalars(select(Retirement).where(Retirement.account_id == job.payload["account_id"])
                              .order_by(Retirement.id)).all()
    cache = documents.pdf_cache(folder.parent.parent)  # the job folder is <instance>/jobs/<id>
    out = folder / "certificates.zip"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:  # PDFs are compressed already
        for i, record in enumerate(numbers, 1):
            zf.writestr(f"{record.number}.pdf",
                        certificates.certificate_pdf(session, record, job.payload["public_url"], cache=cache))
            progress(i / max(len(numbers), 1), f"{i} / {len(numbers)}")
    job.artifact = out.name
    return {"certificates": len(numbers), "bytes": out.stat().st_size}


def wire() -> None:
    jobs.job_kind(KIND, _make_bundle)
