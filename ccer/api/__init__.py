"""The REST API under /api/v1: flask-smorest on marshmallow schemas, bearer tokens (`ccer.requests.current_actor`),
one error format, cursor pagination (`pagination.py`). Every feature adds its blueprint in `init_api`."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..infra.errors import DomainError
from ..requests import db_session


class CcerApi(Api):
    def handle_http_exception(self, error: HTTPException):
        """One error format everywhere: {status, code, message, field}."""
        status = error.code or 500
        body = {"status": status, "code": _CODES.get(status, "error"), "message": error.description, "field": None}
        if status == 413:  # a body without a Content-Length, cut off at MAX_CONTENT_LENGTH as it was read
            body.update(field="body", rule="request size (CCER_MAX_REQUEST_BYTES)")
        messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        if messages:
            field, msg = _first_message(messages)
            body.update(code="validation_error", field=field, message=f"{field}: {msg}" if field else msg, errors=messages)
        return jsonify(body), status


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 413: "payload_too_large", 422: "validation_error", 500: "internal_error"}


def _first_message(messages) -> tuple[str | None, str]:
    """Webargs nests messages by location and field: {"json": {"uscc": ["…"]}}."""
    node, path = messages, []
    while isinstance(node, dict) and node:
        key = sorted(node)[0]
        if key not in ("json", "query", "form", "headers", "path", "files", "view_args"):
            path.append(str(key))
        node = node[key]
    if isinstance(node, list) and node:
        node = node[0]
    return (".".join(path) or None), str(node)


def init_api(app: Flask) -> Api:
    api = CcerApi(app, spec_kwargs={
        "info": {"description": "ccer REST API. Authenticate with POST /api/v1/auth/tokens, then send 'Authorization: Bearer <token>'."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        db_session().rollback()
        if request.path.startswith("/api/"):
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", error=err), err.status

    from ..auth.api import blp as auth_blp, org_blp, user_blp, approvals_blp
    from ..issuance.api import blp as registry_blp, public as open_data_blp
    from ..issuance.fraud_api import blp as fraud_blp
    from ..market.api import blp as market_blp, public as market_public_blp
    from ..projects.api import blp as lifecycle_blp
    from .ledger import blp as ledger_blp

    for blp in (auth_blp, org_blp, user_blp, approvals_blp, ledger_blp, registry_blp, open_data_blp, fraud_blp, lifecycle_blp,
                market_blp, market_public_blp):
        api.register_blueprint(blp)
    app.extensions["ccer.api"] = api
    return api
