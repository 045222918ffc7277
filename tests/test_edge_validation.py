"""Validation at the edge (issue 15 §1): the hand-made bad inputs of the probe, each answered 4xx naming the
field — integers beyond the column (path, query, body, cursor), NUL, lone surrogates, '¹', strings longer than
their column, 1.9 t, a compliance year of 2³¹, '.'/'..' file names, 1e308 coordinates, a bad crs, non-numeric
form fields — and the limits themselves (ccer.infra.bounds), which the CLI and the pages share."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

from ccer.infra import bounds
from ccer.infra.errors import ValidationError
from tests.registry_world import World

PASSWORD = "correct-horse-battery"
BEYOND_BIGINT = 2**63  # one past PostgreSQL BIGINT
BEYOND_INTEGER = 2**31  # one past PostgreSQL INTEGER (every id column)


def _token(client, actor) -> dict:
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _refused(resp, field: str, status: int = 422):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:300])
    body = resp.get_json()
    assert body["field"] == field, body
    assert body["code"] == ("validation_error" if status == 422 else "not_found")
    return body


@pytest.fixture()
def world(session, parties):
    w = World(session, parties)
    session.commit()
    return w


# ---- the limits, as the CLI and the pages use them ------------------------------------------------------------


def test_bounds_checks_shared_by_cli_and_pages():
    assert bounds.text_problem("碳汇 project\nline two") is None
    assert bounds.text_problem("a\x00b") == "NUL characters are not allowed"
    assert "surrogate" in bounds.text_problem("\ud800")
    assert bounds.text_problem("tab\there", multiline=False) == "control characters are not allowed"
    with pytest.raises(ValidationError) as err:
        bounds.check_text("x" * 4001, "note")
    assert (err.value.field, err.value.rule) == ("note", "length")
    # str.isdigit() accepts '¹' and int('¹') raises; ids are ASCII digits within INTEGER (2**31 - 1 = 2147483647)
    assert [bounds.parse_id(t) for t in ("17", "¹", "2147483647", "2147483648", "007", "")] == [17, None, 2147483647, None, 7, None]
    assert bounds.tree_problem({"a": [1, {"b": 2**63}]}) == "an integer beyond the 64-bit range"
    assert bounds.tree_problem({"k\x00": 1}) == "NUL characters are not allowed"
    assert bounds.tree_problem(float("inf")) == "not a finite number"
    assert bounds.file_name_problem("..") and bounds.file_name_problem(".") and bounds.file_name_problem("a/b.csv")
    assert bounds.file_name_problem("边界.geojson") is None


# ---- integers beyond their column: path, query, body, cursor ---------------------------------------------------


def test_integers_beyond_their_column(client, world):
    reg = _token(client, world.registry)
    # path: an id beyond INTEGER is a 404 naming the parameter, like any id that does not exist — pages too
    for url, field in ((f"/api/v1/projects/{BEYOND_BIGINT}", "project_id"), (f"/api/v1/organisations/{BEYOND_INTEGER}", "org_id"),
                       (f"/api/v1/approvals/{10**30}/confirm", "request_id"), (f"/api/v1/events/{BEYOND_INTEGER}", "seq")):
        resp = client.get(url, headers=reg) if "confirm" not in url else client.post(url, headers=reg)
        _refused(resp, field, 404)
    page = client.get(f"/projects/{BEYOND_BIGINT}")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get(f"/api/v1/organisations/{BEYOND_INTEGER - 1}", headers=reg).status_code == 404  # in range: not found
    # query
    _refused(client.get(f"/api/v1/comments?subject_type=project&subject_id={BEYOND_BIGINT}"), "subject_id")
    _refused(client.get(f"/api/v1/projects?owner={BEYOND_INTEGER}"), "owner")
    _refused(client.get("/api/v1/public/projects?limit=100000"), "limit")
    # body
    body = {"account": world.owner.account.number, "purpose": "public_good", "beneficiary_name": "x", "quantity": BEYOND_BIGINT}
    _refused(client.post("/api/v1/retirements", json=body, headers=_token(client, world.owner.maker)), "quantity")
    _refused(client.post("/api/v1/accounts", json={"organisation_id": BEYOND_INTEGER}, headers=reg), "organisation_id")
    _refused(client.post("/api/v1/approvals", json={"kind": "k", "target": "t", "payload": {"n": BEYOND_BIGINT}},
                         headers=reg), "payload")
    # cursor: a well-formed cursor whose key is beyond the id column
    beyond = base64.urlsafe_b64encode(f"k:{BEYOND_BIGINT}".encode()).decode()
    _refused(client.get(f"/api/v1/public/issuances?cursor={beyond}"), "cursor")
    _refused(client.get("/api/v1/public/issuances?cursor=%C2%B9"), "cursor")


def test_tonnes_are_whole_and_years_sane(client, world):
    owner = _token(client, world.owner.maker)
    base = {"account": world.owner.account.number, "purpose": "public_good", "beneficiary_name": "某公司"}
    body = _refused(client.post("/api/v1/retirements", json={**base, "quantity": 1.9}, headers=owner), "quantity")
    assert "integer" in body["message"]  # 1.9 t is refused, never stored as 1
    _refused(client.post("/api/v1/retirements", json={**base, "quantity": "5"}, headers=owner), "quantity")
    _refused(client.post("/api/v1/retirements", json={**base, "quantity": 5, "compliance_year": 2**31}, headers=owner),
             "compliance_year")
    _refused(client.post("/api/v1/retirements", json={**base, "quantity": 5, "event_start": "9999-01-01"}, headers=owner),
             "event_start")


# ---- text: NUL, lone surrogates, '¹', lengths ----------------------------------------------------------------------


def test_text_that_no_column_can_hold(client, world):
    reg = _token(client, world.registry)
    owner = _token(client, world.owner.maker)
    org = {"uscc": "914403001922038216", "name": "华为\x00技术", "roles": ["project_owner"]}
    body = _refused(client.post("/api/v1/organisations", json=org, headers=reg), "name")
    assert "NUL" in body["message"]
    # a lone surrogate, as JSON text can carry it (\ud800): not encodable as UTF-8
    raw = ('{"account": "%s", "purpose": "public_good", "beneficiary_name": "\\ud800", "quantity": 5}'
           % world.owner.account.number)
    _refused(client.post("/api/v1/retirements", data=raw, content_type="application/json", headers=owner), "beneficiary_name")
    # NUL in a query parameter and deep inside a free-form object
    _refused(client.get("/api/v1/events?action=a%00b", headers=reg), "action")
    _refused(client.post("/api/v1/approvals", json={"kind": "k", "target": "t", "payload": {"a": ["ok", "x\x00"]}},
                         headers=reg), "payload")
    # '¹' is a digit to str.isdigit() but not to int(): an account or trading account named so is not found
    assert client.get("/api/v1/accounts/¹", headers=reg).status_code == 404
    assert client.get("/api/v1/retirements/¹").status_code == 404
    # longer than the column: title String(300), beneficiary_name String(200); free text bounded (a 10 MB note)
    project = {"title": "项" * 301, "methodology_code": "CCER-01-001-V01", "construction_start": "2021-01-01",
               "facts": {}, "periods": []}
    _refused(client.post("/api/v1/projects", json=project, headers=owner), "title")
    base = {"account": world.owner.account.number, "purpose": "public_good", "quantity": 5}
    _refused(client.post("/api/v1/retirements", json={**base, "beneficiary_name": "名" * 201}, headers=owner), "beneficiary_name")
    _refused(client.post("/api/v1/retirements", json={**base, "beneficiary_name": "某公司", "note": "注" * (bounds.TEXT_LEN + 1)},
                         headers=owner), "note")


def test_unknown_filters_and_bad_filter_values_name_the_parameter(client, world):
    body = _refused(client.get("/api/v1/projects?colour=green"), "colour")
    assert "Unknown" in body["message"] or "unknown" in body["message"].lower()
    _refused(client.get("/api/v1/projects?status=flying"), "status")
    ok = client.get(f"/api/v1/projects?status=registered&methodology=CCER-01-001-V01&owner={world.owner.org.id}&province=甘肃省")
    assert ok.status_code == 200 and [p["id"] for p in ok.json["items"]] == [world.project.id]
    assert client.get("/api/v1/projects?province=福建省").json["items"] == []


# ---- uploads: file names, crs, coordinates, form fields --------------------------------------------------------------


def test_uploads_name_the_field(client, session, parties, tmp_path, monkeypatch):
    from tests.lifecycle_world import LifeWorld
    from tests.test_boundaries import _afforestation
    from tests.test_gis import write_raster

    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path / "landcover"))
    (tmp_path / "landcover").mkdir()
    write_raster(tmp_path / "landcover" / "clcd-2018.tif", np.ones((100, 100), np.uint8))
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    registered = w.to_registered()
    session.commit()
    headers = _token(client, w.owner)

    def boundary(content: bytes, name: str, **form):
        return client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                           data={"boundary": (io.BytesIO(content), name), "landcover": "clcd-2018.tif", **form})

    feature = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"parcel_id": "A1"}, "geometry": {
        "type": "Polygon", "coordinates": [[[117.1, 26.1], [117.2, 26.1], [117.2, 26.2], [117.1, 26.1]]]}}]}
    for name in (".", ".."):
        _refused(boundary(b"{}", name), "boundary")
    _refused(boundary(json.dumps(feature).encode(), "b.geojson", crs="EPSG:not-a-code"), "crs")
    far = json.loads(json.dumps(feature))
    far["features"][0]["geometry"]["coordinates"][0][1] = [1e308, 1e308]
    _refused(boundary(json.dumps(far).encode(), "far.geojson"), "boundary")

    def upload(name: str, **form):
        return client.post(f"/api/v1/projects/{registered.id}/monitoring-periods/upload", headers=headers,
                           content_type="multipart/form-data", data={"file": (io.BytesIO(b"start,end\n"), name), **form})

    _refused(upload(".."), "file")
    for green in ("abc", "1.5", "²", "9" * 30):
        _refused(upload("p.csv", green_certificates_mwh=green), "green_certificates_mwh")
