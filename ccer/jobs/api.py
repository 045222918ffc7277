"""GET /api/v1/jobs/{id} (progress) and /api/v1/jobs/{id}/artifact (what the job made) — for the one who asked and the
registry; anyone else is told the job does not exist."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ..infra.errors import NotFound
from ..requests import current_actor, db_session
from .queue import get_job

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Long jobs and their progress")


class JobOut(Schema):
    id = fields.Str(metadata={"description": "32 hex digits"})
    kind = fields.Str()
    status = fields.Str(metadata={"description": "queued | running | done | failed"})
    progress = fields.Float(metadata={"description": "0 … 1"})
    message = fields.Str()
    result = fields.Dict(allow_none=True)
    error = fields.Str(allow_none=True)
    artifact = fields.Bool(metadata={"description": "a file to download at /api/v1/jobs/{id}/artifact"})


def job_response(job) -> dict:
    return job.as_dict()


@blp.route("/<job_id>")
class JobResource(MethodView):
    @blp.response(200, JobOut)
    def get(self, job_id: str):
        return job_response(get_job(db_session(), current_actor(), job_id))


@blp.route("/<job_id>/artifact")
class JobArtifact(MethodView):
    @blp.response(200, description="the file the job produced")
    def get(self, job_id: str):
        job = get_job(db_session(), current_actor(), job_id)
        if job.status != "done" or not job.artifact:
            raise NotFound(f"job {job_id} has no file (status {job.status})", field="job_id")
        path = Path(current_app.instance_path) / "jobs" / job.id / job.artifact
        return send_file(path, as_attachment=True, download_name=job.artifact)
