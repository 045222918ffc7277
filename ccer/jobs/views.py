"""GET /jobs/<id>: a job's progress as a page (updated by static/js/job-progress.js from the API)."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..requests import current_actor, db_session
from .queue import get_job

bp = Blueprint("jobs_pages", __name__)


@bp.get("/jobs/<job_id>")
def show(job_id: str):
    return render_template("jobs/show.html", job=get_job(db_session(), current_actor(), job_id))
