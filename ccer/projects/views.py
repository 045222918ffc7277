"""Public pages of the lifecycle: projects, what is in publicity now, a project's record with its documents,
deadlines and the public's comments — and the form to comment while a document is in publicity."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from ..infra.errors import DomainError
from ..requests import current_actor, db_session
from . import comments, lifecycle
from .models import Document, MonitoringPeriod, Project

bp = Blueprint("projects_pages", __name__, url_prefix="/projects")


@bp.get("/")
def index():
    session = db_session()
    rows = session.execute(select(Project).where(Project.status != "draft").order_by(Project.id.desc())).scalars().all()
    open_now = [p for p in rows if p.status == "publicity"]
    return render_template("projects/index.html", projects=rows, open_now=open_now)


@bp.route("/<int:project_id>", methods=["GET", "POST"])
def show(project_id):
    session = db_session()
    p = session.get(Project, project_id)
    if p is None or p.status == "draft":
        abort(404)
    error = None
    if request.method == "POST":  # a comment from the public (Measures Art. 12)
        try:
            comments.submit(session, current_actor(), "project", p.id, request.form.get("author_name", ""), request.form.get("body", ""))
            return redirect(url_for("projects_pages.show", project_id=p.id, sent=1))
        except DomainError as err:
            error = str(err)
    docs = session.execute(select(Document).where(Document.subject_type == "project", Document.subject_id == p.id)
                           .order_by(Document.id)).scalars().all()
    batches = session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id == p.id)
                              .order_by(MonitoringPeriod.number)).scalars().all()
    return render_template("projects/show.html", p=p, view=lifecycle.public_view(session, p, current_actor()), docs=docs,
                           batches=batches, comments=comments.of(session, "project", p.id, public_only=True), error=error,
                           sent=request.args.get("sent")), (422 if error else 200)
