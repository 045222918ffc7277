"""Bounded work per request (issue 15, "What to build" 2): the request-size limit, limits on parcels,
vertices, coordinates and archives, authorisation before an upload is read, and the within-submission
overlap check counting every pair while listing at most a capped number — checked within a fixed memory
budget, measured in a separate process."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from werkzeug.formparser import FormDataParser

from ccer.infra import archives
from ccer.infra.config import Limits
from ccer.infra.errors import TooLarge, ValidationError
from ccer.methodologies import inputs
from ccer.projects import boundaries
from gis import checks, io as gis_io, overlap
from gis.errors import GisError
from tests.lifecycle_world import LifeWorld
from tests.test_boundaries import _afforestation
from tests.test_gis import UTM, px, write_raster

ROOT = Path(__file__).resolve().parent.parent

#: peak resident memory allowed to the whole process that reads and checks 2,000 identical parcels: Python,
#: numpy, pandas, GEOS, GDAL and PROJ loaded (about 150 MB on their own) plus the check. Before the bounded
#: overlap check, 1,000 identical parcels took 1.8 GB and 2,000 ended in MemoryError at 4.2 GB (issue 15).
MEMORY_BUDGET_MB = 400


def _geojson(path: Path, geoms, crs=UTM) -> Path:
    gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs).to_file(path)
    return path


def _zip_bomb(path: Path, member: str, size: int = 200 * 2**20) -> Path:
    """A small zip whose one member declares (and really holds) `size` bytes of zeros: 200 MB deflate to ~200 KB."""
    chunk = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(member, "w", force_zip64=True) as out:
            for _ in range(size // len(chunk)):
                out.write(chunk)
    return path


@pytest.fixture()
def no_parsing(monkeypatch):
    """Counts multipart/form bodies parsed and zip members opened: a refusal before parsing leaves both at 0."""
    seen = {"forms": 0, "members": 0}
    parse, open_member = FormDataParser.parse, zipfile.ZipFile.open

    def counting_parse(self, *a, **kw):
        seen["forms"] += 1
        return parse(self, *a, **kw)

    def counting_open(self, *a, **kw):
        seen["members"] += 1
        return open_member(self, *a, **kw)

    monkeypatch.setattr(FormDataParser, "parse", counting_parse)
    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return seen


def _token(client, actor) -> dict:
    token = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": "correct-horse-battery"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


# ---- the overlap check -----------------------------------------------------------------------------------


def test_overlaps_counted_in_full_listed_up_to_the_cap():
    same = px(60, 20, 5, 5)
    parcels = gpd.GeoDataFrame({"parcel_id": [f"P{i}" for i in range(50)]}, geometry=[same] * 50, crs=UTM)
    pairs = overlap.find(parcels, max_pairs=10)
    assert pairs.total == 50 * 49 // 2 and len(pairs) == 10 and pairs.capped  # C(50, 2) = 1225 pairs, 10 listed
    assert pairs.per_parcel.tolist() == [49] * 50  # each parcel overlaps the 49 others
    assert pairs[0]["overlap_m2"] == pytest.approx(22_500, rel=2e-3) and pairs[0]["share_of_parcel"] == pytest.approx(1.0)
    everything = overlap.find(parcels, max_pairs=None)
    assert len(everything) == everything.total == 1225 and not everything.capped
    assert list(pairs) == list(everything)[:10]  # the listed pairs are the first ones, computed the same way
    # nested parcels, one inside the other without touching its edge: counted without an overlay, by the inner area
    nested = gpd.GeoDataFrame({"parcel_id": ["outer", "inner", "apart"]},
                              geometry=[px(60, 20, 5, 5), px(61, 21, 2, 2), px(10, 10, 1, 1)], crs=UTM)
    capped = overlap.find(nested, max_pairs=0)
    assert (capped.total, len(capped), capped.per_parcel.tolist()) == (1, 0, [1, 1, 0])


def test_overlap_work_beyond_the_limit_is_refused():
    # 30 parcels each shifted 1 m from the last: every pair overlaps partly and needs its intersection computed
    shifted = [shapely.affinity.translate(px(60, 20, 5, 5), xoff=i) for i in range(30)]
    parcels = gpd.GeoDataFrame({"parcel_id": [f"S{i}" for i in range(30)]}, geometry=shifted, crs=UTM)
    assert overlap.find(parcels, max_pairs=5, max_work=435).total == 435  # C(30, 2) pairs, exactly the limit
    with pytest.raises(GisError) as err:
        overlap.find(parcels, max_pairs=5, max_work=434)
    assert err.value.field == "boundary" and "CCER_MAX_OVERLAP_WORK" in err.value.rule


def test_a_capped_check_flags_every_overlapping_parcel(tmp_path):
    raster = write_raster(tmp_path / "clcd.tif", np.ones((100, 100), np.uint8))
    rows = [px(60, 20, 5, 5)] * 6 + [px(10, 10, 3, 3)]
    b = gis_io.read(_geojson(tmp_path / "six.geojson", rows))
    report = checks.check(b, [raster], checks.Options(max_overlap_pairs=3))
    s = report["summary"]
    assert (s["overlaps"], s["overlaps_listed"], s["overlaps_capped"], s["eligible"]) == (15, 3, True, 1)
    p5 = next(p for p in report["parcels"] if p["parcel_id"] == "P5")
    assert any("in 5 pairs in all" in i["message"] and "Art. 48" in i["rule"] for i in p5["issues"])


_MEASURE = r"""
import json, resource, sys, time
from gis import checks, io
baseline = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 1024  # resident now, in KiB
t = time.perf_counter()
b = io.read(sys.argv[1], max_parcels=10_000, max_vertices=2_000_000)
report = checks.check(b, [sys.argv[2]], checks.Options(max_overlap_pairs=1000, max_overlap_work=200_000))
text = json.dumps(report, default=str)
print(json.dumps({"summary": report["summary"], "report_bytes": len(text), "seconds": time.perf_counter() - t,
                  "baseline_mb": baseline / 1024, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_2000_identical_parcels_are_checked_within_a_memory_budget(tmp_path):
    raster = write_raster(tmp_path / "clcd.tif", np.ones((100, 100), np.uint8))
    boundary = _geojson(tmp_path / "identical.geojson", [px(60, 20, 5, 5)] * 2000)
    # Linux carries a process's peak RSS across fork and exec (the parent's pages count as the child's), so the
    # measuring interpreter is started by a small shell rather than by this ~300 MB pytest process
    run = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh", sys.executable, "-c", _MEASURE, str(boundary), str(raster)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    s = out["summary"]
    # every one of the C(2000, 2) = 1,999,000 pairs is counted, 1,000 listed; every parcel is a duplicate
    assert (s["parcels"], s["eligible"], s["overlaps"], s["overlaps_listed"], s["overlaps_capped"]) == (2000, 0, 1_999_000, 1000, True)
    assert out["peak_mb"] < MEMORY_BUDGET_MB, out  # ru_maxrss: the process's peak resident set, imports included
    print(f"2,000 identical parcels: peak {out['peak_mb']:.0f} MB (after imports {out['baseline_mb']:.0f} MB), "
          f"{out['seconds']:.1f} s, report {out['report_bytes']:,} bytes")


# ---- parcels, vertices, coordinates, archives ------------------------------------------------------------


def test_parcel_vertex_and_coordinate_limits(tmp_path):
    few = _geojson(tmp_path / "six.geojson", [px(10 * i, 10, 2, 2) for i in range(6)])
    with pytest.raises(GisError) as err:
        gis_io.read(few, max_parcels=5)
    assert err.value.field == "boundary" and "CCER_MAX_PARCELS" in err.value.rule
    assert len(gis_io.read(few, max_parcels=6).parcels) == 6
    with pytest.raises(GisError) as err:
        gis_io.read(few, max_vertices=29)  # six boxes of 5 vertices each (the ring is closed)
    assert "30 vertices" in err.value.message and "CCER_MAX_VERTICES" in err.value.rule
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"parcel_id": "huge"},
         "geometry": {"type": "Polygon", "coordinates": [[[117.1, 27.1], [1e308, 27.1], [117.2, 27.2], [117.1, 27.1]]]}}]}))
    with pytest.raises(GisError) as err:
        gis_io.read(far)
    assert err.value.field == "boundary" and err.value.rule == "coordinate sanity" and "parcel huge" in err.value.message
    degrees = tmp_path / "degrees.geojson"
    degrees.write_text(far.read_text().replace("1e+308", "217.1").replace("1e308", "217.1"))
    with pytest.raises(GisError, match="not a position on Earth"):
        gis_io.read(degrees)


def test_archives_are_vetted_from_the_central_directory(tmp_path, no_parsing):
    bomb = _zip_bomb(tmp_path / "bomb.zip", "parcels.shp")
    assert bomb.stat().st_size < 1_000_000
    no_parsing.update(forms=0, members=0)  # writing the bomb opened its member
    with pytest.raises(TooLarge) as err:
        archives.vet(bomb, field="boundary", max_bytes=100 * 2**20, max_members=10)
    assert err.value.status == 413 and err.value.field == "boundary" and "CCER_MAX_ARCHIVE_BYTES" in err.value.rule
    assert no_parsing["members"] == 0  # nothing inflated
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(11):
            zf.writestr(f"f{i}.txt", "x")
    with pytest.raises(TooLarge, match="11 files"):
        archives.vet(many.getvalue(), field="package", max_bytes=2**20, max_members=10)
    with pytest.raises(ValidationError, match="not a readable zip"):
        archives.vet(b"PK\x03\x04 not really", field="package", max_bytes=2**20, max_members=10)
    unsafe = io.BytesIO()
    with zipfile.ZipFile(unsafe, "w") as zf:
        zf.writestr("../escape.py", "x")
    with pytest.raises(ValidationError, match="unsafe path"):
        archives.extract(unsafe.getvalue(), tmp_path / "out", field="package", max_bytes=2**20, max_members=10)
    assert not (tmp_path / "escape.py").exists()


def test_xlsx_zip_bomb_refused_without_inflating(tmp_path, no_parsing):
    bomb = _zip_bomb(tmp_path / "periods.xlsx", "xl/worksheets/sheet1.xml")
    no_parsing.update(forms=0, members=0)  # writing the bomb opened its member
    with pytest.raises(TooLarge) as err:
        inputs.load(bomb, limits=Limits())
    assert err.value.field == "input" and "CCER_MAX_SPREADSHEET_BYTES" in err.value.rule and no_parsing["members"] == 0
    rows = "start,end,EG_export\n" + "2024-01-01,2024-01-31,1\n" * 4
    (tmp_path / "rows.csv").write_text(rows)
    with pytest.raises(ValidationError) as err:
        inputs.load(tmp_path / "rows.csv", limits=Limits(upload_rows=3))
    assert "more than 3 rows" in err.value.message and "CCER_MAX_UPLOAD_ROWS" in err.value.rule
    assert len(inputs.load(tmp_path / "rows.csv", limits=Limits(upload_rows=4))["periods"]) == 4


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("CCER_MAX_PARCELS", "25")
    monkeypatch.setenv("CCER_MAX_REQUEST_BYTES", "1048576")
    limits = Limits.from_env()
    assert (limits.parcels, limits.request_bytes, limits.overlap_details) == (25, 1_048_576, 1000)
    assert Limits.from_env({"parcels": 7}).parcels == 7
    monkeypatch.setenv("CCER_MAX_VERTICES", "lots")
    with pytest.raises(ValueError, match="CCER_MAX_VERTICES"):
        Limits.from_env()


# ---- over REST: size first, then who asks, then the file -------------------------------------------------


def test_oversized_request_refused_413_before_parsing(client, app, session, parties, no_parsing):
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    headers = _token(client, w.owner)
    assert app.config["MAX_CONTENT_LENGTH"] == 50 * 2**20
    big = io.BytesIO(b" " * 56_000_000)  # 56 MB, the probe's file
    r = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                    data={"boundary": (big, "big.geojson"), "landcover": "clcd-2018.tif"})
    assert r.status_code == 413 and r.json["code"] == "payload_too_large" and r.json["field"] == "body"
    assert "CCER_MAX_REQUEST_BYTES" in r.json["rule"] and "52,428,800" in r.json["message"]
    assert no_parsing["forms"] == 0
    # any request, anonymous or not, API or page
    assert client.post("/api/v1/auth/tokens", data=b"{" * (50 * 2**20 + 1), content_type="application/json").status_code == 413
    assert no_parsing["forms"] == 0


def test_anonymous_and_unauthorised_uploads_refused_before_parsing(client, session, parties, tmp_path, no_parsing):
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    registered = w.to_registered()
    bomb = _zip_bomb(tmp_path / "periods.xlsx", "xl/worksheets/sheet1.xml")
    boundary = _geojson(tmp_path / "b.geojson", [px(60, 20, 5, 5)])
    no_parsing.update(forms=0, members=0)  # writing the bomb opened its member
    r = client.post(f"/api/v1/projects/{p.id}/boundary", content_type="multipart/form-data",
                    data={"boundary": (open(boundary, "rb"), "b.geojson"), "landcover": "clcd-2018.tif"})
    assert r.status_code == 401 and r.json["field"] == "Authorization"
    r = client.post(f"/api/v1/projects/{registered.id}/monitoring-periods/upload", content_type="multipart/form-data",
                    data={"file": (open(bomb, "rb"), "periods.xlsx")})
    assert r.status_code == 401 and r.json["field"] == "Authorization"
    # a logged-in user who does not own the project: 403, and still nothing read
    stranger = parties.actor(parties.user(parties.org(["project_owner"])))
    r = client.post(f"/api/v1/projects/{registered.id}/monitoring-periods/upload", headers=_token(client, stranger),
                    content_type="multipart/form-data", data={"file": (open(bomb, "rb"), "periods.xlsx")})
    assert r.status_code == 403
    assert no_parsing == {"forms": 0, "members": 0}
    # the owner's zip bomb is read from the request, then refused from its central directory: 413, nothing inflated
    r = client.post(f"/api/v1/projects/{registered.id}/monitoring-periods/upload", headers=_token(client, w.owner),
                    content_type="multipart/form-data", data={"file": (open(bomb, "rb"), "periods.xlsx")})
    assert r.status_code == 413 and r.json["field"] == "file" and "CCER_MAX_SPREADSHEET_BYTES" in r.json["rule"]
    assert no_parsing["members"] == 0
    r = client.post(f"/api/v1/projects/{registered.id}/monitoring-periods/upload", headers=_token(client, w.owner),
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"start,end\n"), "p.csv"), "green_certificates_mwh": "1.5"})
    assert r.status_code == 422 and r.json["field"] == "green_certificates_mwh"


def test_boundary_uploads_within_limits_over_rest(client, session, parties, tmp_path, monkeypatch):
    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path / "landcover"))
    (tmp_path / "landcover").mkdir()
    write_raster(tmp_path / "landcover" / "clcd-2018.tif", np.ones((100, 100), np.uint8))
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    headers = _token(client, w.owner)

    def post(path, name):
        return client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                           data={"boundary": (open(path, "rb"), name), "landcover": "clcd-2018.tif"})

    # 2,000 identical parcels: checked, every pair counted, 1,000 listed, none eligible
    ok = post(_geojson(tmp_path / "same.geojson", [px(60, 20, 5, 5)] * 2000), "same.geojson")
    assert ok.status_code == 201, ok.json
    s = ok.json["summary"]
    assert (s["parcels"], s["eligible"], s["overlaps"], s["overlaps_capped"], len(ok.json["overlaps"])) == (2000, 0, 1_999_000, True, 1000)
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:32650"}},
                               "features": [{"type": "Feature", "properties": {"parcel_id": "A1"}, "geometry": {
                                   "type": "Polygon", "coordinates": [[[501800, 2999400], [1e308, 2999400], [501950, 2999250], [501800, 2999400]]]}}]}))
    bad = post(far, "far.geojson")
    assert bad.status_code == 422 and bad.json["field"] == "boundary" and bad.json["rule"] == "coordinate sanity"
    shp_bomb = _zip_bomb(tmp_path / "bomb.zip", "parcels.shp")
    bomb = post(shp_bomb, "bomb.zip")
    assert bomb.status_code == 413 and bomb.json["field"] == "boundary" and "CCER_MAX_ARCHIVE_BYTES" in bomb.json["rule"]
    dots = client.post(f"/api/v1/projects/{p.id}/boundary", headers=headers, content_type="multipart/form-data",
                       data={"boundary": (io.BytesIO(b"{}"), ".."), "landcover": "clcd-2018.tif"})
    assert dots.status_code == 422 and dots.json["field"] == "boundary"


def test_boundary_service_applies_the_limits(session, parties, tmp_path):
    w = LifeWorld(session, parties)
    p = _afforestation(w)
    raster = write_raster(tmp_path / "clcd.tif", np.ones((100, 100), np.uint8))
    path = _geojson(tmp_path / "three.geojson", [px(10 * i, 10, 2, 2) for i in range(3)])
    with pytest.raises(ValidationError) as err:
        boundaries.attach(session, w.owner, p.id, path, [raster], limits=Limits(parcels=2))
    assert err.value.field == "boundary" and "CCER_MAX_PARCELS" in err.value.rule
    record = boundaries.attach(session, w.owner, p.id, path, [raster], limits=Limits(parcels=3))
    assert (record.parcels, record.cross_overlaps) == (3, 0)
