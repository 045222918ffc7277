"""Retirement certificates (注销证明, Registry Rules Art. 15): what they state, the PDF, and the public check
of a certificate against the ledger that its QR code leads to."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock, documents
from ..ledger import Event, plain as _plain
from .models import Retirement
from .purposes import PURPOSES
from .retirements import retirement_serials


def public_path(record: Retirement) -> str:
    return f"/registry/retirements/{record.number}"


def retirement_event(session: Session, record: Retirement) -> Event | None:
    return session.execute(select(Event).where(text(ledger.RETIREMENT_EVENTS), Event.subject_id == str(record.id),
                                               Event.action.in_(("ccer.retired", "ccer.force_cancelled")))).scalar_one_or_none()


def verify_retirement(session: Session, record: Retirement) -> dict:
    """Check one certificate against the ledger: its event is intact and linked to the one before it, the
    retirement on record is exactly what that event vouched for, and the retired serial ranges are the
    ones the event named. (`ccer ledger verify` checks the whole chain and every invariant.)"""
    problems = []
    ev = retirement_event(session, record)
    serials = retirement_serials(session, record)
    if ev is None:
        problems.append("no event on the ledger records this retirement")
    elif ev.seq is not None:  # sealed: check its place in the chain (a pending one is sealed within moments)
        if ev.compute_hash() != ev.hash:
            problems.append(f"event #{ev.seq} does not match its hash")
        if ev.seq > 1:
            prev = session.execute(select(Event.hash).where(Event.seq == ev.seq - 1)).scalar_one_or_none()
            if prev != ev.prev_hash:
                problems.append(f"event #{ev.seq} is not linked to event #{ev.seq - 1}")
    if ev is not None:
        payload = ev.payload
        current = _plain(ledger.SUBJECT_TYPES["retirement"].snapshot(session, str(record.id)))
        if payload.get("state") != current:
            problems.append("the retirement on record differs from what the ledger recorded")
        if payload.get("serials") != serials:
            problems.append("the retired serial ranges differ from the ones the ledger recorded")
    seq, head = ledger.head(session)
    return {"number": record.number, "ok": not problems, "problems": problems, "serials": serials,
            "event_seq": ev.seq if ev else None, "event_hash": ev.hash if ev else None, "head_seq": seq, "head_hash": head}


def certificate_context(session: Session, record: Retirement, public_url: str) -> dict:
    purpose = PURPOSES[record.purpose]
    url = public_url.rstrip("/") + public_path(record)
    check = verify_retirement(session, record)
    return {
        "r": record, "project": record.project, "holder": record.account.organisation, "purpose": purpose,
        "serials": check["serials"], "retired_at": clock.local(record.retired_at), "url": url,
        "qr": documents.qr_svg_data_uri(url), "check": check,
    }


def certificate_pdf(session: Session, record: Retirement, public_url: str, cache: Path | None = None) -> bytes:
    """The certificate as PDF; with `cache`, rendered once while its page (and the ledger head it names) is unchanged."""
    html = documents.render_html("documents/retirement_certificate.html", **certificate_context(session, record, public_url))
    return documents.to_pdf(html, cache=cache)
