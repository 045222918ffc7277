"""The OpenAPI document as the API behaves (issue 15 §7, issue 17 §2): bearer security declared on every protected
operation and none on public ones (checked by calling each GET anonymously), the error schema equal to real error
bodies, the cursor envelope, one schema per methodology, one time zone, and the docs page from vendored assets."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.registry_world import World

PASSWORD = "correct-horse-battery"


@pytest.fixture()
def spec(client):
    return client.get("/api/v1/openapi.json").json


def _operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, op


_TYPES = {"string": str, "integer": int, "object": dict, "array": list, "boolean": bool}


def _conforms(body: dict, schema: dict) -> None:
    """The error body against its (flat) schema: required members present, each member of its declared type."""
    assert set(schema["required"]) <= set(body), (schema["required"], body)
    for name, value in body.items():
        prop = schema["properties"].get(name)
        assert prop is not None, f"undeclared member {name}"
        if value is None:
            assert prop.get("nullable"), f"{name} is null but not nullable"
        else:
            assert isinstance(value, _TYPES[prop["type"]]), (name, value, prop)


def _error_schema(spec) -> dict:
    ref = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"]["$ref"]
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_every_operation_declares_security_and_the_error_response(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    protected = public = 0
    for method, path, op in _operations(spec):
        assert "security" in op, f"{method.upper()} {path} declares no security"
        assert op["security"] in ([], [{"bearer": []}], [{}, {"bearer": []}]), (method, path, op["security"])
        protected += op["security"] == [{"bearer": []}]
        public += op["security"] == []
        assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)
    assert protected > 60 and public > 20  # 147 operations today; the split is checked against behaviour below
    # the error code is a word, not an integer (issue 17: the old document said integer)
    error = _error_schema(spec)
    assert error["properties"]["code"]["type"] == "string"
    assert set(error["required"]) == {"status", "code", "message", "field"}


def test_declared_security_matches_what_anonymous_callers_get(client, spec, session, parties):
    """Each GET without parameters in the path, called anonymously: a protected one is refused (401, or 403 where the
    policy refuses the public role outright), a public one never."""
    World(session, parties)
    session.commit()
    checked = 0
    for method, path, op in _operations(spec):
        if method != "get" or "{" in path or any(p.get("required") and p["in"] == "query" for p in op.get("parameters", [])):
            continue
        status = client.get(path).status_code
        if op["security"] == [{"bearer": []}]:
            assert status in (401, 403), f"GET {path} declares bearer but answers {status} anonymously"
        else:
            assert status not in (401, 403), f"GET {path} is declared public but answers {status}"
        checked += 1
    assert checked > 30


def test_error_schema_matches_real_error_bodies(client, spec):
    schema = _error_schema(spec)
    bodies = [
        client.get("/api/v1/projects/2147483647").json,  # DomainError → to_dict
        client.get("/api/v1/projects?colour=green").json,  # webargs → handle_http_exception with errors
        client.get("/api/v1/users/me").json,  # 401
        client.get("/api/v1/nowhere").json if client.get("/api/v1/nowhere").is_json else None,
        client.post("/api/v1/auth/tokens", json={"username": "nobody", "password": "x" * 12}).json,
    ]
    for body in filter(None, bodies):
        _conforms(body, schema)
        assert isinstance(body["code"], str) and re.fullmatch(r"[a-z_]+", body["code"])
    assert bodies[1]["field"] == "colour" and bodies[1]["code"] == "validation_error" and "query" in bodies[1]["errors"]


def test_lists_are_described_as_cursor_pages(spec):
    op = spec["paths"]["/api/v1/public/issuances"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) >= {"cursor", "limit"} and "page" not in params and "page_size" not in params
    assert params["limit"]["schema"]["maximum"] == 500
    page = spec["components"]["schemas"]["IssuancePage"]
    assert set(page["properties"]) == {"items", "next_cursor"} and page["properties"]["next_cursor"]["nullable"] is True
    assert "X-Pagination" not in str(op["responses"]) and "PaginationMetadata" not in spec["components"]["schemas"]


def test_methodology_schemas_and_path_ids(spec, client):
    listed = client.get("/api/v1/methodologies").json["items"]
    assert {m["code"] for m in listed} >= {"CCER-01-001-V01", "CCER-14-001-V01"}
    for m in listed:
        name = m["code"].replace("-", "_")
        assert f"{name}_Period" in spec["components"]["schemas"] and f"{name}_Project" in spec["components"]["schemas"]
    periods = spec["components"]["schemas"]["CCER_01_001_V01_Period"]["properties"]
    assert any("x-unit" in prop for prop in periods.values())
    one = client.get("/api/v1/methodologies/CCER-01-001-V01").json
    declared = {p["symbol"]: p for p in one["parameters"]}
    period = one["schemas"]["period"]["properties"]
    assert set(declared) <= set(period)
    for symbol, p in declared.items():  # the schema carries the plug-in's own units and ranges
        assert period[symbol]["x-unit"] == p["unit"] and period[symbol]["x-stage"] == p["stage"]
        if p.get("min") is not None and period[symbol].get("type") == "string":
            assert float(period[symbol]["minimum"]) == float(p["min"])
    # an id in a path is an integer within the INTEGER column
    param = spec["paths"]["/api/v1/projects/{project_id}"]["parameters"][0]
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_one_time_zone_for_every_instant(client, session, parties):
    """A resource just made (clock.now, Beijing time) and the same read back (UTC from the database) write the
    same instant the same way: UTC with +00:00 (the trading morning 10:00 Beijing is 02:00 UTC)."""
    w = World(session, parties)
    session.commit()
    headers = {"Authorization": "Bearer " + client.post("/api/v1/auth/tokens", json={"username": w.owner.maker.label,
                                                                                     "password": PASSWORD}).json["token"]}
    made = client.post("/api/v1/approvals", headers=headers, json={"kind": "nothing.such", "target": "x", "payload": {}})
    listed = client.get("/api/v1/accounts", headers=headers).json["items"][0]
    for text in [listed["applied_at"]] + ([made.json["initiated_at"]] if made.status_code == 201 else []):
        at = datetime.fromisoformat(text)
        assert text.endswith("+00:00") and at.utcoffset() == timedelta(0), text


def test_docs_page_served_from_vendored_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts), "no inline script (CSP script-src 'self')"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(a.startswith("/static/") for a in assets), assets  # nothing from a CDN
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
