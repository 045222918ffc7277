"""Geometry checks per parcel: validity with GEOS's reason and a repaired copy (shapely.make_valid, never buffer(0), which
can drop parts silently) on which the parcel is measured and shown, marked as repaired, never eligible, multipart parcels, holes,
empty geometries, duplicated parcels and duplicated ids."""
from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import shapely


def check(parcels: gpd.GeoDataFrame) -> tuple[dict[str, list[dict]], gpd.GeoSeries]:
    """(issues by parcel id, repaired geometries for display)."""
    issues: dict[str, list[dict]] = defaultdict(list)
    geoms = parcels.geometry.values
    ids = list(parcels["parcel_id"])
    valid = shapely.is_valid(geoms)
    reasons = shapely.is_valid_reason(geoms)
    for pid, geom, ok, reason in zip(ids, geoms, valid, reasons):
        if geom is None or shapely.is_empty(geom):
            issues[pid].append({"rule": "geometry", "message": "empty geometry", "severity": "error"})
            continue
        if shapely.get_type_id(geom) not in (3, 6):  # Polygon, MultiPolygon
            issues[pid].append({"rule": "geometry", "message": f"{geom.geom_type} is not a polygon", "severity": "error"})
            continue
        if not ok:
            issues[pid].append({"rule": "geometry validity", "message": f"invalid: {reason}; measured on its repaired copy (shown as such), never eligible",
                                "severity": "error"})
        parts = shapely.get_num_geometries(geom)
        if parts > 1:
            issues[pid].append({"rule": "multipart", "message": f"{parts} separate parts; each part must meet the minimum area",
                                "severity": "info"})
        holes = sum(shapely.get_num_interior_rings(p) for p in shapely.get_parts(geom))
        if holes:
            issues[pid].append({"rule": "holes", "message": f"{holes} hole(s) excluded from the area", "severity": "info"})
    seen: dict[bytes, str] = {}
    for pid, geom in zip(ids, geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        key = shapely.to_wkb(shapely.normalize(geom))
        if key in seen:
            issues[pid].append({"rule": "duplicate", "message": f"same geometry as parcel {seen[key]}", "severity": "error"})
        else:
            seen[key] = pid
    counts: dict[str, int] = defaultdict(int)
    for pid in ids:
        counts[pid] += 1
    for pid, n in counts.items():
        if n > 1:
            issues[pid].append({"rule": "duplicate id", "message": f"parcel id used {n} times", "severity": "error"})
    repaired = gpd.GeoSeries(shapely.make_valid(geoms), crs=parcels.crs)
    return dict(issues), repaired

