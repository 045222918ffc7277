"""The REST API under /api/v1: flask-smorest on marshmallow schemas, bearer tokens, one error format,
cursor pagination. Every feature adds its blueprint in `BLUEPRINTS`."""
from __future__ import annotations

import base64

from flask import Flask, g, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import HTTPException

from ..auth import policy
from ..auth.services import actor_for, user_for_token
from ..errors import DomainError, ValidationError
from ..actor import Actor


class CcerApi(Api):
    def handle_http_exception(self, error: HTTPException):
        """One error format everywhere: {status, code, message, field}."""
        status = error.code or 500
        body = {"status": status, "code": _CODES.get(status, "error"), "message": error.description, "field": None}
        messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
        if messages:
            field, msg = _first_message(messages)
            body.update(code="validation_error", field=field, message=f"{field}: {msg}" if field else msg, errors=messages)
        return jsonify(body), status


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 422: "validation_error", 500: "internal_error"}


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


def current_actor() -> Actor:
    """The acting user: bearer token, else the web session, else anonymous."""
    if "actor" in g:
        return g.actor
    from .. import db_session

    session = db_session()
    header = request.headers.get("Authorization", "")
    actor = policy.anonymous()
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ValidationError("expected 'Bearer <token>'", field="Authorization")
        actor = actor_for(user_for_token(session, token.strip()))
    else:
        from flask import session as web_session

        uid = web_session.get("user_id")
        if uid:
            from ..auth.models import User

            user = session.get(User, uid)
            if user is not None and user.is_active:
                actor = actor_for(user)
    g.actor = actor
    return actor


# ---- pagination ------------------------------------------------------------------------------------------


class PageArgs(Schema):
    cursor = fields.Str(load_default=None, metadata={"description": "opaque cursor from next_cursor"})
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "next_cursor": fields.Str(allow_none=True)},
        name=name,
    )


def encode_cursor(key: int | None) -> str | None:
    return None if key is None else base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "k":
            raise ValueError
        return int(value)
    except Exception:
        raise ValidationError("not a cursor returned by this API", field="cursor")


def paginate(session, stmt, key_column, args: dict) -> dict:
    """Keyset pagination on a unique, increasing column: stable while new rows arrive."""
    after = decode_cursor(args.get("cursor"))
    if after is not None:
        stmt = stmt.where(key_column > after)
    limit = args.get("limit", 50)
    rows = session.execute(stmt.order_by(key_column).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(getattr(rows[-1], key_column.key) if more else None)}


def init_api(app: Flask) -> Api:
    api = CcerApi(app, spec_kwargs={
        "info": {"description": "ccer REST API. Authenticate with POST /api/v1/auth/tokens, then send 'Authorization: Bearer <token>'."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    })

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):
        from .. import db_session

        db_session().rollback()
        if request.path.startswith("/api/"):
            return jsonify(err.to_dict()), err.status
        from flask import render_template

        return render_template("error.html", error=err), err.status

    from ..auth.api import blp as auth_blp, org_blp, user_blp, approvals_blp
    from ..issuance.api import blp as registry_blp, public as open_data_blp
    from ..projects.api import blp as lifecycle_blp
    from .ledger import blp as ledger_blp

    for blp in (auth_blp, org_blp, user_blp, approvals_blp, ledger_blp, registry_blp, open_data_blp, lifecycle_blp):
        api.register_blueprint(blp)
    app.extensions["ccer.api"] = api
    return api
