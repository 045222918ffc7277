"""Multi-epoch eligibility and rasters as mosaics (issue #19), on the synthetic grid of tests/test_gis.py
(UTM 50N, 30 m pixels, top-left (500 000, 3 000 000))."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from gis import checks, io
from gis.errors import GisError
from tests.test_gis import PX, UTM, X0, Y0, parcels_file, px, write_raster


def cropland():
    return np.ones((100, 100), np.uint8)


def test_three_epochs_where_the_parcel_turns_forest_in_the_third(tmp_path):
    rasters = [write_raster(tmp_path / f"clcd-{y}.tif", cropland()) for y in (2018, 2019)]
    a = cropland()
    a[10:14, 10:14] = 2  # the parcel's 4 × 4 pixels become forest in 2020
    rasters.append(write_raster(tmp_path / "clcd-2020.tif", a))
    b = io.read(parcels_file(tmp_path, [("P", px(10, 10, 4, 4)), ("Q", px(60, 60, 4, 4))]))
    report = checks.check(b, rasters, checks.Options())
    p = {r["parcel_id"]: r for r in report["parcels"]}
    assert p["P"]["forest_fraction_by_epoch"] == [0.0, 0.0, 1.0] and not p["P"]["eligible"]
    assert "clcd-2020.tif" in p["P"]["issues"][0]["message"] and "§4 a)" in p["P"]["issues"][0]["rule"]
    assert p["Q"]["forest_fraction_by_epoch"] == [0.0, 0.0, 0.0] and p["Q"]["eligible"]
    # per epoch: the rule, and 1 of 2 parcels at or above the 20 % limit in 2020 only; mean share (1 + 0) / 2
    e = report["epochs"]
    assert [x["raster"] for x in e] == ["clcd-2018.tif", "clcd-2019.tif", "clcd-2020.tif"]
    assert [x["parcels_forest_at_or_above_limit"] for x in e] == [0, 0, 1] and e[2]["mean_forest_share"] == 0.5
    assert all("§4 a)" in x["rule"] for x in e)


def _tile(path, data, col0):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype="uint8", crs=UTM,
                       transform=from_origin(X0 + PX * col0, Y0, PX, PX), nodata=0, tiled=True, blockxsize=16, blockysize=16,
                       compress="deflate") as ds:
        ds.write(data, 1)


def test_a_parcel_straddling_two_tiles_of_a_mosaic(tmp_path):
    tiles = tmp_path / "clcd-2019"
    tiles.mkdir()
    west, east = cropland()[:, :50], cropland()[:, 50:]
    west[:] = 2  # forest west of column 50, cropland east
    _tile(tiles / "w.tif", west, 0)
    _tile(tiles / "e.tif", east, 50)
    # columns 48–51: two forest pixels in the west tile, two cropland in the east one → forest share 0.5
    b = io.read(parcels_file(tmp_path, [("S", px(48, 20, 4, 2))]))
    report = checks.check(b, [tiles], checks.Options(max_forest_share=0.6))
    (p,) = report["parcels"]
    assert p["forest_fraction_by_epoch"] == [0.5] and p["valid_share"] == [1.0] and p["eligible"]
    vrt = next(tiles.glob("mosaic-*.vrt"))  # the folder became a VRT beside its tiles
    (tiles / "e.tif").unlink()
    with pytest.raises(GisError) as err:
        checks.check(b, [vrt], checks.Options())
    assert err.value.field == "raster" and "e.tif" in err.value.message and "missing" in err.value.message


def test_epochs_on_different_grids_are_refused_with_the_reason(tmp_path):
    r30 = write_raster(tmp_path / "clcd-30m.tif", cropland())
    with rasterio.open(tmp_path / "s2-10m.tif", "w", driver="GTiff", width=300, height=300, count=1, dtype="uint8", crs=UTM,
                       transform=from_origin(X0, Y0, 10, 10), nodata=0) as ds:
        ds.write(np.ones((1, 300, 300), np.uint8))
    b = io.read(parcels_file(tmp_path, [("P", px(10, 10, 4, 4))]))
    with pytest.raises(GisError) as err:
        checks.check(b, [r30, tmp_path / "s2-10m.tif"], checks.Options())
    assert "at 10 × 10" in err.value.message and "at 30 × 30" in err.value.message and "gis.md §5" in err.value.rule


def test_a_monitoring_period_change_stored_with_the_batch(tmp_path):
    from gis import change

    a = cropland()
    a[10:12, 10:12] = 2
    before = write_raster(tmp_path / "clcd-2022.tif", a)
    a[11, 10:12] = 1  # one of the two forest rows cleared
    after = write_raster(tmp_path / "clcd-2024.tif", a)
    parcels = io.read(parcels_file(tmp_path, [("F", px(10, 10, 2, 2)), ("C", px(60, 60, 2, 2))])).parcels
    got = change.period_change(parcels, before, after, (2,))
    # F: forest share 1.0 → 0.5 over 4 pixels of 900 m² = 0.36 ha: 0.18 ha of forest lost (Albers vs UTM: < 0.2 %)
    assert got["flagged"] == ["F"] and got["loss_ha"] == pytest.approx(0.18, rel=2e-3) and got["gain_ha"] == 0
    assert got["rasters"] == ["clcd-2022.tif", "clcd-2024.tif"]
    assert [r["loss"] for r in got["parcels"]] == [0.5, 0.0]
