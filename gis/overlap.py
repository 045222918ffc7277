"""Overlaps: between the parcels of one project, and against every parcel of every other project
(double counting). An STRtree bulk query finds candidate pairs in C; intersection areas are computed for
those pairs only, on the equal-area projection. Touching parcels (shared edges) intersect with zero area;
`tolerance_m2` ignores slivers from digitising."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .area import ALBERS_CHINA


def _equal_area(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.make_valid(gdf.to_crs(ALBERS_CHINA).geometry.values)


def find(parcels: gpd.GeoDataFrame, others: gpd.GeoDataFrame | None = None, tolerance_m2: float = 1.0) -> list[dict]:
    """Pairs whose common area exceeds the tolerance. `others` carries columns project and parcel_id; without
    it, the parcels are checked against each other."""
    a = _equal_area(parcels)
    b = a if others is None else _equal_area(others)
    tree = shapely.STRtree(b)
    left, right = tree.query(a, predicate="intersects")
    if others is None:
        keep = left < right
        left, right = left[keep], right[keep]
    if not len(left):
        return []
    inter = shapely.area(shapely.intersection(a[left], b[right]))
    area_a, area_b = shapely.area(a), shapely.area(b)
    out = []
    ids_a = list(parcels["parcel_id"])
    ids_b = ids_a if others is None else list(others["parcel_id"])
    projects_b = None if others is None else list(others["project"])
    for i, j, x in zip(left, right, inter):
        if x <= tolerance_m2:
            continue
        row = {"parcel_id": ids_a[i], "other_parcel_id": ids_b[j], "overlap_m2": round(float(x), 2),
               "share_of_parcel": round(float(x / area_a[i]), 6) if area_a[i] else None,
               "share_of_other": round(float(x / area_b[j]), 6) if area_b[j] else None}
        if projects_b is not None:
            row["other_project"] = projects_b[j]
        out.append(row)
    return out
