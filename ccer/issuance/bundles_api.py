"""POST /api/v1/accounts/{ref}/certificate-bundles: every certificate of an account as one ZIP, made by a job (202)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..jobs.api import JobOut, job_response
from ..requests import current_actor, db_session
from . import bundles

blp = Blueprint("certificate_bundles", __name__, url_prefix="/api/v1/accounts",
                description="Bulk certificates of an account (a job: follow /api/v1/jobs/{id})")


@blp.route("/<account_ref>/certificate-bundles")
class CertificateBundles(MethodView):
    @blp.response(202, JobOut)
    def post(self, account_ref: str):
        job = bundles.request_bundle(db_session(), current_actor(), account_ref, instance=current_app.instance_path,
                                     public_url=current_app.config["CCER_SETTINGS"].public_url)
        return job_response(job)
