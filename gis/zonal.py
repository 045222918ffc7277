"""Class shares and vegetation indices inside parcels, weighted by exact pixel coverage.

exactextract computes, once per parcel and raster grid, which cells the parcel touches and what fraction
of each it covers (`cell_id`, `coverage`); every raster on that grid — each land-cover epoch, the red and
near-infrared bands — is then read once and reduced for all parcels at the same time with numpy
(gis.md §2: cache coverage weights per parcel across monitoring dates). Parcels are reprojected to the
raster's CRS; raster values are never resampled. Nodata cells are left out of the shares, and the share of
the parcel that had valid data is reported, so a parcel partly off the raster is visible.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from rasterio.windows import Window

from .errors import GisError


@dataclass(frozen=True)
class Grid:
    crs: object
    transform: object
    width: int
    height: int
    nodata: float | None


@dataclass
class Coverage:
    """Per-parcel cells and coverage fractions on one grid, flattened: parcel index, row, col, coverage."""

    grid: Grid
    parcel: np.ndarray
    row: np.ndarray
    col: np.ndarray
    weight: np.ndarray
    #: each parcel's area in cells (its full area, on or off the raster)
    cells: np.ndarray
    n: int


class _WkbFeature(Feature):
    def __init__(self, wkb: bytes, index: int):
        super().__init__()
        self._wkb, self._index = wkb, index

    def geometry(self) -> bytes:
        return self._wkb

    def get(self, name):
        return self._index

    def fields(self):
        return ["index"]


class WkbFeatures(FeatureSource):
    """Parcels handed to exactextract as WKB: its GeoDataFrame source turns every feature into a GeoJSON
    string first, which costs more than the coverage computation itself (3× on 2,000 parcels)."""

    def __init__(self, parcels: gpd.GeoDataFrame):
        super().__init__()
        self._wkb, self._crs = shapely.to_wkb(parcels.geometry.values), parcels.crs

    def count(self) -> int:
        return len(self._wkb)

    def __iter__(self):
        for i, w in enumerate(self._wkb):
            yield _WkbFeature(w, i)

    def srs_wkt(self) -> str:
        return self._crs.to_wkt()


def open_grid(path: str | Path, nodata: float | None = None) -> Grid:
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise GisError(f"{Path(path).name} has no CRS", field="raster")
            nd = ds.nodata if nodata is None else nodata
            if nd is None:
                raise GisError(f"{Path(path).name} declares no nodata value; give one (--nodata)", field="raster")
            return Grid(ds.crs, ds.transform, ds.width, ds.height, nd)
    except rasterio.errors.RasterioIOError as exc:
        raise GisError(f"cannot read {Path(path).name}: {str(exc).splitlines()[0]}", field="raster") from None


def _on_grid(parcels: gpd.GeoDataFrame, raster: str | Path, nodata: float | None):
    """(grid, parcels in the raster's CRS, each parcel's area in cells, which parcels touch the raster);
    refuses a boundary that misses the raster altogether."""
    grid = open_grid(raster, nodata)
    local = parcels.to_crs(grid.crs)
    a, b, _, d, e, _ = grid.transform[:6]
    cells = shapely.area(local.geometry.values) / abs(a * e - b * d)
    left, bottom, right, top = rasterio.transform.array_bounds(grid.height, grid.width, grid.transform)
    hits = shapely.intersects(local.geometry.values, shapely.box(left, bottom, right, top))
    if not hits.any():
        raise GisError(f"no parcel lies on {Path(raster).name} (raster bounds {left:.0f},{bottom:.0f},{right:.0f},{top:.0f} in {grid.crs})",
                       field="raster")
    return grid, local, cells, hits


def coverage(parcels: gpd.GeoDataFrame, raster: str | Path, nodata: float | None = None) -> Coverage:
    """The exact coverage of every parcel on the raster's grid (computed once, reused for every band/epoch)."""
    grid, local, cells, hits = _on_grid(parcels, raster, nodata)
    n = len(local)
    empty = Coverage(grid, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), cells, n)
    sub = local[hits].reset_index(drop=True)
    index = np.flatnonzero(hits)
    df = exact_extract(str(raster), WkbFeatures(sub), ["cell_id", "coverage"], output="pandas", strategy="raster-sequential",
                       max_cells_in_memory=300_000_000)
    # multi-band rasters give one column per band (band_1_cell_id, …): the coverage is the same for all
    cell_col = next(c for c in df.columns if c.endswith("cell_id"))
    cov_col = next(c for c in df.columns if c.endswith("coverage"))
    lengths = np.array([len(x) for x in df[cell_col]], dtype=np.int64)
    if lengths.sum() == 0:
        return empty
    cell = np.concatenate([np.asarray(x, dtype=np.int64) for x in df[cell_col]])
    weight = np.concatenate([np.asarray(x, dtype=np.float64) for x in df[cov_col]])
    parcel = np.repeat(index, lengths)
    return Coverage(grid, parcel, cell // grid.width, cell % grid.width, weight, empty.cells, n)


#: covered cells are read in windows of at most this many rows/columns, so memory stays bounded on national rasters
READ_BLOCK = 2048


def _read(raster: str | Path, cov: Coverage, band: int = 1) -> np.ndarray:
    """The values of the covered cells, read window by window (one window per READ_BLOCK² tile of the grid
    that holds covered cells)."""
    with rasterio.open(raster) as ds:
        if (ds.crs, ds.transform, ds.width, ds.height) != (cov.grid.crs, cov.grid.transform, cov.grid.width, cov.grid.height):
            raise GisError(f"{Path(raster).name} is not on the grid of the first raster; give rasters of one grid per call", field="raster")
        out = np.empty(len(cov.row), dtype=ds.dtypes[band - 1])
        if not len(out):
            return out
        tiles = (cov.row // READ_BLOCK) * (ds.width // READ_BLOCK + 1) + cov.col // READ_BLOCK
        order = np.argsort(tiles, kind="stable")
        for idx in np.split(order, np.flatnonzero(np.diff(tiles[order])) + 1):
            rows, cols = cov.row[idx], cov.col[idx]
            r0, c0 = rows.min(), cols.min()
            data = ds.read(band, window=Window(int(c0), int(r0), int(cols.max() - c0 + 1), int(rows.max() - r0 + 1)))
            out[idx] = data[rows - r0, cols - c0]
    return out


def class_shares(raster: str | Path, cov: Coverage, band: int = 1) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """({class: share of the parcel's valid area}, share of the parcel with valid data) for every parcel."""
    values = _read(raster, cov, band)
    valid = values != cov.grid.nodata
    if np.issubdtype(values.dtype, np.floating):
        valid &= ~np.isnan(values)
    w = np.where(valid, cov.weight, 0.0)
    valid_cells = np.bincount(cov.parcel, weights=w, minlength=cov.n)
    shares = {}
    for k in np.unique(values[valid]):
        s = np.bincount(cov.parcel, weights=np.where(values == k, w, 0.0), minlength=cov.n)
        shares[int(k)] = np.divide(s, valid_cells, out=np.zeros(cov.n), where=valid_cells > 0)
    on_raster = np.divide(valid_cells, cov.cells, out=np.zeros(cov.n), where=cov.cells > 0)
    return shares, np.clip(on_raster, 0, 1)


def class_shares_once(parcels: gpd.GeoDataFrame, raster: str | Path, nodata: float | None = None) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """The same answer as `class_shares(raster, coverage(...))` for a raster read only once: exactextract's
    own `unique`/`frac`/`count`, each raster block decompressed once (strategy raster-sequential)."""
    _grid, local, cells, _hits = _on_grid(parcels, raster, nodata)
    if nodata is not None:
        raise GisError("a nodata override needs the coverage path; use class_shares(raster, coverage(...))", field="nodata")
    df = exact_extract(str(raster), WkbFeatures(local), ["unique", "frac", "count"], output="pandas", strategy="raster-sequential",
                       max_cells_in_memory=300_000_000)
    n = len(local)
    lengths = np.fromiter((len(u) for u in df["unique"]), dtype=np.int64, count=n)
    values = np.concatenate([np.asarray(u) for u in df["unique"]]) if lengths.sum() else np.empty(0)
    fracs = np.concatenate([np.asarray(f, dtype=np.float64) for f in df["frac"]]) if lengths.sum() else np.empty(0)
    parcel = np.repeat(np.arange(n), lengths)
    shares: dict[int, np.ndarray] = {}
    for k in np.unique(values):
        share = np.zeros(n)
        hit = values == k
        share[parcel[hit]] = fracs[hit]
        shares[int(k)] = share
    valid = np.divide(df["count"].to_numpy(dtype=float), cells, out=np.zeros(n), where=cells > 0)
    return shares, np.clip(valid, 0, 1)


def share_of(shares: dict[int, np.ndarray], classes, n: int) -> np.ndarray:
    out = np.zeros(n)
    for k in classes:
        if k in shares:
            out += shares[k]
    return out


def ndvi(raster: str | Path, cov: Coverage, red_band: int, nir_band: int) -> np.ndarray:
    """Coverage-weighted mean NDVI = (NIR − red) / (NIR + red) per parcel (NaN where no valid cell)."""
    red = _read(raster, cov, red_band).astype(np.float64)
    nir = _read(raster, cov, nir_band).astype(np.float64)
    nd = cov.grid.nodata
    valid = (red != nd) & (nir != nd) & ((nir + red) != 0) & ~np.isnan(red) & ~np.isnan(nir)
    index = np.divide(nir - red, nir + red, out=np.zeros_like(red), where=valid)
    w = np.where(valid, cov.weight, 0.0)
    total = np.bincount(cov.parcel, weights=w, minlength=cov.n)
    s = np.bincount(cov.parcel, weights=w * index, minlength=cov.n)
    return np.divide(s, total, out=np.full(cov.n, np.nan), where=total > 0)
