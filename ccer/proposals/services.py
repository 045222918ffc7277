"""Methodology proposals' services: submission with the conformance report, consultation, decisions."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock, ledger
from ..auth import policy
from ..db import fetch, mutating
from ..errors import Conflict, ValidationError
from ..actor import Actor
from ..methodologies import conformance, registry
from ..projects.guards import COMMENTS_HANDLED, PUBLICITY_OVER, REASON
from ..workflow import Machine
from .models import MethodologyProposal

CONSULTATION_DAYS = 30
MAX_PACKAGE_BYTES = 5_000_000




def _is_author(actor: Actor, record) -> bool:
    return actor.organisation_id == getattr(record, "author_id", None)


def _open(session: Session, actor: Actor, m: MethodologyProposal, ctx: dict) -> None:
    today = clock.today(session)
    m.publicity_start, m.publicity_end = today, today + timedelta(days=CONSULTATION_DAYS)


def _decided(session: Session, actor: Actor, m: MethodologyProposal, ctx: dict) -> None:
    m.decided_at, m.reason = clock.now(session), (ctx.get("reason") or None)


def _activate(session: Session, actor: Actor, m: MethodologyProposal, ctx: dict) -> None:
    _decided(session, actor, m, ctx)
    target = registry.activated_dir() / m.code.replace("-", "_").lower()
    if target.exists():
        shutil.rmtree(target)
    _extract(m.package, target)
    for old in session.execute(select(MethodologyProposal).where(MethodologyProposal.status == "active",
                                                                 MethodologyProposal.id != m.id)).scalars():
        if old.base_code == m.base_code:
            old.status = "superseded"
            ledger.record(session, actor, "methodology_proposal.superseded", "methodology_proposal", old.id, {"by": m.code})
    registry.refresh()


PROPOSAL = Machine("methodology_proposal", states=("submitted", "consultation", "approved", "active", "rejected", "superseded"))
PROPOSAL.transition("consult", "submitted", "consultation", permission="methodology.decide", effect=_open, label="公开征求意见 open consultation")
PROPOSAL.transition("approve", "consultation", "approved", permission="methodology.decide", guards=[PUBLICITY_OVER, COMMENTS_HANDLED],
                    effect=_decided, label="批准 approve")
PROPOSAL.transition("activate", "approved", "active", permission="methodology.decide", effect=_activate, label="发布 activate this version")
PROPOSAL.transition("reject", ("submitted", "consultation"), "rejected", permission="methodology.decide", guards=[REASON], effect=_decided)


def _extract(package: bytes, target: Path) -> Path:
    """Unpack a module zip (its files at the top level, or inside one folder) into `target`."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        for n in names:
            if n.startswith("/") or ".." in Path(n).parts:
                raise ValidationError(f"unsafe path in the package: {n}", field="package")
        prefix = ""
        tops = {n.split("/", 1)[0] for n in names}
        if "__init__.py" not in names and len(tops) == 1:
            prefix = tops.pop() + "/"
        if prefix + "__init__.py" not in names:
            raise ValidationError("the package has no __init__.py (zip the module folder)", field="package")
        target.mkdir(parents=True, exist_ok=True)
        for n in names:
            if n.startswith(prefix):
                dest = target / n[len(prefix):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(zf.read(n))
    return target


@mutating
def submit(session: Session, actor: Actor, package: bytes) -> MethodologyProposal:
    """Submit a zipped module; it must pass `ccer methodology check` to be accepted."""
    policy.require(actor, "methodology.propose")
    if not package or len(package) > MAX_PACKAGE_BYTES:
        raise ValidationError(f"a zip of at most {MAX_PACKAGE_BYTES:,} bytes", field="package")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = registry.from_path(_extract(package, Path(tmp) / "module"))
            report = conformance.run(m)
    except zipfile.BadZipFile:
        raise ValidationError("not a zip file", field="package") from None
    if not report.ok:
        failed = "; ".join(f"{c.name}: {c.detail}" for c in report.checks if not c.ok)
        raise ValidationError(f"{report.code} does not pass the conformance suite: {failed}", field="package", rule="ccer methodology check")
    taken = session.execute(select(MethodologyProposal).where(MethodologyProposal.code == m.code,
                                                              MethodologyProposal.status.not_in(("rejected",)))).scalars().first()
    if taken is not None or m.code in registry.installed():
        raise Conflict(f"{m.code} is already {'installed' if taken is None else taken.status}; propose a new version", field="package")
    p = MethodologyProposal(code=m.code, name=m.name_zh, author_id=actor.organisation_id, status="submitted", package=package,
                            package_sha256=hashlib.sha256(package).hexdigest(),
                            conformance_json=json.dumps([c.__dict__ for c in report.checks], ensure_ascii=False),
                            created_at=clock.now(session))
    session.add(p)
    session.flush()
    ledger.record(session, actor, "methodology_proposal.submitted", "methodology_proposal", p.id)
    return p


@mutating
def fire(session: Session, actor: Actor, proposal_id: int, transition: str, **context) -> MethodologyProposal:
    p = fetch(session, MethodologyProposal, proposal_id, "methodology proposal", "proposal_id")
    return PROPOSAL.fire(session, actor, p, transition, context)


def superseded(session: Session, code: str) -> bool:
    """New projects use the active version; superseded ones stay with the projects registered under them."""
    return session.execute(select(MethodologyProposal.id).where(MethodologyProposal.code == code.strip().upper(),
                                                                MethodologyProposal.status == "superseded")).first() is not None


def zip_folder(folder: Path) -> bytes:
    """Zip a module folder the way `submit` expects (for the CLI and tests)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()
