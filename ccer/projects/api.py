"""REST resources of the lifecycle: projects and their transitions, publicity, comments, engagements,
findings, documents, monitoring periods (with CSV/XLSX upload of monitored data) and the registry's
checklists. Every write calls one service; refusals come back as the API's one error format."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from sqlalchemy import or_, select

from ..api.pagination import PageArgs, page_schema, paginate
from ..auth import policy
from ..infra.bounds import MAX_TONNES
from ..infra.errors import Forbidden, NotFound, ValidationError
from ..methodologies import inputs
from ..requests import current_actor, db_session, limit_comments
from ..validation import evidence
from ..validation import services as vv
from ..jobs.api import JobOut
from . import boundaries, boundary_jobs, comments, lifecycle, monitoring, visibility
from .models import Document, MonitoringPeriod, Project
from .schemas import (ProjectQuery, AnswerIn, ChecklistItem, CommentFilter, CommentIn, CommentOut, DecisionIn, DocumentOut,
                      EngagementIn, EngagementOut, FindingIn, FindingOut, ModerationIn, PeriodIn, PeriodOut,
                      ProjectIn, ProjectView, PublicityOut, ResponseIn, TransitionIn)

blp = Blueprint("lifecycle", __name__, url_prefix="/api/v1", description="Projects, publicity, comments, validation and verification, monitoring periods")


def _visible(record):
    """Drafts are the owner's (and the registry's, a draft batch also its engaged VVB's); everything else is
    public (Measures Art. 12, 15, 19) — one rule, ccer/projects/visibility.py."""
    return visibility.require_visible(current_actor(), record)


def _view(project: Project) -> dict:
    return lifecycle.public_view(db_session(), _visible(project), current_actor())


def _limits():
    """Bounded work per request: the app's limits (ccer.infra.config.Limits)."""
    return current_app.config["CCER_SETTINGS"].limits


def _context(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None}


# ---- projects ---------------------------------------------------------------------------------------------


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(ProjectQuery, location="query", unknown=RAISE)
    @blp.response(200, page_schema(ProjectView, "ProjectViewPage"))
    def get(self, page):
        """Projects beyond draft (public), plus the caller's own drafts; filtered by methodology, status, owner
        (organisation id) and province, each exact."""
        actor = current_actor()
        stmt = select(Project).where(visibility.visible_to(actor))
        for name, column in zip(ProjectQuery.FILTERS, (Project.methodology_code, Project.status, Project.owner_id, Project.province)):
            if page.get(name) is not None:
                stmt = stmt.where(column == page[name])
        out = paginate(db_session(), stmt, Project.id, page)
        out["items"] = [lifecycle.public_view(db_session(), p, actor) for p in out["items"]]
        return out

    @blp.arguments(ProjectIn)
    @blp.response(201, ProjectView)
    def post(self, data):
        """A design document in draft, with the methodology's ex-ante estimate."""
        session = db_session()
        p = lifecycle.create(session, current_actor(), **data)
        return _view(p)


@blp.route("/projects/<int:project_id>")
class ProjectOne(MethodView):
    @blp.response(200, ProjectView)
    def get(self, project_id):
        return _view(lifecycle.get(db_session(), project_id))


@blp.route("/projects/<int:project_id>/transitions/<name>")
class ProjectTransition(MethodView):
    @blp.arguments(TransitionIn)
    @blp.response(200, ProjectView)
    def post(self, data, project_id, name):
        """Fire a transition: publicise, withdraw, validate, reject, apply, return, reapply, register, refuse, cancel, revoke."""
        session = db_session()
        _visible(lifecycle.get(session, project_id))  # someone else's draft does not exist for the caller
        lifecycle.fire(session, current_actor(), project_id, name, **_context(data))
        return _view(lifecycle.get(session, project_id))


@blp.route("/projects/<int:project_id>/checklist")
class ProjectChecklist(MethodView):
    @blp.response(200, ChecklistItem(many=True))
    def get(self, project_id):
        """The registry's completeness and conformity checklist (Measures Art. 15)."""
        session = db_session()
        return lifecycle.checklist(session, _visible(lifecycle.get(session, project_id)))


@blp.route("/projects/<int:project_id>/documents")
class ProjectDocuments(MethodView):
    @blp.response(200, DocumentOut(many=True))
    def get(self, project_id):
        session = db_session()
        _visible(lifecycle.get(session, project_id))
        mps = select(MonitoringPeriod.id).where(MonitoringPeriod.project_id == project_id)
        return session.execute(select(Document).where(or_(
            (Document.subject_type == "project") & (Document.subject_id == project_id),
            (Document.subject_type == "monitoring_period") & Document.subject_id.in_(mps))).order_by(Document.id)).scalars().all()


@blp.route("/documents/<int:document_id>")
class DocumentOne(MethodView):
    @blp.response(200, description="the document (PDF); published documents are public")
    def get(self, document_id):
        session = db_session()
        doc = session.get(Document, document_id)
        if doc is None:
            raise NotFound(f"no document {document_id}", field="document_id")
        if doc.kind == "evidence":  # an answer's evidence file: only its parties (validation/evidence.py)
            evidence.require_readable(session, current_actor(), doc, document_id)
        return Response(doc.content, mimetype=doc.media_type, headers={"X-SHA256": doc.sha256,
                        "Content-Disposition": f'inline; filename="{doc.kind}-{doc.subject_id}-{doc.id}.pdf"'})


@blp.route("/publicity")
class Publicity(MethodView):
    @blp.response(200, PublicityOut(many=True))
    def get(self):
        """Design documents and accounting reports in publicity now, with their closing dates (public)."""
        session = db_session()
        out = [{"subject_type": "project", "subject_id": p.id, "title": p.title, "publicity_start": p.publicity_start,
                "publicity_end": p.publicity_end} for p in session.execute(select(Project).where(Project.status == "publicity")).scalars()]
        out += [{"subject_type": "monitoring_period", "subject_id": m.id, "title": f"{m.project.title} — 第{m.number}期 batch {m.number}",
                 "publicity_start": m.publicity_start, "publicity_end": m.publicity_end}
                for m in session.execute(select(MonitoringPeriod).where(MonitoringPeriod.status == "publicity")).scalars()]
        return out


# ---- comments ---------------------------------------------------------------------------------------------


@blp.route("/comments")
class Comments(MethodView):
    @blp.arguments(CommentFilter, location="query")
    @blp.response(200, CommentOut(many=True))
    def get(self, args):
        """Published comments with the owner's answers (public); the registry also sees pending and refused ones."""
        public_only = not policy.can(current_actor(), "comment.moderate")
        return comments.of(db_session(), args["subject_type"], args["subject_id"], public_only=public_only)

    @blp.arguments(CommentIn)
    @blp.response(201, CommentOut)
    @limit_comments
    def post(self, data):
        """Comment on a document in publicity (anyone, no account needed)."""
        return comments.submit(db_session(), current_actor(), **data)


@blp.route("/comments/<int:comment_id>/moderation")
class CommentModeration(MethodView):
    @blp.arguments(ModerationIn)
    @blp.response(200, CommentOut)
    def post(self, data, comment_id):
        return comments.moderate(db_session(), current_actor(), comment_id, data["publish"], data["reason"])


@blp.route("/comments/<int:comment_id>/response")
class CommentResponse(MethodView):
    @blp.arguments(ResponseIn)
    @blp.response(200, CommentOut)
    def post(self, data, comment_id):
        actor = current_actor()
        if actor.user_id is None:
            raise Forbidden("log in as the project owner to answer", field="Authorization")
        return comments.respond(db_session(), actor, comment_id, data["response"])


# ---- engagements and findings ---------------------------------------------------------------------------


@blp.route("/engagements")
class Engagements(MethodView):
    @blp.arguments(EngagementIn)
    @blp.response(201, EngagementOut)
    def post(self, data):
        """The owner entrusts a VVB (validation of a project, verification of a monitoring period)."""
        return vv.engage(db_session(), current_actor(), data["role"], data["subject_id"], data["vvb_id"])


@blp.route("/engagements/<int:engagement_id>/decision")
class EngagementDecision(MethodView):
    @blp.arguments(DecisionIn)
    @blp.response(200, EngagementOut)
    def post(self, data, engagement_id):
        return vv.decide_engagement(db_session(), current_actor(), engagement_id, data["accept"])


@blp.route("/findings")
class Findings(MethodView):
    @blp.arguments(CommentFilter, location="query")
    @blp.response(200, FindingOut(many=True))
    def get(self, args):
        """Findings of a project or period: its owner, the engaged body and the registry (the public reads them in
        the published report)."""
        session = db_session()
        record = comments.subject(session, args["subject_type"], args["subject_id"])
        actor = current_actor()
        if not (lifecycle.owns(actor, record) or lifecycle.is_engaged(actor, record) or policy.can(actor, "project.review")):
            _visible(record)  # someone else's draft: as if it did not exist
            raise Forbidden("findings are read by the owner, the engaged body and the registry until the report is published",
                            field="actor", rule="CNCA-CCER-01 §4.6")
        return vv.findings_of(session, args["subject_type"], args["subject_id"])

    @blp.arguments(FindingIn)
    @blp.response(201, FindingOut)
    def post(self, data):
        """The engaged VVB raises a CAR, CL or OBS."""
        return vv.raise_finding(db_session(), current_actor(), **data)


@blp.route("/findings/<int:finding_id>/answer")
class FindingAnswer(MethodView):
    @blp.arguments(AnswerIn)
    @blp.response(200, FindingOut)
    def post(self, data, finding_id):
        return vv.answer_finding(db_session(), current_actor(), finding_id, data["response"], data["evidence"])


@blp.route("/findings/<int:finding_id>/close")
class FindingClose(MethodView):
    @blp.arguments(DecisionIn)
    @blp.response(200, FindingOut)
    def post(self, data, finding_id):
        return vv.close_finding(db_session(), current_actor(), finding_id, data["accept"])


# ---- monitoring periods ----------------------------------------------------------------------------------


@blp.route("/projects/<int:project_id>/monitoring-periods")
class Periods(MethodView):
    @blp.response(200, PeriodOut(many=True))
    def get(self, project_id):
        session = db_session()
        _visible(lifecycle.get(session, project_id))
        return session.execute(select(MonitoringPeriod).join(Project, Project.id == MonitoringPeriod.project_id)
                               .where(MonitoringPeriod.project_id == project_id, visibility.batches_visible_to(current_actor()))
                               .order_by(MonitoringPeriod.number)).scalars().all()

    @blp.arguments(PeriodIn)
    @blp.response(201, PeriodOut)
    def post(self, data, project_id):
        """Enter a batch's monitored data as JSON (or upload CSV/XLSX at …/monitoring-periods/upload)."""
        landcover = boundaries.reference_rasters(data["landcover"]) if data.get("landcover") else None  # sinks (issue #18)
        return monitoring.create(db_session(), current_actor(), project_id, data["periods"], data["green_certificates_mwh"],
                                 landcover=landcover)


@blp.route("/projects/<int:project_id>/monitoring-periods/upload")
class PeriodUpload(MethodView):
    @blp.response(201, PeriodOut)
    def post(self, project_id):
        """Monitored data as a CSV or XLSX file (form field `file`): one row per sub-period, columns start, end
        and the methodology's monitored symbols (SYMBOL.key for by-fuel values)."""
        session, actor = db_session(), current_actor()
        monitoring.creatable(session, actor, project_id)  # authorised before the body is read (issue 15)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ValidationError("attach the CSV or XLSX as form field 'file'", field="file")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise ValidationError("use .csv or .xlsx", field="file")
        raw_green = (request.form.get("green_certificates_mwh") or "0").strip()
        if not raw_green.isascii() or not raw_green.isdigit() or int(raw_green) > MAX_TONNES:  # the BIGINT column
            raise ValidationError(f"must be a whole number of MWh, got {raw_green[:20]!r}", field="green_certificates_mwh")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"data{suffix}"
            upload.save(path)
            doc = inputs.load(path, limits=_limits(), field="file")
        return monitoring.create(session, actor, project_id, doc["periods"], int(raw_green))


@blp.route("/projects/<int:project_id>/boundary")
class ProjectBoundary(MethodView):
    @blp.response(200, description="the latest boundary check report (JSON)")
    def get(self, project_id):
        """The latest GIS check of the project's parcels (public once the project is beyond draft)."""
        session = db_session()
        _visible(lifecycle.get(session, project_id))
        record = boundaries.latest(session, project_id)
        if record is None:
            raise NotFound(f"project {project_id} has no boundary check", field="project_id")
        return json.loads(record.report_json)

    @blp.response(201, description="the boundary check report (JSON)")
    @blp.alt_response(202, schema=JobOut, description="a file over CCER_BOUNDARY_JOB_BYTES: checked by a job (GET /api/v1/jobs/{id})")
    def post(self, project_id):
        """Attach a sink project's parcels (form field `boundary`: GeoJSON, KML, zipped Shapefile or GeoPackage;
        `landcover`: comma-separated names of the registry's reference rasters for the baseline years;
        optional `id_field`, `crs`) and check them against the rasters and every other project's parcels."""
        session, actor = db_session(), current_actor()
        boundaries.attachable(session, actor, project_id)  # authorised before the body is read (issue 15)
        upload = request.files.get("boundary")
        if upload is None or Path(upload.filename or "").name in ("", ".", ".."):
            raise ValidationError("attach the boundary file as form field 'boundary'", field="boundary")
        names = [n.strip() for n in (request.form.get("landcover") or "").split(",") if n.strip()]
        if not names:
            raise ValidationError("name the reference land-cover rasters of the baseline years", field="landcover")
        rasters = boundaries.reference_rasters(names)
        id_field, crs = request.form.get("id_field") or "parcel_id", request.form.get("crs") or None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.filename).name
            upload.save(path)
            if path.stat().st_size > boundary_jobs.job_threshold():  # heavy: checked by a job, followed at /jobs/{id}
                job = boundary_jobs.queue_check(session, actor, project_id, path, names, instance=current_app.instance_path,
                                                id_field=id_field, crs=crs)
                accepted = jsonify(job.as_dict())
                accepted.status_code = 202
                return accepted
            record = boundaries.attach(session, actor, project_id, path, rasters, limits=_limits(), id_field=id_field, crs=crs)
        return json.loads(record.report_json)


@blp.route("/monitoring-periods/<int:mp_id>")
class PeriodOne(MethodView):
    @blp.response(200, PeriodOut)
    def get(self, mp_id):
        return _visible(monitoring.get(db_session(), mp_id))


@blp.route("/monitoring-periods/<int:mp_id>/transitions/<name>")
class PeriodTransition(MethodView):
    @blp.arguments(TransitionIn)
    @blp.response(200, PeriodOut)
    def post(self, data, mp_id, name):
        """publicise, verify, reject, apply (with quantity), return, reapply, register (issues the CCERs), refuse."""
        session = db_session()
        _visible(monitoring.get(session, mp_id))  # someone else's draft batch does not exist for the caller
        return monitoring.fire(session, current_actor(), mp_id, name, **_context(data))


@blp.route("/monitoring-periods/<int:mp_id>/checklist")
class PeriodChecklist(MethodView):
    @blp.response(200, ChecklistItem(many=True))
    def get(self, mp_id):
        session = db_session()
        return monitoring.checklist(session, _visible(monitoring.get(session, mp_id)))

