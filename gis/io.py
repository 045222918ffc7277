"""Boundaries in: GeoJSON, KML, zipped Shapefile, GeoPackage (pyogrio, Arrow-backed), with the parcel id from
an attribute and the CRS from the file. A file without a CRS is refused unless one is given; geographic
coordinates with fewer than 6 decimals draw a warning per parcel (the methodologies ask for ≥ 6, §8.2)."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from .errors import GisError

#: CRS the platform expects boundaries in (others are accepted and reprojected, with a warning)
EXPECTED = {4326: "WGS 84", 4490: "CGCS2000"}
EXPECTED.update({code: "CGCS2000 / Gauss-Krüger 6° zone" for code in range(4491, 4513)})
EXPECTED.update({code: "CGCS2000 / Gauss-Krüger 3° zone" for code in range(4513, 4555)})
MAX_BYTES = 2_000_000_000
MIN_DECIMALS = 6
#: the largest coordinate magnitude taken for a position on Earth: degrees in a geographic CRS, metres otherwise
#: (a Gauss–Krüger easting with its zone prefix is below 5 × 10⁷ m)
MAX_DEGREES = (180.0, 90.0)
MAX_METRES = 1e8


@dataclass
class Boundaries:
    """Parcels (parcel_id, geometry) in the file's CRS, and what reading them found."""

    parcels: gpd.GeoDataFrame
    source: str
    warnings: list[dict] = field(default_factory=list)

    @property
    def crs(self) -> CRS:
        return self.parcels.crs



def _crs(text) -> CRS:
    """A coordinate reference system the caller named, or the refusal naming the field."""
    try:
        return CRS.from_user_input(text)
    except Exception as exc:  # pyproj's CRSError, or a TypeError for a value that is no CRS at all
        raise GisError(f"not a coordinate reference system: {str(text)[:80]!r} ({exc.__class__.__name__})", field="crs") from None

def _vsi(path: Path) -> str:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile:
            raise GisError(f"{path.name} is not a readable zip", field="boundary") from None
        if not shps:
            raise GisError(f"{path.name} holds no .shp", field="boundary")
        return f"/vsizip/{path}/{shps[0]}"
    return str(path)


def read(path: str | Path, id_field: str = "parcel_id", crs: str | int | None = None, max_parcels: int | None = None,
         max_vertices: int | None = None) -> Boundaries:
    """The parcels of a boundary file. At most `max_parcels` features are read (one more is the refusal) and at
    most `max_vertices` vertices kept (None: no limit, for the operator's own files); every coordinate must
    be a finite position on Earth in the file's CRS."""
    path = Path(path)
    if not path.exists():
        raise GisError(f"{path} does not exist", field="boundary")
    if path.stat().st_size > MAX_BYTES:
        raise GisError(f"{path.name} is {path.stat().st_size:,} bytes; the limit is {MAX_BYTES:,}", field="boundary")
    if path.suffix.lower() not in (".geojson", ".json", ".kml", ".zip", ".gpkg", ".shp"):
        raise GisError(f"{path.name}: use GeoJSON, KML, a zipped Shapefile or GeoPackage", field="boundary")
    try:
        more = {} if max_parcels is None else {"max_features": max_parcels + 1}
        gdf = gpd.read_file(_vsi(path), engine="pyogrio", use_arrow=True, **more)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError, … for a corrupt file
        raise GisError(f"cannot read {path.name}: {str(exc).splitlines()[0]}", field="boundary") from None
    if gdf.empty:
        raise GisError(f"{path.name} has no features", field="boundary")
    if max_parcels is not None and len(gdf) > max_parcels:
        raise GisError(f"{path.name} holds more than {max_parcels:,} parcels; split the boundary or ask the registry",
                       field="boundary", rule="parcels per boundary upload (CCER_MAX_PARCELS)")
    if max_vertices is not None:
        vertices = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
        if vertices > max_vertices:
            raise GisError(f"{path.name} has {vertices:,} vertices; the limit is {max_vertices:,} (simplify the parcels)",
                           field="boundary", rule="vertices per boundary upload (CCER_MAX_VERTICES)")
    if gdf.crs is None:
        if crs is None:
            raise GisError(f"{path.name} has no CRS; give one (e.g. --crs EPSG:4490)", field="crs")
        gdf = gdf.set_crs(_crs(crs))
    elif crs is not None and _crs(crs) != gdf.crs:
        raise GisError(f"{path.name} says {gdf.crs.to_string()}, the option says {crs}", field="crs")
    _sane_coordinates(path.name, gdf, id_field)
    warnings = []
    epsg = gdf.crs.to_epsg()
    if epsg not in EXPECTED:
        warnings.append({"parcel_id": None, "rule": "CRS", "message": f"CRS {gdf.crs.to_string()} is not WGS 84 / CGCS2000; reprojected"})
    ids = gdf[id_field].astype(str) if id_field in gdf.columns else gdf.index.map(lambda i: f"#{i + 1}")
    if id_field not in gdf.columns:
        warnings.append({"parcel_id": None, "rule": "parcel id", "message": f"no attribute {id_field!r}; parcels numbered #1, #2, … in file order"})
    out = gpd.GeoDataFrame({"parcel_id": list(ids)}, geometry=gdf.geometry.values, crs=gdf.crs)
    if out.crs.is_geographic:
        warnings += _precision_warnings(out)
    return Boundaries(out, path.name, warnings)


def _sane_coordinates(name: str, gdf: gpd.GeoDataFrame, id_field: str) -> None:
    """Every vertex finite and on Earth: a 1e308 or NaN coordinate is refused naming its parcel, before any
    reprojection or area turns it into an overflow."""
    geoms = gdf.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    lim_x, lim_y = MAX_DEGREES if gdf.crs.is_geographic else (MAX_METRES, MAX_METRES)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(bounds).all(axis=1) | (np.abs(bounds[:, [0, 2]]) > lim_x).any(axis=1) | (np.abs(bounds[:, [1, 3]]) > lim_y).any(axis=1)
    if bad.any():
        first = int(np.flatnonzero(present)[np.argmax(bad)])
        pid = gdf[id_field].iloc[first] if id_field in gdf.columns else f"#{first + 1}"
        worst = bounds[int(np.argmax(bad))]
        unit = "°" if gdf.crs.is_geographic else " m"
        raise GisError(f"parcel {pid}: coordinates {worst.tolist()} are not a position on Earth in {gdf.crs.to_string()} "
                       f"(finite, |x| ≤ {lim_x:g}{unit}, |y| ≤ {lim_y:g}{unit}); {int(bad.sum())} parcel(s) affected",
                       field="boundary", rule="coordinate sanity")


def _precision_warnings(gdf: gpd.GeoDataFrame) -> list[dict]:
    """A parcel whose every vertex has ≤ 5 decimals cannot carry the ≥ 6 the methodologies ask for."""
    out = []
    for pid, geom in zip(gdf["parcel_id"], gdf.geometry):
        if geom is None or geom.is_empty:
            continue
        xy = shapely.get_coordinates(geom)
        if np.all(np.abs(np.round(xy, MIN_DECIMALS - 1) - xy) < 1e-12):
            out.append({"parcel_id": pid, "rule": "coordinates ≥ 6 decimals (CCER-01-002-V01 §8.2; methodologies.md §5.2)",
                        "message": "coordinates carry fewer than 6 decimal places", "severity": "warning"})
    return out
