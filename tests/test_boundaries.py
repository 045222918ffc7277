"""Stored boundaries of sink projects: the check is kept, other projects' parcels are checked against it,
and publicity is refused while parcels are ineligible or double-counted (issue #3's land eligibility
"from the GIS checks when boundaries are given")."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest

from ccer.infra.errors import ValidationError
from ccer.projects import boundaries, lifecycle
from tests.lifecycle_world import LifeWorld
from tests.test_gis import UTM, px, write_raster

EXAMPLE = json.load(open("methodologies/ccer_14_001_v01/examples/chinese-fir-two-periods.json", encoding="utf-8"))


def _boundary(tmp_path, name, rows):
    path = tmp_path / f"{name}.geojson"
    gpd.GeoDataFrame({"parcel_id": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=UTM).to_file(path)
    return path


def _afforestation(w):
    return lifecycle.create(w.s, w.owner, title="杉木造林碳汇（测试）", methodology_code="CCER-14-001-V01", province="福建省",
                            construction_start="2021-03-01", facts=EXAMPLE["project"], periods=EXAMPLE["periods"])


def test_ineligible_or_double_counted_land_blocks_publicity(session, parties, tmp_path):
    w = LifeWorld(session, parties)
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2  # forest west, cropland east
    raster = write_raster(tmp_path / "clcd.tif", a)

    p = _afforestation(w)
    w.engage(p, w.vvb_a_org, w.vvb_a)
    record = boundaries.attach(session, w.owner, p.id, _boundary(tmp_path, "p", [("A1", px(60, 20, 5, 5)), ("A2", px(10, 10, 2, 2))]), [raster])
    assert (record.parcels, record.eligible_parcels) == (2, 1)  # A2 lies on forest
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.owner, p.id, "publicise")
    assert err.value.field == "boundary" and "1 of 2 parcels" in str(err.value)
    boundaries.attach(session, w.owner, p.id, _boundary(tmp_path, "p2", [("A1", px(60, 20, 5, 5))]), [raster])
    lifecycle.fire(session, w.owner, p.id, "publicise")

    q = _afforestation(w)
    w.engage(q, w.vvb_a_org, w.vvb_a)
    record = boundaries.attach(session, w.owner, q.id, _boundary(tmp_path, "q", [("B1", px(62, 22, 5, 5))]), [raster])
    report = json.loads(record.report_json)
    assert record.cross_overlaps == 1 and report["cross_project_overlaps"][0]["other_project"] == p.id
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.owner, q.id, "publicise")
    assert "overlap" in str(err.value) and "Art. 48" in err.value.rule
    with pytest.raises(ValidationError):
        boundaries.attach(session, w.owner, q.id, tmp_path / "missing.geojson", [raster])


def test_boundary_over_rest_with_reference_rasters(client, session, parties, tmp_path, monkeypatch):
    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path / "landcover"))
    (tmp_path / "landcover").mkdir()
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2
    write_raster(tmp_path / "landcover" / "clcd-2018.tif", a)
    write_raster(tmp_path / "landcover" / "clcd-2019.tif", a)
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    token = client.post("/api/v1/auth/tokens", json={"username": w.owner.label, "password": "correct-horse-battery"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    path = _boundary(tmp_path, "rest", [("A1", px(60, 20, 5, 5))])
    missing = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                          data={"boundary": (open(path, "rb"), "rest.geojson"), "landcover": "clcd-2017.tif"})
    assert missing.status_code == 422 and missing.json["field"] == "landcover" and "clcd-2018.tif" in missing.json["message"]
    ok = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                     data={"boundary": (open(path, "rb"), "rest.geojson"), "landcover": "clcd-2018.tif,clcd-2019.tif"})
    assert ok.status_code == 201, ok.json
    # two epochs on one grid: the coverage is computed once and both shares come from it
    parcel = ok.json["parcels"][0]
    assert parcel["forest_fraction_by_epoch"] == [0.0, 0.0] and parcel["valid_share"] == [1.0, 1.0] and parcel["eligible"]
    assert client.get(f"/api/v1/projects/{p.id}/boundary", headers=headers).json["summary"]["eligible"] == 1


def test_a_large_boundary_is_checked_by_a_job_and_followed_to_its_report(client, session, parties, tmp_path, monkeypatch):
    """Over CCER_BOUNDARY_JOB_BYTES the upload answers 202 with a job (authorised and its raster names checked
    first); the job stores the same check a small upload gets at once (issue 15 item 2, issue 16 item 8)."""
    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path / "landcover"))
    monkeypatch.setenv("CCER_BOUNDARY_JOB_BYTES", "100")  # this 2-parcel GeoJSON is a few hundred bytes
    monkeypatch.setenv("CCER_JOBS", "inline")
    (tmp_path / "landcover").mkdir()
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2  # forest west, cropland east
    write_raster(tmp_path / "landcover" / "clcd-2018.tif", a)
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    token = client.post("/api/v1/auth/tokens", json={"username": w.owner.label, "password": "correct-horse-battery"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    path = _boundary(tmp_path, "big", [("A1", px(60, 20, 5, 5)), ("A2", px(10, 10, 2, 2))])
    bad = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                      data={"boundary": (open(path, "rb"), "big.geojson"), "landcover": "clcd-2017.tif"})
    assert bad.status_code == 422 and bad.json["field"] == "landcover"  # refused before anything is queued
    queued = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                         data={"boundary": (open(path, "rb"), "big.geojson"), "landcover": "clcd-2018.tif"})
    assert queued.status_code == 202 and queued.json["status"] == "done", queued.json
    job = client.get(f"/api/v1/jobs/{queued.json['id']}", headers=headers).json
    # A1 on cropland is eligible, A2 on forest is not (the same figures as the check made at once above)
    assert (job["result"]["parcels"], job["result"]["eligible_parcels"]) == (2, 1)
    report = client.get(f"/api/v1/projects/{p.id}/boundary", headers=headers).json
    assert report["summary"]["parcels"] == 2 and report["summary"]["eligible"] == 1
    assert client.get(f"/api/v1/jobs/{queued.json['id']}").status_code == 404  # not for anyone else


def test_the_owner_page_sends_a_large_boundary_to_a_job_and_the_job_page_back_to_the_project(client, session, parties, tmp_path, monkeypatch):
    from sqlalchemy import select

    from ccer.auth.models import User
    from ccer.jobs import Job
    from tests.test_workspace_routes import _login

    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path / "landcover"))
    monkeypatch.setenv("CCER_BOUNDARY_JOB_BYTES", "100")
    monkeypatch.setenv("CCER_JOBS", "inline")
    (tmp_path / "landcover").mkdir()
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2
    write_raster(tmp_path / "landcover" / "clcd-2018.tif", a)
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    owner, project_id = session.get(User, w.owner.user_id).username, p.id
    session.commit()
    token = _login(client, owner)
    path = _boundary(tmp_path, "page", [("A1", px(60, 20, 5, 5))])
    resp = client.post(f"/workspace/owner/projects/{project_id}/boundary", content_type="multipart/form-data",
                       data={"csrf": token, "boundary": (open(path, "rb"), "page.geojson"), "landcover": "clcd-2018.tif"})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"] + "?lang=en")
    back = f"/workspace/owner/projects/{project_id}#boundary"
    assert page.status_code == 200 and f'href="{back}"' in page.text and "See the result" in page.text
    job = session.scalars(select(Job).where(Job.kind == "boundary.check")).one()
    assert job.status == "done" and job.result["eligible_parcels"] == 1
