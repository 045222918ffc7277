"""Change over a monitoring period: forest share, or NDVI from red and near-infrared bands, per parcel between
two epochs; parcels losing more than a threshold are flagged as possible reversals. Both epochs must be on
one grid (mosaic.same_grid: refused with the reason otherwise), so the parcels' coverage weights are computed
once and reused (zonal.Coverage); either epoch may be a VRT or a folder of tiles (mosaic.resolve).

`period_change` is what a monitoring period stores with its batch: per parcel the shares before and after,
the loss (share points and hectares of forest, on the Albers equal-area projection) and the flag, and the
batch's totals — the forest area lost is what the sink crediting nets (ccer/projects/reversals.py)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from . import area, mosaic, zonal


def _epochs(before, after) -> tuple[Path, Path]:
    before, after = mosaic.resolve(before), mosaic.resolve(after)
    mosaic.same_grid([before, after])
    return before, after


def forest_change(parcels: gpd.GeoDataFrame, before: str | Path, after: str | Path, forest_classes, max_loss: float = 0.1,
                  nodata: float | None = None) -> list[dict]:
    before, after = _epochs(before, after)
    cov = zonal.coverage(parcels, before, nodata)
    n = len(parcels)
    s0, _ = zonal.class_shares(before, cov)
    s1, _ = zonal.class_shares(after, cov)
    f0, f1 = zonal.share_of(s0, forest_classes, n), zonal.share_of(s1, forest_classes, n)
    return _rows(parcels, f0, f1, max_loss, "forest_fraction", area.albers_ha(parcels))


def ndvi_change(parcels: gpd.GeoDataFrame, before: str | Path, after: str | Path, red_band: int, nir_band: int,
                max_loss: float = 0.1, nodata: float | None = None) -> list[dict]:
    before, after = _epochs(before, after)
    cov = zonal.coverage(parcels, before, nodata)
    return _rows(parcels, zonal.ndvi(before, cov, red_band, nir_band), zonal.ndvi(after, cov, red_band, nir_band), max_loss, "ndvi")


def period_change(parcels: gpd.GeoDataFrame, before: str | Path, after: str | Path, forest_classes, max_loss: float = 0.1,
                  nodata: float | None = None) -> dict:
    """The GIS change of one monitoring period, as stored with its batch: {rasters, parcels (forest_change rows),
    flagged (parcel ids), loss_ha (forest area lost over the parcels, gains not netted), gain_ha}."""
    rows = forest_change(parcels, before, after, forest_classes, max_loss, nodata)
    lost = [r["loss_ha"] for r in rows if r.get("loss_ha") is not None]
    return {"rasters": [Path(before).name, Path(after).name], "parcels": rows,
            "flagged": [r["parcel_id"] for r in rows if r["flagged"]],
            "loss_ha": round(sum(x for x in lost if x > 0), 6), "gain_ha": round(-sum(x for x in lost if x < 0), 6)}


def _rows(parcels, v0: np.ndarray, v1: np.ndarray, max_loss: float, name: str, area_ha: np.ndarray | None = None) -> list[dict]:
    out = []
    for i, (pid, a, b) in enumerate(zip(parcels["parcel_id"], v0, v1)):
        loss = None if np.isnan(a) or np.isnan(b) else float(a - b)
        row = {"parcel_id": pid, f"{name}_before": None if np.isnan(a) else round(float(a), 6),
               f"{name}_after": None if np.isnan(b) else round(float(b), 6),
               "loss": None if loss is None else round(loss, 6), "flagged": loss is not None and loss > max_loss}
        if area_ha is not None:  # forest area lost (negative: gained), ha on the equal-area projection
            row["loss_ha"] = None if loss is None else round(loss * float(area_ha[i]), 6)
        out.append(row)
    return out
