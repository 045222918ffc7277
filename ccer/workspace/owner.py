"""Workspace pages of 项目业主 (project owner) (issue 16): my projects and their next step, a new project with the
design-document form generated from the methodology's declarations, the ex-ante estimate with its trace, engaging a
VVB, publicity, answering comments and findings, applying with the commitment letter. One service call per POST."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import Organisation
from ..infra.config import Limits
from ..infra.errors import DomainError, ValidationError
from ..methodologies import inputs
from ..methodologies import registry as methodologies
from ..projects import boundaries, boundary_jobs, comments, lifecycle, monitoring
from ..projects.models import Project
from ..requests import current_actor, db_session
from ..validation import services as vv
from ..validation.models import Engagement
from . import batches, boundary, labels
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt, evidence_of, finish, flash_outcome
from .panels import Item, Panel, provides
from .vv_forms import engage_vvb

ACTION = "workspace.owner"
#: the common project fields of every design document (lifecycle.create's keyword arguments)
COMMON = ("title", "methodology_code", "province", "construction_start", "project.crediting_start", "project.crediting_end")
#: kinds a single input box holds; the others (fuel maps, lists, strata) are typed as JSON
SCALAR = ("number", "choice", "date", "bool", "text")


def _mine(session, actor) -> list[Project]:
    return list(session.execute(select(Project).where(Project.owner_id == actor.organisation_id, Project.origin == "platform")
                                .order_by(Project.id.desc())).scalars())


def _own(session, project_id: int) -> Project:
    p = lifecycle.get(session, project_id)
    if not lifecycle.owns(current_actor(), p):
        abort(404)  # another owner's project does not exist for this user
    return p


def next_step(session, p: Project) -> str:
    """What the owner does next, in words."""
    if p.status == "draft":
        engagements = _engagements(session, p)
        if p.validator_id:
            return _("开始公示")
        if any(e.status == "proposed" for e in engagements):
            return _("等待审定与核查机构接受委托")
        return _("委托审定与核查机构")
    return {"publicity": _("回复公众意见和审定发现，等待审定报告"), "validated": _("附承诺书申请登记"),
            "applied": _("等待注册登记机构审核"), "returned": _("补充材料后重新申请"),
            "registered": _("已登记：提交监测数据")}.get(p.status, "—")


def _engagements(session, p: Project) -> list[Engagement]:
    return list(session.execute(select(Engagement).where(Engagement.subject_type == "project", Engagement.subject_id == p.id)
                                .order_by(Engagement.id)).scalars())


@provides("project_owner")
def panel(session, actor) -> Panel:
    out = Panel("project_owner", _("项目业主"))
    for p in _mine(session, actor):
        item = Item(p.title, url_for("workspace.owner_project", project_id=p.id), note=f"{labels.status(p.status)} · {next_step(session, p)}")
        (out.waiting if p.status in ("draft", "validated", "returned", "publicity") else out.owned).append(item)
    out.start.append(Item(_("新建项目"), url_for("workspace.owner_new")))
    return out


@bp.get("/owner/")
@pages_of(ACTION)
def owner_index():
    from ..issuance.accounts import account_of

    session, actor = db_session(), current_actor()
    projects = _mine(session, actor)
    return render_template("workspace/owner/index.html", projects=projects, steps={p.id: next_step(session, p) for p in projects},
                           account=account_of(session, actor.organisation_id))


@bp.post("/owner/account")
@pages_of(ACTION)
def owner_account():
    """Apply for the organisation's one registry account: registered reductions are issued into it (Registry Rules Art. 5–6)."""
    from ..issuance.accounts import apply_for_account

    flash_outcome(lambda: apply_for_account(db_session(), current_actor(), current_actor().organisation_id),
                  lambda a: _("已申请开立注册登记账户 %(number)s。", number=a.number))
    return redirect(url_for("workspace.owner_index"))


# ---- a new project: the design-document form --------------------------------------------------------------


def _declared(code: str | None):
    """(methodology, its project facts, its period parameters) — or Nones when no methodology is chosen yet."""
    if not code:
        return None, [], []
    try:
        m = methodologies.get(code)
    except DomainError:  # an unknown code: the form asks again
        return None, [], []
    return m, [f.describe() for f in m.project_facts], [p.describe() for p in m.params]


def _value(field: dict, raw: str):
    if field["kind"] in SCALAR:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise ValidationError("must be JSON, e.g. {\"natural_gas\": 12.5} or [1, 2]", field=field["name"]) from None


def _design(form, facts: list[dict], params: list[dict]) -> tuple[dict, list[dict]]:
    """The form's fields as lifecycle.create's facts and one design period (empty boxes are left out: the
    methodology applies its defaults and says which required values are missing)."""
    project = {k: form.get(f"project.{k}", "") for k in ("crediting_start", "crediting_end") if form.get(f"project.{k}")}
    period = {k: form.get(f"periods[0].{k}", "") for k in ("start", "end")}
    for group, prefix, out in ((facts, "project.", project), (params, "periods[0].", period)):
        for f in group:
            raw = form.get(prefix + f["symbol"], "").strip()
            if raw:
                out[f["symbol"]] = _value({**f, "name": prefix + f["symbol"]}, raw)
    return project, [period]


@bp.route("/owner/projects/new", methods=["GET", "POST"])
@pages_of(ACTION)
def owner_new():
    session, actor = db_session(), current_actor()
    form = request.form if request.method == "POST" else request.args
    code = form.get("methodology_code") or None
    m, facts, params = _declared(code)
    errors = Errors()
    if request.method == "POST" and m is not None:
        fields = set(COMMON) | {f"project.{f['symbol']}" for f in facts} | {f"periods[0].{p['symbol']}" for p in params} | \
            {"periods[0].start", "periods[0].end"}
        # the crediting period's requirement is lifecycle.create's (one rule); its error lands beside the field
        def create():
            project, periods = _design(form, facts, params)
            return lifecycle.create(session, actor, title=form.get("title", ""), methodology_code=code,
                                    province=form.get("province") or None, construction_start=form.get("construction_start"),
                                    facts=project, periods=periods)
        p = attempt(create, errors, fields)
        if p is not None:
            return redirect(url_for("workspace.owner_project", project_id=p.id))
    elif request.method == "POST":
        errors["methodology_code"] = _("请选择方法学")
    return render_template("workspace/owner/new.html", methodologies=sorted(methodologies.installed().values(), key=lambda x: x.code),
                           m=m, facts=facts, params=params, form=form, errors=errors,
                           scalar=SCALAR), (422 if errors else 200)


# ---- one project -----------------------------------------------------------------------------------------


def _page(p: Project, errors: Errors | None = None, status: int = 200):
    session, actor = db_session(), current_actor()
    view = lifecycle.public_view(session, p, actor)
    vvbs = [o for o in session.execute(select(Organisation).order_by(Organisation.name)).scalars() if "vvb" in o.role_names]
    return render_template("workspace/owner/project.html", p=p, view=view, estimate=json.loads(p.estimate_json or "{}"),
                           engagements=_engagements(session, p), vvbs=vvbs, vvb_names={o.id: o.name for o in vvbs},
                           comments=comments.of(session, "project", p.id), findings=vv.findings_of(session, "project", p.id),
                           next_step=next_step(session, p), form=request.form, errors=errors or Errors(),
                           commitment=lifecycle.OWNER_COMMITMENT, batches=batches.batches_of(session, p.id),
                           sink=p.methodology_code in boundaries.SINK_METHODOLOGIES, boundary=boundary.report_of(session, p.id),
                           rasters=boundary.reference_names()), status


def _after(p: Project, errors: Errors, done: str):
    return finish(p, errors, lambda e: _page(p, e, 422), done, url_for("workspace.owner_project", project_id=p.id))


@bp.get("/owner/projects/<int:project_id>")
@pages_of(ACTION)
def owner_project(project_id: int):
    return _page(_own(db_session(), project_id))


@bp.post("/owner/projects/<int:project_id>/engage")
@pages_of(ACTION)
def owner_engage(project_id: int):
    session, p = db_session(), _own(db_session(), project_id)
    errors = Errors()
    engage_vvb(session, "validation", p.id, errors)
    return _after(p, errors, _("已委托，等待对方接受。"))


#: the lifecycle moves an owner makes from this page
OWNER_MOVES = ("publicise", "withdraw", "apply", "reapply")


@bp.post("/owner/projects/<int:project_id>/fire/<transition>")
@pages_of(ACTION)
def owner_fire(project_id: int, transition: str):
    session, p = db_session(), _own(db_session(), project_id)
    if transition not in OWNER_MOVES:
        abort(404)
    errors = Errors()
    if transition in ("apply", "reapply") and request.form.get("commitment") != "yes":
        errors["commitment"] = _("申请登记须签署承诺书")  # Measures Art. 14
    else:
        attempt(lambda: lifecycle.fire(session, current_actor(), p.id, transition), errors, {"status"})
    return _after(p, errors, _("已完成：") + transition)


def _subject(subject_type: str, subject_id: int):
    """(record, page with errors, its URL) of something of mine that comments and findings are about."""
    if subject_type == "project":
        p = _own(db_session(), subject_id)
        return p, lambda errors: _page(p, errors, 422), url_for("workspace.owner_project", project_id=p.id)
    if subject_type == "monitoring_period":
        mp = batches._owned(subject_id)
        return mp, lambda errors: batches._page("owner", mp, errors, 422), url_for("workspace.owner_batch", batch_id=mp.id)
    abort(404)


def _answer(model, answered_id: int, answer, key: str, done: str):
    """The owner's answer to a comment or a finding (`model`) about a project or batch of mine, by the service
    `answer` with the response and its evidence file; an error goes beside that comment's or finding's own form (`key`)."""
    session = db_session()
    answered = session.get(model, answered_id)
    if answered is None:
        abort(404)
    record, page, url = _subject(answered.subject_type, answered.subject_id)
    errors = Errors()
    attempt(lambda: answer(session, current_actor(), answered_id, request.form.get("response", ""), evidence_file=evidence_of()),
            errors, {"response"})
    if errors:
        errors = Errors({key: errors.get("response") or "; ".join(errors.get("general", []))})
    return finish(record, errors, page, done, url)


@bp.post("/owner/comments/<int:comment_id>/respond")
@pages_of(ACTION)
def owner_respond(comment_id: int):
    from ..projects.models import Comment

    return _answer(Comment, comment_id, comments.respond, f"comment-{comment_id}", _("已答复公众意见。"))


@bp.post("/owner/findings/<int:finding_id>/answer")
@pages_of(ACTION)
def owner_answer(finding_id: int):
    from ..validation.models import Finding

    return _answer(Finding, finding_id, vv.answer_finding, f"finding-{finding_id}", _("已答复审定发现。"))


# ---- monitored data and the boundary of a sink project ---------------------------------------------------


@bp.post("/owner/projects/<int:project_id>/batches")
@pages_of("workspace.owner")
def owner_upload(project_id: int):
    """Monitored data as CSV/XLSX → a batch in draft (monitoring.create); a refusal names the row and column."""
    session, actor = db_session(), current_actor()
    p = _own(session, project_id)
    errors = Errors()
    upload = request.files.get("file")
    suffix = Path(upload.filename).suffix.lower() if upload is not None and upload.filename else ""
    if not suffix:
        errors["file"] = _("请选择 CSV 或 XLSX 文件")
    elif suffix not in batches.UPLOAD_TYPES:
        errors["file"] = _("文件类型不受支持：请上传 .csv 或 .xlsx")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"data{suffix}"
            upload.save(path)
            try:
                doc = inputs.load(path, limits=Limits.from_env(), field="file")
            except DomainError as err:
                errors.put(err)
                doc = None
        if doc is not None:
            mp = attempt(lambda: monitoring.create(session, actor, p.id, doc["periods"]), errors)
            if mp is not None:
                flash(_("已上传监测数据。"))
                return redirect(url_for("workspace.owner_batch", batch_id=mp.id))
    if errors:  # every refusal lands beside the upload field, with its row and column when it has one
        located = Errors()
        for field, message in list(errors.items()):
            if field == "general":
                continue
            at = batches.where_in_file(field)
            located["file"] = f"{at}: {message}" if at else (message if field in ("file", "") else f"{field}: {message}")
        for message in errors.get("general", []):
            located["file"] = message
        session.refresh(p)
        return _page(p, located, 422)
    return redirect(url_for("workspace.owner_project", project_id=p.id))


@bp.post("/owner/projects/<int:project_id>/boundary")
@pages_of("workspace.owner")
def owner_boundary(project_id: int):
    """The parcels uploaded and checked (boundaries.attach: one transaction; a refusal stores nothing)."""
    session, actor = db_session(), current_actor()
    p = _own(session, project_id)
    errors = Errors()
    upload = request.files.get("boundary")
    name = Path(upload.filename).name if upload is not None and upload.filename else ""
    names = request.form.getlist("landcover")
    if not name or name in (".", ".."):
        errors["boundary"] = _("请选择边界文件")
    elif Path(name).suffix.lower() not in boundary.BOUNDARY_TYPES:
        errors["boundary"] = _("文件类型不受支持：请上传 GeoJSON、KML、压缩的 Shapefile（.zip）或 GeoPackage")
    elif not names:
        errors["landcover"] = _("请选择基准年的参考土地覆盖数据")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            upload.save(path)
            id_field = request.form.get("id_field") or "parcel_id"
            if path.stat().st_size > boundary_jobs.job_threshold():  # a large file: checked by a job, with progress
                job = attempt(lambda: boundary_jobs.queue_check(
                    session, actor, p.id, path, names, instance=current_app.instance_path, id_field=id_field,
                    return_url=url_for("workspace.owner_project", project_id=p.id) + "#boundary"),
                    errors, {"boundary", "landcover", "status", "id_field"})
                if job is not None and not errors:
                    return redirect(url_for("jobs_pages.show", job_id=job.id))
            else:
                attempt(lambda: boundaries.attach(session, actor, p.id, path, boundaries.reference_rasters(names),
                                                  limits=Limits.from_env(), id_field=id_field),
                        errors, {"boundary", "landcover", "status", "id_field"})
    if errors:
        session.refresh(p)
        return _page(p, errors, 422)
    from flask import flash

    flash(_("已上传项目边界并完成地块检查。"))
    return redirect(url_for("workspace.owner_project", project_id=p.id) + "#boundary")


@bp.get("/owner/projects/<int:project_id>/boundary.geojson")
@pages_of("workspace.owner")
def owner_boundary_geojson(project_id: int):
    """The project's parcels (WGS 84) with what the check found on each, for the map."""
    session = db_session()
    p = _own(session, project_id)
    return Response(json.dumps(boundary.parcels_geojson(session, p.id), ensure_ascii=False), mimetype="application/geo+json")
