"""The API's edge (issue 15 §1): what no request may carry, checked before any resource sees it.

- `<int:…>` in a route: an id beyond the INTEGER column (ccer.infra.bounds.INT32_MAX) is a 404 naming the
  parameter like any id that does not exist, never a PostgreSQL "integer out of range" (5xx).
- Every query parameter, form field and JSON member (keys and values, at any depth) is scanned for NUL, lone
  surrogates, integers beyond 64 bits and non-finite numbers: a 422 naming the field, for the fields that the
  schemas take as free-form objects too. The schemas (ccer/*/schemas.py) hold each field's own bounds."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask import request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from ..infra.bounds import INT32_MAX, text_problem, tree_problem
from ..infra.errors import NotFound, ValidationError


class IdConverter(IntegerConverter):
    """`<int:…>`: digits; the document says they are within the INTEGER column (maximum), and `scan_request`
    answers a larger one 404 naming the parameter before any view or query sees it."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        return int(value)  # beyond max: not a routing miss (an anonymous 404) but a 404 naming the parameter


def _refuse(field: str, problem: str):
    raise ValidationError(f"{field}: {problem}", field=field, rule="edge: text and numbers a column can hold")


def scan_request() -> None:
    """before_request: ids in the path within their column (pages too), then for /api/ the request-wide checks above."""
    for key, value in (request.view_args or {}).items():
        if type(value) is int and value > INT32_MAX:
            raise NotFound(f"no {key.replace('_', ' ')} {value}", field=key, rule="ids are within the INTEGER column")
    if not request.path.startswith("/api/"):
        return
    # a multipart body (an upload) is left to its view, which authenticates and authorises before it parses the
    # file (issue 15: authorisation before any upload is parsed); its text fields are bounded by the view's schema
    forms = [request.form] if request.mimetype == "application/x-www-form-urlencoded" else []
    for where in (request.args, *forms):
        for key, values in where.lists():
            problem = text_problem(key, multiline=False)
            if problem:
                _refuse("parameter name", problem)
            for value in values:
                problem = text_problem(value)
                if problem:
                    _refuse(key, problem)
    for key, value in (request.view_args or {}).items():
        if isinstance(value, str):
            problem = text_problem(value, multiline=False)
            if problem:
                _refuse(key, problem)
    if request.is_json and request.content_length:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            for key, value in body.items():
                problem = tree_problem({key: value})
                if problem:
                    _refuse(str(key) if text_problem(str(key)) is None else "body", problem)
        elif body is not None:
            problem = tree_problem(body)
            if problem:
                _refuse("body", problem)


def json_default(value):
    """The JSON encoder's fallback: an instant as ISO 8601 in UTC (as ccer.infra.bounds.Instant writes it; Flask
    would write an HTTP date), a date as YYYY-MM-DD, anything else as Flask does."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)
