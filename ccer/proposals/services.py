"""Methodology proposals' services: submission with the conformance report, consultation, decisions."""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import archives, clock
from ..auth import policy
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, ValidationError
from ..infra.actor import Actor
from ..infra.config import Limits
from ..methodologies import registry, sandbox
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


def _extract(package: bytes, target: Path, limits: Limits | None = None) -> Path:
    """Unpack a module zip (its files at the top level, or inside one folder) into `target`: the sizes and the
    number of its files are read from the central directory before anything is inflated (ccer.infra.archives)."""
    limits = limits or Limits.from_env()
    bounds = {"field": "package", "max_bytes": limits.archive_bytes, "max_members": limits.archive_members}
    infos = archives.vet(package, **bounds)
    names = [i.filename for i in infos if not i.is_dir()]
    for n in names:
        archives.safe_name(n, "package")
    prefix = ""
    tops = {n.split("/", 1)[0] for n in names}
    if "__init__.py" not in names and len(tops) == 1:
        prefix = tops.pop() + "/"
    if prefix + "__init__.py" not in names:
        raise ValidationError("the package has no __init__.py (zip the module folder)", field="package")
    target.mkdir(parents=True, exist_ok=True)
    archives.extract(package, target, strip=prefix, **bounds)
    return target


#: what a sandboxed report may say about the module (it is the module's own word: checked as untrusted data)
_CODE = re.compile(r"^CCER-\d{2}-\d{3}-V\d{2}$")


def conformance_report(package: bytes, limits: Limits | None = None) -> dict:
    """The conformance suite on a package, run in the sandbox (ccer.methodologies.sandbox): unpacked into a fresh
    temporary directory, checked in a separate process — its code never runs in this one."""
    limits = limits or Limits.from_env()
    with tempfile.TemporaryDirectory(prefix="ccer-proposal-") as tmp:
        folder = _extract(package, Path(tmp) / "module", limits)
        return sandbox.run(folder, limits)


def _text(value, limit: int) -> str:
    """A string from the sandbox's report, fit to store: no NUL, no lone surrogate, at most `limit` characters."""
    text = "" if value is None else str(value)
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


@mutating
def submit(session: Session, actor: Actor, package: bytes, limits: Limits | None = None) -> MethodologyProposal:
    """Submit a zipped module; it must pass `ccer methodology check`, run in the sandbox, to be accepted."""
    policy.require(actor, "methodology.propose")
    if not package or len(package) > MAX_PACKAGE_BYTES:
        raise ValidationError(f"a zip of at most {MAX_PACKAGE_BYTES:,} bytes", field="package")
    report = conformance_report(package, limits)
    if report.get("error"):
        raise ValidationError(f"the conformance suite could not check the package: {_text(report['error'], 2000)}", field="package",
                              rule=f"ccer methodology check, in the sandbox ({report['isolation']})")
    raw = report.get("checks") if isinstance(report.get("checks"), list) else []
    checks = [{"name": _text(c.get("name"), 500), "ok": c.get("ok") is True, "detail": _text(c.get("detail"), 2000)}
              for c in raw if isinstance(c, dict)]
    code, name = _text(report.get("code") or "?", 40), _text(report.get("name_zh"), 201)
    if report.get("ok") is not True or not checks or not all(c["ok"] for c in checks):
        failed = "; ".join(f"{c['name']}: {c['detail']}" for c in checks if not c["ok"])
        raise ValidationError(f"{code} does not pass the conformance suite: {failed[:4000] or 'no checks reported'}", field="package",
                              rule="ccer methodology check")
    if not _CODE.match(code) or not name or len(name) > 200:
        raise ValidationError(f"the module declares code {code!r} and name {name[:40]!r}: a code CCER-NN-NNN-VNN and a "
                              "name of at most 200 characters", field="package", rule="ccer methodology check")
    taken = session.execute(select(MethodologyProposal).where(MethodologyProposal.code == code,
                                                              MethodologyProposal.status.not_in(("rejected",)))).scalars().first()
    if taken is not None or code in registry.installed():
        raise Conflict(f"{code} is already {'installed' if taken is None else taken.status}; propose a new version", field="package")
    checks.append({"name": f"sandbox: {report['isolation']}", "ok": True,
                   "detail": ", ".join(f"{k} {v:,}" for k, v in report["limits"].items())})
    p = MethodologyProposal(code=code, name=name, author_id=actor.organisation_id, status="submitted", package=package,
                            package_sha256=hashlib.sha256(package).hexdigest(),
                            conformance_json=json.dumps(checks, ensure_ascii=False), created_at=clock.now(session))
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
