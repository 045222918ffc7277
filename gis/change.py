"""Change over a monitoring period: forest share, or NDVI from red and near-infrared bands, per parcel between
two epochs; parcels losing more than a threshold are flagged as possible reversals. Both epochs must be on
one grid, so the parcels' coverage weights are computed once and reused (zonal.Coverage)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from . import zonal


def forest_change(parcels: gpd.GeoDataFrame, before: str | Path, after: str | Path, forest_classes, max_loss: float = 0.1,
                  nodata: float | None = None) -> list[dict]:
    cov = zonal.coverage(parcels, before, nodata)
    n = len(parcels)
    s0, _ = zonal.class_shares(before, cov)
    s1, _ = zonal.class_shares(after, cov)
    f0, f1 = zonal.share_of(s0, forest_classes, n), zonal.share_of(s1, forest_classes, n)
    return _rows(parcels, f0, f1, max_loss, "forest_fraction")


def ndvi_change(parcels: gpd.GeoDataFrame, before: str | Path, after: str | Path, red_band: int, nir_band: int,
                max_loss: float = 0.1, nodata: float | None = None) -> list[dict]:
    cov = zonal.coverage(parcels, before, nodata)
    return _rows(parcels, zonal.ndvi(before, cov, red_band, nir_band), zonal.ndvi(after, cov, red_band, nir_band), max_loss, "ndvi")


def _rows(parcels, v0: np.ndarray, v1: np.ndarray, max_loss: float, name: str) -> list[dict]:
    out = []
    for pid, a, b in zip(parcels["parcel_id"], v0, v1):
        loss = None if np.isnan(a) or np.isnan(b) else float(a - b)
        out.append({"parcel_id": pid, f"{name}_before": None if np.isnan(a) else round(float(a), 6),
                    f"{name}_after": None if np.isnan(b) else round(float(b), 6),
                    "loss": None if loss is None else round(loss, 6), "flagged": loss is not None and loss > max_loss})
    return out
