"""Workspace pages of methodology authors (issue 16, item 6): propose a module (a zip of the module folder), the
conformance results per check, the consultation's comments with the author's answers, and the versions of each
module.

The conformance suite runs in the sandbox during the submission itself (proposals.submit): a scaffold-sized module
takes about 0.3 s (measured), so the page calls it directly rather than through the job queue."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..methodologies import registry
from ..projects import comments
from ..projects.models import Comment
from ..proposals import services as proposals
from ..proposals.models import MethodologyProposal
from ..requests import current_actor, db_session
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt
from .panels import Item, Panel, provides

ACTION = "workspace.author"

#: a proposal's states (proposals.services.PROPOSAL)
PROPOSAL_STATUS = {"submitted": _l("已提交"), "consultation": _l("公开征求意见中"), "approved": _l("已批准"),
                   "active": _l("已发布"), "rejected": _l("未予批准"), "superseded": _l("已被新版本取代")}


def _mine(session, actor) -> list[MethodologyProposal]:
    stmt = select(MethodologyProposal).where(MethodologyProposal.author_id == actor.organisation_id).order_by(MethodologyProposal.id.desc())
    return list(session.execute(stmt).scalars())


def _versions(session, mine) -> dict[str, list[MethodologyProposal]]:
    """Every proposal of each module the author has proposed (code without its version), oldest first."""
    bases = sorted({p.base_code for p in mine})
    out: dict[str, list[MethodologyProposal]] = {b: [] for b in bases}
    if bases:
        rows = session.execute(select(MethodologyProposal).order_by(MethodologyProposal.code)).scalars()
        for p in rows:
            if p.base_code in out:
                out[p.base_code].append(p)
    return out


@provides("methodology_author")
def panel(session, actor) -> Panel:
    out = Panel("methodology_author", _("方法学编制"))
    for p in _mine(session, actor):
        pending = sum(1 for c in comments.of(session, "methodology_proposal", p.id) if c.status == "published" and not c.response)
        item = Item(f"{p.code} {p.name}", url_for("workspace.author_index") + f"#proposal-{p.id}",
                    deadline=p.publicity_end if p.status == "consultation" else None, note=str(PROPOSAL_STATUS.get(p.status, p.status)))
        (out.waiting if pending else out.owned).append(item)
    out.start.append(Item(_("提交方法学模块"), url_for("workspace.author_index") + "#propose"))
    return out


def _page(errors: Errors | None = None, status: int = 200):
    session, actor = db_session(), current_actor()
    mine = _mine(session, actor)
    rows = [{"p": p, "checks": json.loads(p.conformance_json or "[]"),
             "comments": comments.of(session, "methodology_proposal", p.id)} for p in mine]
    return render_template("workspace/author/index.html", rows=rows, versions=_versions(session, mine),
                           installed=set(registry.installed()), status_labels=PROPOSAL_STATUS, form=request.form,
                           errors=errors or Errors(), max_bytes=proposals.MAX_PACKAGE_BYTES), status


def _after(errors: Errors, done: str, anchor: str = ""):
    if errors:
        return _page(errors, 422)
    flash(done)
    return redirect(url_for("workspace.author_index") + anchor)


@bp.get("/author/")
@pages_of(ACTION)
def author_index():
    return _page()


@bp.post("/author/proposals")
@pages_of(ACTION)
def author_propose():
    """Submit a zipped module; the conformance suite runs in the sandbox and must pass for the proposal to be kept."""
    errors = Errors()
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        errors["package"] = _("请选择方法学模块的 zip 文件")
    elif not upload.filename.lower().endswith(".zip"):
        errors["package"] = _("只接受 zip 文件（压缩方法学模块文件夹）")
    else:
        # read one byte past the limit: a larger upload is refused by the service without reading it all
        package = upload.stream.read(proposals.MAX_PACKAGE_BYTES + 1)
        made = attempt(lambda: proposals.submit(db_session(), current_actor(), package), errors, {"package"})
        if made is not None:
            return _after(errors, _("已提交 %(code)s，一致性检查全部通过。", code=made.code), f"#proposal-{made.id}")
    return _after(errors, "")


@bp.post("/author/comments/<int:comment_id>/answer")
@pages_of(ACTION)
def author_answer(comment_id: int):
    """Answer a published consultation comment on one of this author's proposals (the service checks whose it is)."""
    session = db_session()
    c = session.get(Comment, comment_id)
    if c is None or c.subject_type != "methodology_proposal":
        abort(404)
    errors = Errors()
    attempt(lambda: comments.respond(session, current_actor(), comment_id, request.form.get("response", "")), errors, {"response", "status"})
    if errors:
        errors = Errors({f"comment-{comment_id}": "; ".join(v if isinstance(v, str) else "; ".join(v) for v in errors.values())})
    return _after(errors, _("已答复意见。"), f"#proposal-{c.subject_id}")
