"""GIS boundary checks on synthetic rasters and parcels whose answers are known by construction.

The land-cover raster: UTM zone 50N (EPSG:32650), 30 m pixels, 100 × 100, top-left corner (500 000,
3 000 000). Columns 0–49 are forest (2), columns 50–99 cropland (1); rows 80–89 of the cropland half are
wetland (9); the block rows 90–99 × columns 90–99 is nodata (0). Pixel (row r, col c) spans
x = 500 000 + 30c … +30, y = 3 000 000 − 30r … −30.
"""
from __future__ import annotations

import json
import zipfile
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin
from shapely.geometry import Polygon, box

from ccer.cli import main
from gis import change, checks, io, overlap
from gis.errors import GisError

X0, Y0, PX = 500_000, 3_000_000, 30
UTM = "EPSG:32650"


def px(col, row, cols=1, rows=1):
    """The box of a block of whole pixels."""
    return box(X0 + PX * col, Y0 - PX * (row + rows), X0 + PX * (col + cols), Y0 - PX * row)


def write_raster(path, data, nodata=0, crs=UTM, count=1):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0], dtype=data.dtype,
                       crs=crs, transform=from_origin(X0, Y0, PX, PX), nodata=nodata, tiled=True, blockxsize=64, blockysize=64,
                       compress="deflate") as ds:
        ds.write(data)
    return path


@pytest.fixture()
def landcover(tmp_path):
    a = np.ones((100, 100), np.uint8)
    a[:, :50] = 2
    a[80:90, 50:] = 9
    a[90:, 90:] = 0
    return write_raster(tmp_path / "clcd-2018.tif", a)


def parcels_file(tmp_path, rows, crs=UTM, name="parcels.geojson"):
    gdf = gpd.GeoDataFrame({"parcel_id": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=UTM).to_crs(crs)
    path = tmp_path / name
    gdf.to_file(path, driver="GeoJSON" if name.endswith("json") else None)
    return path


CASES = [
    ("four-forest-pixels", px(10, 12, 2, 2)),                               # exactly 4 forest pixels
    ("edge", box(X0 + 1500 - 90, Y0 - 600, X0 + 1500 + 30, Y0 - 540)),      # 90 m forest + 30 m crop: 75 % forest
    ("crop", px(60, 20, 5, 5)),                                              # all cropland: eligible
    ("half-off", box(X0 + 3000 - 60, Y0 - 300, X0 + 3000 + 60, Y0 - 240)),   # half of it east of the raster
    ("bow-tie", Polygon([(X0 + 1800, Y0 - 900), (X0 + 1890, Y0 - 990), (X0 + 1890, Y0 - 900), (X0 + 1800, Y0 - 990)])),
    ("tiny", box(X0 + 2400, Y0 - 1200, X0 + 2410, Y0 - 1190)),               # 100 m² < 400 m²
    ("wet", px(70, 82, 3, 3)),                                               # wetland rows
    ("overlaps-crop", px(62, 22, 5, 5)),                                     # shares 3 × 3 pixels with "crop"
    ("clean", px(60, 40, 4, 4)),                                             # cropland, alone: the one eligible parcel
]


def by_id(report):
    return {p["parcel_id"]: p for p in report["parcels"]}


def test_known_answers(tmp_path, landcover):
    b = io.read(parcels_file(tmp_path, CASES))
    report = checks.check(b, [landcover], checks.Options(wetland_classes=(9,), project_start=date(2021, 3, 1)))
    p = by_id(report)
    assert p["four-forest-pixels"]["forest_fraction"] == pytest.approx(1.0) and p["four-forest-pixels"]["area_ha"] == pytest.approx(0.36, rel=1e-3)
    assert not p["four-forest-pixels"]["eligible"]
    assert "forest share 100.0%" in p["four-forest-pixels"]["issues"][0]["message"]
    assert p["edge"]["forest_fraction"] == pytest.approx(0.75, abs=1e-9)  # 90 m of 120 m
    assert p["clean"]["eligible"] and p["clean"]["forest_fraction"] == 0 and p["clean"]["class_shares"] == [{"1": 1.0}]
    assert p["clean"]["area_ha"] == pytest.approx(1.44, rel=2e-3)  # 4 × 4 pixels of 900 m² (Albers vs UTM scale: < 0.2 %)
    assert p["crop"]["forest_fraction"] == 0 and not p["crop"]["eligible"]
    (issue,) = p["crop"]["issues"]  # its only problem: 3 × 3 pixels = 8 100 m² shared with "overlaps-crop"
    assert "overlaps parcel overlaps-crop" in issue["message"] and "Art. 48" in issue["rule"]
    assert p["half-off"]["valid_share"][0] == pytest.approx(0.5, abs=1e-9)
    assert any("only 50.0%" in i["message"] for i in p["half-off"]["issues"])
    assert any("Self-intersection" in i["message"] for i in p["bow-tie"]["issues"]) and not p["bow-tie"]["eligible"]
    # measured on GEOS's repaired copy: two triangles of base 90 m and height 45 m = 4 050 m² (UTM; Albers < 0.2 % off)
    assert p["bow-tie"]["repaired"] and p["bow-tie"]["area_ha"] == pytest.approx(0.405, rel=2e-3)
    assert any("400 m²" in i["rule"] for i in p["tiny"]["issues"])
    assert p["wet"]["wetland_fraction"] == pytest.approx(1.0) and not p["wet"]["eligible"]
    s = report["summary"]
    assert (s["parcels"], s["eligible"], s["overlaps"]) == (9, 1, 1) and s["eligible_area_ha"] == pytest.approx(p["clean"]["area_ha"], abs=1e-4)


def test_overlap_area_and_share(tmp_path):
    b = io.read(parcels_file(tmp_path, [("a", px(60, 20, 5, 5)), ("b", px(62, 22, 5, 5)), ("touching", px(60, 15, 5, 5))]))
    pairs = overlap.find(b.parcels)
    # a and b share 3 × 3 pixels = 8 100 m² of 22 500 m² each (36 %); "touching" shares only an edge with a
    assert len(pairs) == 1
    (pair,) = pairs
    assert (pair["parcel_id"], pair["other_parcel_id"]) == ("a", "b")
    assert pair["overlap_m2"] == pytest.approx(8100, rel=2e-3) and pair["share_of_parcel"] == pytest.approx(0.36, rel=2e-3)


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4548"])  # CGCS2000 geographic; CGCS2000 3° Gauss–Krüger, CM 117°E
def test_another_crs_gives_the_same_answers(tmp_path, landcover, crs):
    rows = [("edge", shapely.segmentize(CASES[1][1], 5)), ("crop", shapely.segmentize(CASES[2][1], 5))]
    b = io.read(parcels_file(tmp_path, rows, crs=crs, name="cgcs2000.geojson" if crs == "EPSG:4490" else "gk.gpkg"))
    assert b.crs.to_epsg() == int(crs.split(":")[1]) and b.warnings == []
    p = by_id(checks.check(b, [landcover]))
    assert p["edge"]["forest_fraction"] == pytest.approx(0.75, abs=0.005)
    assert p["crop"]["forest_fraction"] == pytest.approx(0.0, abs=1e-6)
    assert p["crop"]["area_ha"] == pytest.approx(p["crop"]["area_ha_geodesic"], rel=1e-3)


def test_coordinates_with_few_decimals_are_warned(tmp_path, landcover):
    coarse = Polygon([(117.00001, 27.1), (117.0005, 27.1), (117.0005, 27.1005), (117.00001, 27.1005)])
    gdf = gpd.GeoDataFrame({"parcel_id": ["coarse"]}, geometry=[coarse], crs=4326)
    gdf.to_file(tmp_path / "c.geojson")
    b = io.read(tmp_path / "c.geojson")
    assert [w["parcel_id"] for w in b.warnings] == ["coarse"] and "6 decimal" in b.warnings[0]["message"]


def test_formats_and_refusals(tmp_path, landcover):
    gdf = gpd.GeoDataFrame({"parcel_id": ["a"]}, geometry=[px(60, 20, 5, 5)], crs=UTM)
    gdf.to_file(tmp_path / "p.gpkg", driver="GPKG")
    gdf.to_crs(4326).to_file(tmp_path / "p.kml", driver="KML")
    shp = tmp_path / "shp"
    shp.mkdir()
    gdf.to_file(shp / "p.shp")
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as zf:
        for f in shp.iterdir():
            zf.write(f, f.name)
    for name in ("p.gpkg", "p.zip"):
        assert io.read(tmp_path / name).parcels["parcel_id"].tolist() == ["a"]
    kml = io.read(tmp_path / "p.kml", id_field="Name")  # KML keeps names, not attributes
    assert len(kml.parcels) == 1
    bare = tmp_path / "bare"
    bare.mkdir()
    gdf.set_crs(None, allow_override=True).to_file(bare / "p.shp")  # no .prj: no CRS (GeoJSON always implies WGS 84)
    with pytest.raises(GisError) as err:
        io.read(bare / "p.shp")
    assert err.value.field == "crs"
    assert io.read(bare / "p.shp", crs=UTM).crs.to_epsg() == 32650
    (tmp_path / "broken.geojson").write_text("{not json")
    with pytest.raises(GisError, match="cannot read"):
        io.read(tmp_path / "broken.geojson")
    far = gpd.GeoDataFrame({"parcel_id": ["far"]}, geometry=[box(0, 0, 100, 100)], crs=UTM)
    far.to_file(tmp_path / "far.geojson")
    with pytest.raises(GisError, match="no parcel lies on"):
        checks.check(io.read(tmp_path / "far.geojson"), [landcover])
    no_nodata = tmp_path / "no-nodata.tif"
    with rasterio.open(no_nodata, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8", crs=UTM,
                       transform=from_origin(X0, Y0, PX, PX)) as ds:
        ds.write(np.ones((1, 10, 10), np.uint8))
    with pytest.raises(GisError, match="nodata"):
        checks.check(io.read(tmp_path / "p.gpkg"), [no_nodata])


def test_change_reuses_coverage_and_flags_loss(tmp_path, landcover):
    later = np.ones((100, 100), np.uint8)
    later[:, :50] = 2
    later[12:13, 10:12] = 1  # one of the parcel's two pixel rows cleared: half of it
    after = write_raster(tmp_path / "clcd-2024.tif", later)
    parcels = io.read(parcels_file(tmp_path, CASES[:3])).parcels
    rows = {r["parcel_id"]: r for r in change.forest_change(parcels, landcover, after, (2,), max_loss=0.1)}
    assert rows["four-forest-pixels"]["forest_fraction_after"] == pytest.approx(0.5) and rows["four-forest-pixels"]["flagged"]
    assert not rows["edge"]["flagged"] and rows["edge"]["loss"] == pytest.approx(0)
    # NDVI: red 30 / NIR 120 → 0.6 before; red 60 / NIR 90 → 0.2 after on the first parcel
    red0, nir0 = np.full((100, 100), 30, np.uint16), np.full((100, 100), 120, np.uint16)
    red1, nir1 = red0.copy(), nir0.copy()
    red1[12:13, 10:12], nir1[12:13, 10:12] = 60, 90
    b0 = write_raster(tmp_path / "s2-a.tif", np.stack([red0, nir0]), nodata=0)
    b1 = write_raster(tmp_path / "s2-b.tif", np.stack([red1, nir1]), nodata=0)
    nd = {r["parcel_id"]: r for r in change.ndvi_change(parcels, b0, b1, 1, 2)}
    assert nd["four-forest-pixels"]["ndvi_before"] == pytest.approx(0.6)
    assert nd["four-forest-pixels"]["ndvi_after"] == pytest.approx(0.4)  # two of four pixels at 0.2: (0.6 + 0.2) / 2
    assert nd["four-forest-pixels"]["flagged"] and not nd["crop"]["flagged"]


def test_dask_cluster_gives_identical_results(tmp_path, landcover):
    from dask.distributed import Client, LocalCluster

    from gis.distributed import measure_on

    b = io.read(parcels_file(tmp_path, CASES))
    opts = checks.Options(wetland_classes=(9,))
    local = checks.check(b, [landcover], opts)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        remote = checks.check(b, [landcover], opts, measure_fn=measure_on(client, tile_px=32))
    assert remote == local


def test_cli_check_table_geojson_and_one_line_errors(tmp_path, landcover):
    boundary = parcels_file(tmp_path, CASES)
    runner = CliRunner()
    out = runner.invoke(main, ["gis", "check", str(boundary), "--landcover", str(landcover), "--forest-classes", "2",
                               "--wetland-classes", "9", "--format", "table", "--geojson", str(tmp_path / "flagged.geojson"),
                               "--png", str(tmp_path / "map.png")])
    assert out.exit_code == 0, out.output
    assert "1/9 parcels eligible" in out.output and "[4/4] done" in out.output
    flagged = json.loads((tmp_path / "flagged.geojson").read_text())
    assert {f["properties"]["parcel_id"] for f in flagged["features"]} >= {"four-forest-pixels", "edge", "wet", "tiny", "bow-tie"}
    bow = next(f for f in flagged["features"] if f["properties"]["parcel_id"] == "bow-tie")
    assert bow["properties"]["repaired"] is True and bow["geometry"]["type"] == "MultiPolygon"  # the two triangles of the bow-tie
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    bad = runner.invoke(main, ["gis", "check", str(tmp_path / "missing.geojson"), "--landcover", str(landcover)])
    assert bad.exit_code == 2 and bad.output.strip().startswith("error: boundary:") and "Traceback" not in bad.output
    over = runner.invoke(main, ["gis", "overlaps", str(boundary), "--against", str(parcels_file(tmp_path, [("x", px(60, 20, 1, 1))], name="other.geojson"))])
    assert over.exit_code == 1 and json.loads(over.output)["across"][0]["other_parcel_id"] == "x"


@pytest.mark.realdata
def test_natural_earth_china_area_albers_vs_geodesic():
    import os

    import pyogrio

    from gis import area

    path = os.path.join(os.path.dirname(pyogrio.__file__), "tests", "fixtures", "naturalearth_lowres", "naturalearth_lowres.shp")
    if not os.path.exists(path):
        pytest.skip("pyogrio's Natural Earth fixture is not installed")
    world = gpd.read_file(path)
    china = world[world["iso_a3"] == "CHN"]
    a, g = area.albers_ha(china)[0], area.geodesic_ha(china)[0]
    # the equal-area projection agrees with the ellipsoid to well under 0.1 %; ~9.3–9.6 million km²
    assert abs(a - g) / g < 1e-3 and 9.0e8 < g < 1.0e9


def test_epochs_on_one_grid_share_the_coverage_and_agree_with_one_pass(tmp_path, landcover, monkeypatch):
    import shutil

    from gis import zonal

    monkeypatch.setattr(zonal, "READ_BLOCK", 16)  # many small read windows instead of one: the same answers

    second = shutil.copy(landcover, tmp_path / "clcd-2019.tif")
    b = io.read(parcels_file(tmp_path, CASES))
    one = by_id(checks.check(b, [landcover]))
    two = by_id(checks.check(b, [landcover, second]))  # coverage path: exactextract cell_id/coverage once, numpy per epoch
    for pid in ("four-forest-pixels", "edge", "clean", "half-off", "wet"):
        f1 = one[pid]["forest_fraction_by_epoch"][0]
        assert two[pid]["forest_fraction_by_epoch"] == [pytest.approx(f1, abs=1e-9)] * 2
        assert two[pid]["valid_share"][0] == pytest.approx(one[pid]["valid_share"][0], abs=1e-9)


def test_empty_layer_and_raster_without_crs_are_refused(tmp_path, landcover):
    empty = gpd.GeoDataFrame({"parcel_id": []}, geometry=[], crs=UTM)
    empty.to_file(tmp_path / "empty.gpkg", driver="GPKG")
    with pytest.raises(GisError, match="no features"):
        io.read(tmp_path / "empty.gpkg")
    bare = tmp_path / "no-crs.tif"
    with rasterio.open(bare, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       transform=from_origin(X0, Y0, PX, PX), nodata=0) as ds:
        ds.write(np.ones((1, 10, 10), np.uint8))
    b = io.read(parcels_file(tmp_path, CASES[:1]))
    with pytest.raises(GisError) as err:
        checks.check(b, [bare])
    assert err.value.field == "raster" and "no CRS" in err.value.message
    (tmp_path / "corrupt.tif").write_bytes(b"II*\x00 not a tiff")
    runner = CliRunner()
    out = runner.invoke(main, ["gis", "check", str(tmp_path / "parcels.geojson"), "--landcover", str(tmp_path / "corrupt.tif")])
    assert out.exit_code == 2 and out.output.strip().startswith("error: raster: cannot read corrupt.tif") and "Traceback" not in out.output


@pytest.mark.parametrize("bad", ["EPSG:notacrs", "+proj=nonsense", 12.5])
def test_a_crs_that_is_none_is_refused_naming_the_field(tmp_path, bad):
    import json

    from gis import io
    from gis.errors import GisError

    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"parcel_id": "a"},
        "geometry": {"type": "Polygon", "coordinates": [[[100.0, 30.0], [100.01, 30.0], [100.01, 30.01], [100.0, 30.0]]]}}]}))
    with pytest.raises(GisError) as err:
        io.read(path, crs=bad)
    assert err.value.field == "crs" and "not a coordinate reference system" in err.value.message
