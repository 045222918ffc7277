"""The OpenAPI document as the API behaves (issues 15 §7, 17 §2): the error body every 4xx/5xx returns, bearer
security on every protected operation (`security: []` on public ones, bearer-or-anonymous where a caller sees
more when logged in), and the docs page (Swagger UI from ccer/static/vendor/swagger-ui, no CDN, no inline script).

Timestamps: every instant the API writes is ISO 8601 in UTC with its offset (+00:00), as the ledger hashes them;
dates (deadlines, crediting periods) are calendar dates in Beijing (ccer.infra.bounds.Instant)."""
from __future__ import annotations

import re

from flask import Blueprint, Flask, render_template
from marshmallow import INCLUDE, Schema, fields

CODES = ["bad_request", "invalid", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict",
         "payload_too_large", "validation_error", "too_many_requests", "internal_error", "error"]


class ErrorOut(Schema):
    """What every error answers (ccer.infra.errors.DomainError.to_dict and CcerApi.handle_http_exception)."""

    class Meta:
        unknown = INCLUDE  # a future member (e.g. retry_after) does not break a client

    status = fields.Int(required=True, metadata={"description": "the HTTP status, repeated"})
    code = fields.Str(required=True, metadata={"description": "a machine-readable word: " + ", ".join(CODES)})
    message = fields.Str(required=True, metadata={"description": "what is wrong, in words"})
    field = fields.Str(required=True, allow_none=True, metadata={
        "description": "the parameter or body member at fault (dotted for nested members), or null"})
    rule = fields.Str(metadata={"description": "the rule refused by (an article of the reference, a limit)"})
    errors = fields.Dict(metadata={"description": "validation errors by location and field, when the body or "
                                                  "parameters did not match their schema"})


#: Blueprints (OpenAPI tags) whose every operation is anonymous.
PUBLIC_TAGS = {"open-data", "market-public", "methodologies"}
#: Other operations anyone may call without logging in (security: []), as "METHOD path" patterns.
PUBLIC = [
    r"POST /api/v1/auth/tokens",
    r"GET /api/v1/public/.*",
    r"GET /api/v1/ledger/head",
    r"GET /api/v1/reference.*",  # the registry's published reference data (grid factors, calendars)
    r"GET /api/v1/legacy/.*",  # old-regime projects: registered, hence public, with their CCERs' uses
]
#: Operations that answer anonymous callers too, and logged-in ones with more (their organisation's drafts…).
OPTIONAL = [
    r"GET /api/v1/organisations.*",
    r"GET /api/v1/projects(/\{project_id\}(/(documents|boundary|monitoring-periods|checklist))?)?",
    r"GET /api/v1/monitoring-periods/\{mp_id\}(/checklist)?",
    r"GET /api/v1/documents/\{document_id\}",
    r"GET /api/v1/publicity",
    r"GET /api/v1/comments",
    r"POST /api/v1/comments",
    r"GET /api/v1/findings",
]


def _matches(patterns, key: str) -> bool:
    return any(re.fullmatch(p, key) for p in patterns)


def security_of(method: str, path: str, tags=()) -> list:
    key = f"{method.upper()} {path}"
    if PUBLIC_TAGS.intersection(tags) or _matches(PUBLIC, key):
        return []
    if _matches(OPTIONAL, key):
        return [{}, {"bearer": []}]
    return [{"bearer": []}]


def declare_security(api) -> None:
    """Set `security` on every operation of the document (after every blueprint is registered)."""
    for path, ops in api.spec._paths.items():  # apispec keeps the operations here until to_dict()
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                op["security"] = security_of(method, path, op.get("tags", ()))


docs = Blueprint("api_docs", __name__)


@docs.route("/api/v1/docs")
def docs_page():
    """Swagger UI over /api/v1/openapi.json, from the vendored assets (CSP: script-src 'self')."""
    return render_template("api/docs.html")


def init_docs(app: Flask) -> None:
    app.register_blueprint(docs)
