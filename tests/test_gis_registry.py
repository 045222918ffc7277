"""The registry-wide overlap check through the spatial index (issue #19), on SQLite (R*Tree of boxes) and
PostgreSQL (PostGIS geometry, GiST): only parcels whose boxes meet the submission's are loaded, and the
overlaps found are those of the old load-everything check.

Parcels are drawn in the Albers equal-area projection the check measures in (gis/area.py ALBERS_CHINA,
gis.md §1.1), near x = 1 000 000 m, y = 3 000 000 m (≈ 115° E, 27° N), so common areas are known by hand."""
from __future__ import annotations


import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import func, select, text

from ccer.projects import boundaries, lifecycle
from ccer.projects.models import ProjectParcel
from gis import overlap
from gis.area import ALBERS_CHINA
from tests.lifecycle_world import LifeWorld
from tests.test_boundaries import EXAMPLE

X, Y = 1_000_000.0, 3_000_000.0


def at(x0, y0, x1, y1):
    return box(X + x0, Y + y0, X + x1, Y + y1)


def frame(rows):
    return gpd.GeoDataFrame({"parcel_id": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=ALBERS_CHINA)


def project(w):
    return lifecycle.create(w.s, w.owner, title="杉木造林碳汇（测试）", methodology_code="CCER-14-001-V01", province="福建省",
                            construction_start="2021-03-01", facts=EXAMPLE["project"], periods=EXAMPLE["periods"])


def store(session, project_id, rows):
    session.add_all(ProjectParcel(**r) for r in boundaries.parcel_rows(project_id, frame(rows)))
    session.flush()


@pytest.fixture()
def registry(session, parties):
    w = LifeWorld(session, parties)
    p, q = project(w), project(w)
    store(session, p.id, [
        ("A", at(0, 0, 100, 100)),                               # overlaps S1 by 50 m × 50 m = 2 500 m²
        ("C", Polygon([(X + 200, Y), (X + 300, Y), (X + 300, Y + 100)])),  # its box meets S3's, the triangle only a corner
        ("FAR", at(50_000, 50_000, 50_100, 50_100)),            # 50 km away: never loaded
    ])
    store(session, q.id, [("S1-own", at(50, 50, 150, 150))])  # the submitter's own stored copy: excluded
    return w, p, q


SUBMISSION = [("S1", at(50, 50, 150, 150)), ("S2", at(-100, 0, 0, 100))]  # S2 shares A's west edge: 0 m²


def test_candidates_are_the_parcels_whose_boxes_meet(session, registry):
    _w, p, q = registry
    got = boundaries.registry_parcels(session, frame(SUBMISSION), exclude_project=q.id)
    # A's box meets S1's and S2's; C's (x 200–300) lies east of S1's (x 50–150); FAR is never loaded
    assert sorted(got["parcel_id"]) == ["A"]
    wide = frame(SUBMISSION + [("S3", at(150, 50, 250, 150))])
    got = boundaries.registry_parcels(session, wide, exclude_project=q.id)
    assert sorted(got["parcel_id"]) == ["A", "C"] and set(got["project"]) == {p.id}


def test_same_overlaps_as_loading_the_whole_registry(session, registry):
    _w, p, q = registry
    sub = frame(SUBMISSION + [("S3", at(150, 50, 250, 150))])
    indexed = overlap.find(sub, boundaries.registry_parcels(session, sub, exclude_project=q.id))
    everything = overlap.find(sub, boundaries.stored_parcels(session, exclude_project=q.id))
    assert list(indexed) == list(everything) and indexed.total == everything.total == 1
    # S1 ∩ A = [50, 100] × [50, 100] = 2 500 m²; C (y ≤ x − 200) meets S3 (x ≤ 250, y ≥ 50) only at the point
    # (250, 50) and S2 touches A along x = 0: 0 m², under the 1 m² tolerance
    (pair,) = indexed
    assert pair["parcel_id"] == "S1" and pair["other_parcel_id"] == "A" and pair["other_project"] == p.id
    assert pair["overlap_m2"] == pytest.approx(2500, abs=0.01) and pair["share_of_parcel"] == pytest.approx(0.25, abs=1e-6)


def test_the_index_follows_every_write(session, registry, engine):
    _w, p, _q = registry
    session.execute(ProjectParcel.__table__.delete().where(ProjectParcel.project_id == p.id))
    session.flush()
    assert len(boundaries.registry_parcels(session, frame(SUBMISSION))) == 1  # only the other project's S1-own
    if engine.dialect.name == "sqlite":
        boxes = session.execute(text("SELECT count(*) FROM parcel_boxes")).scalar()
    else:  # PostGIS: geometry and equal-area area generated from the WKB: 100 m × 100 m = 10 000 m²
        boxes = session.execute(text("SELECT count(*) FROM project_parcels WHERE geom IS NOT NULL")).scalar()
        assert session.execute(text("SELECT area_ea_m2 FROM project_parcels")).scalar() == pytest.approx(10_000, abs=0.01)
    assert boxes == session.execute(select(func.count()).select_from(ProjectParcel)).scalar() == 1
