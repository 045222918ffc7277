"""The REST API under /api/v1: flask-smorest on marshmallow schemas, bearer tokens (`ccer.requests.current_actor`),
one error format, cursor pagination (`pagination.py`). Every feature adds its blueprint in `init_api`."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_smorest import Api
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.exceptions import HTTPException

from ..infra.errors import DomainError
from ..requests import db_session
from .edges import IdConverter, json_default, scan_request
from .openapi import ErrorOut, declare_security, init_docs


class CcerApi(Api):
    ERROR_SCHEMA = ErrorOut  # the body of every error response in openapi.json (default, 422, …)

    def _register_pagination_header(self):
        """Lists use cursors (pagination.py), not flask-smorest's page numbers: no X-Pagination in the document."""

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
    # ids in routes within the INTEGER column (beyond: 404), before any route is added — pages' routes included
    app.url_map.converters["int"] = IdConverter
    app.before_request(scan_request)
    app.json.default = json_default  # instants in UTC ISO 8601 wherever a resource returns a plain dict too
    api = CcerApi(app, spec_kwargs={
        "info": {"description": "ccer REST API. Authenticate with POST /api/v1/auth/tokens, then send 'Authorization: Bearer <token>'. "
                            "Lists are keyset-paginated: ?limit=N (1–500) and ?cursor=<next_cursor of the previous page>; "
                            "every list answers {items, next_cursor} (null on the last page). Every instant is ISO 8601 in "
                            "UTC with its offset (+00:00), as the ledger hashes them; dates are Beijing calendar dates. Errors answer {status, code, message, field, rule?, errors?}."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        db_session().rollback()
        if request.path.startswith("/api/"):
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", error=err), err.status

    api.register_converter(IdConverter, integerconverter2paramschema)

    from ..auth.api import blp as auth_blp, org_blp, user_blp, approvals_blp
    from ..issuance.api import blp as registry_blp, public as open_data_blp
    from ..issuance.fraud_api import blp as fraud_blp
    from ..issuance.legacy_api import blp as legacy_blp
    from ..market.api import blp as market_blp, public as market_public_blp
    from ..projects.api import blp as lifecycle_blp
    from ..issuance.bundles_api import blp as bundles_blp
    from ..jobs.api import blp as jobs_blp
    from .ledger import blp as ledger_blp
    from .methodologies import blp as methodologies_blp, declare_schemas
    from .worklists import blp as worklists_blp
    from ..reference.api import blp as reference_blp

    for blp in (auth_blp, org_blp, user_blp, approvals_blp, ledger_blp, registry_blp, open_data_blp, fraud_blp, lifecycle_blp,
                market_blp, market_public_blp, jobs_blp, bundles_blp, reference_blp, legacy_blp,
                methodologies_blp, worklists_blp):
        api.register_blueprint(blp)
    declare_schemas(api)
    declare_security(api)
    init_docs(app)
    app.extensions["ccer.api"] = api
    return api
