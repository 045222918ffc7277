"""The same check on a Dask cluster (dask.distributed) when the parcels or rasters are many: parcels are
partitioned by the raster tile their centroid falls in (so each worker reads few tiles), each partition
is measured independently, and the rows are put back in file order — the result is identical to the
single-process check. Geometry and the overlap self-join stay on the client (they are fast in GEOS)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio

from . import checks, zonal


def partitions(parcels: gpd.GeoDataFrame, raster: str | Path, tile_px: int = 1024, nodata=None) -> list[np.ndarray]:
    """Row indexes of the parcels grouped by the raster tile of their centroid."""
    grid = zonal.open_grid(raster, nodata)
    pts = parcels.to_crs(grid.crs).geometry.representative_point()
    rows, cols = rasterio.transform.rowcol(grid.transform, pts.x.values, pts.y.values)
    keys = (np.floor(np.asarray(rows) / tile_px).astype(np.int64) * 1_000_003 + np.floor(np.asarray(cols) / tile_px).astype(np.int64))
    return [np.flatnonzero(keys == k) for k in np.unique(keys)]


def measure_on(client, tile_px: int = 1024):
    """A `measure_fn` for checks.check that runs on the given dask.distributed Client."""
    def run(parcels: gpd.GeoDataFrame, rasters, options: checks.Options):
        if parcels.empty:
            return []
        parts = partitions(parcels, rasters[0], tile_px, options.nodata)
        futures = client.map(checks.measure, [parcels.iloc[idx].reset_index(drop=True) for idx in parts],
                             rasters=[str(r) for r in rasters], options=options, pure=False)
        by_id = {r.parcel_id: r for rows in client.gather(futures) for r in rows}
        return [by_id[pid] for pid in parcels["parcel_id"]]
    return run
