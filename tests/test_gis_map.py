"""The public map's vector tiles (issue #19), on SQLite (built in Python) and PostgreSQL (ST_AsMVT): the
parcels of publicised sink projects for everyone, never a draft's; flags and overlaps for VVB and registry
users only. Parcels are drawn in Albers (tests/test_gis_registry.py) near 115° E, 27° N."""
from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

from ccer.projects.models import ProjectFootprint, ProjectParcel
from tests.lifecycle_world import LifeWorld
from tests.test_gis_registry import at, frame, project, store
from ccer.projects import boundaries


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


@pytest.fixture()
def world(session, parties):
    w = LifeWorld(session, parties)
    public, other, draft = project(w), project(w), project(w)
    public.status, other.status = "publicity", "registered"
    store(session, public.id, [("A", at(0, 0, 100, 100))])
    session.add_all(ProjectParcel(**r) for r in boundaries.parcel_rows(other.id, frame([("B", at(50, 50, 150, 150))]),
                                                                        flags={"B": "overlap"}))
    store(session, draft.id, [("SECRET", at(200, 0, 300, 100))])
    for prj, rows in ((public, [at(0, 0, 100, 100)]), (other, [at(50, 50, 150, 150)]), (draft, [at(200, 0, 300, 100)])):
        session.add(ProjectFootprint(project_id=prj.id, wkb=boundaries.footprint(frame([("x", g) for g in rows]).to_crs(4326).geometry),
                                     parcels=len(rows)))
    session.commit()
    centre = frame([("c", at(0, 0, 1, 1))]).to_crs(4326).geometry.iloc[0].centroid
    return w, public, other, draft, tile_of(centre.x, centre.y, 12)


def decode(resp):
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(resp.data)


def test_public_tiles_show_publicised_parcels_only(client, world):
    _w, public, other, _draft, (z, x, y) = world
    resp = client.get(f"/map/tiles/{z}/{x}/{y}.pbf")
    layers = decode(resp)
    assert set(layers) == {"parcels"}  # no overlaps layer for the public
    props = sorted((f["properties"]["project_id"], f["properties"]["parcel_id"]) for f in layers["parcels"]["features"])
    assert props == [(public.id, "A"), (other.id, "B")]  # the draft's SECRET is never drawn
    assert all("flags" not in f["properties"] for f in layers["parcels"]["features"])
    assert resp.headers["Cache-Control"].startswith("public")
    assert client.get(f"/map/tiles/{z}/{x}/{y}.pvt").data == resp.data
    assert decode(client.get(f"/map/tiles/{z}/{x + 3}/{y}.pbf")) == {}  # 3 tiles east (~30 km): empty
    assert client.get(f"/map/tiles/{z}/{2 ** z}/{y}.pbf").status_code == 404


def test_low_zooms_show_project_footprints(client, world):
    _w, public, other, _draft, (z, x, y) = world
    z8 = (8, x >> 4, y >> 4)  # the zoom-8 tile holding the zoom-12 one
    layers = decode(client.get("/map/tiles/{}/{}/{}.pbf".format(*z8)))
    assert set(layers) == {"projects"}  # footprints, not parcels, below zoom 12
    assert sorted((f["properties"]["project_id"], f["properties"]["parcels"]) for f in layers["projects"]["features"]) == \
        [(public.id, 1), (other.id, 1)]  # never the draft's


def test_reviewers_see_flags_and_overlaps(client, world, parties):
    w, public, other, _draft, (z, x, y) = world
    token = client.post("/api/v1/auth/tokens", json={"username": w.vvb_a.label, "password": "correct-horse-battery"}).json["token"]
    resp = client.get(f"/map/tiles/{z}/{x}/{y}.pbf", headers={"Authorization": f"Bearer {token}"})
    layers = decode(resp)
    flags = {f["properties"]["parcel_id"]: f["properties"].get("flags") for f in layers["parcels"]["features"]}
    assert flags == {"A": None, "B": "overlap"}
    (ov,) = layers["overlaps"]["features"]  # A ∩ B, drawn once
    assert (ov["properties"]["project_id"], ov["properties"]["other_project"]) == (public.id, other.id)
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_map_page_has_no_inline_script(client, world):
    page = client.get("/map/").get_data(as_text=True)
    assert 'type="module" src="/static/js/map.js"' in page and "data-tiles=\"/map/tiles/{z}/{x}/{y}.pbf\"" in page
    assert "<script>" not in page and "SECRET" not in page
    outline = client.get("/map/outline.geojson")
    assert outline.status_code == 200 and outline.json["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
