"""Overlaps: between the parcels of one project, and against every parcel of every other project
(double counting). An STRtree bulk query finds candidate pairs in C; intersection areas are computed for
those pairs only, on the equal-area projection. Touching parcels (shared edges) intersect with zero area;
`tolerance_m2` ignores slivers from digitising.

Bounded work: the tree is queried a slice of parcels at a time, sized so that one slice yields about
`PAIR_BATCH` candidate pairs, so memory stays flat however many parcels overlap (1,000 identical parcels
are 499,500 overlapping pairs). Every overlapping pair is counted — in all and per parcel — but the
details of only the first `max_pairs` are kept; the result says how many there were and whether the list
is capped."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .area import ALBERS_CHINA
from .errors import GisError

#: details kept by default; the platform passes its own (CCER_OVERLAP_DETAILS)
MAX_PAIRS = 1000
#: candidate pairs whose intersections are computed at once (memory: a few hundred bytes each)
PAIR_BATCH = 50_000


class Pairs(list):
    """The overlapping pairs found, in query order, at most `cap` of them (a list of dicts, JSON as a list).

    total      every pair whose common area exceeds the tolerance, listed or not
    capped     True when pairs were left out of the list
    per_parcel how many overlapping pairs each parcel of the checked set is in (numpy array, file order)"""

    def __init__(self, rows=(), total: int = 0, cap: int | None = None, per_parcel: np.ndarray | None = None):
        super().__init__(rows)
        self.total, self.cap = total, cap
        self.per_parcel = per_parcel if per_parcel is not None else np.zeros(0, np.int64)

    @property
    def capped(self) -> bool:
        return self.total > len(self)


def _equal_area(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.make_valid(gdf.to_crs(ALBERS_CHINA).geometry.values)


def _candidates(tree: shapely.STRtree, a: np.ndarray, self_join: bool):
    """Candidate pairs (left, right) in slices of about PAIR_BATCH, in the order one bulk query gives them
    (sorted by the left index)."""
    n, start, rows = len(a), 0, 256
    while start < n:
        stop = min(n, start + rows)
        left, right = tree.query(a[start:stop], predicate="intersects")
        left = left + start
        if self_join:
            keep = left < right
            left, right = left[keep], right[keep]
        for s in range(0, len(left), PAIR_BATCH):
            yield left[s:s + PAIR_BATCH], right[s:s + PAIR_BATCH]
        per_row = max(1.0, len(left) / (stop - start))
        rows = int(min(4096, max(1, PAIR_BATCH / per_row)))
        start = stop


def find(parcels: gpd.GeoDataFrame, others: gpd.GeoDataFrame | None = None, tolerance_m2: float = 1.0,
         max_pairs: int | None = MAX_PAIRS, max_work: int | None = None) -> Pairs:
    """Pairs whose common area exceeds the tolerance. `others` carries columns project and parcel_id; without
    it, the parcels are checked against each other. At most `max_pairs` are listed (None: all); all are counted.

    Listed pairs get their intersection computed exactly. Beyond the list, a pair of identical parcels, or of
    one lying inside the other without touching its edge, overlaps by the smaller one's area (vertex comparison
    and a prepared-geometry test, no overlay), so duplicated and nested parcels cost next to nothing; the
    other pairs are intersected. More than `max_work` intersections (None:
    no limit) refuses the boundary rather than tie up the server."""
    a = _equal_area(parcels)
    b = a if others is None else _equal_area(others)
    per_parcel = np.zeros(len(a), np.int64)
    if not len(a) or not len(b):
        return Pairs([], 0, max_pairs, per_parcel)
    tree = shapely.STRtree(b)
    area_a = shapely.area(a)
    area_b = area_a if others is None else shapely.area(b)
    ids_a = list(parcels["parcel_id"])
    ids_b = ids_a if others is None else list(others["parcel_id"])
    projects_b = None if others is None else list(others["project"])
    out: list[dict] = []
    total = work = 0

    def intersected(left, right):
        nonlocal work
        work += len(left)
        if max_work is not None and work > max_work:
            raise GisError(f"the parcels overlap {'each other' if others is None else 'stored parcels'} in more than "
                           f"{max_work:,} pairs that need their common area computed; fix the boundary before submitting it",
                           field="boundary", rule="bounded work per request (CCER_MAX_OVERLAP_WORK)")
        return shapely.area(shapely.intersection(a[left], b[right]))

    def count(left, right, inter):
        nonlocal total
        hit = inter > tolerance_m2
        left, right, inter = left[hit], right[hit], inter[hit]
        total += len(left)
        per_parcel[:] += np.bincount(left, minlength=len(a))
        if others is None:
            per_parcel[:] += np.bincount(right, minlength=len(a))
        return left, right, inter

    prepared = False
    for left, right in _candidates(tree, a, others is None):
        pos = 0
        while pos < len(left) and (max_pairs is None or len(out) < max_pairs):
            stop = len(left) if max_pairs is None else pos + max(max_pairs - len(out), 1024)
            li, ri, inter = count(left[pos:stop], right[pos:stop], intersected(left[pos:stop], right[pos:stop]))
            room = len(li) if max_pairs is None else max_pairs - len(out)
            for i, j, x in zip(li[:room].tolist(), ri[:room].tolist(), inter[:room].tolist()):
                row = {"parcel_id": ids_a[i], "other_parcel_id": ids_b[j], "overlap_m2": round(x, 2),
                       "share_of_parcel": round(x / float(area_a[i]), 6) if area_a[i] else None,
                       "share_of_other": round(x / float(area_b[j]), 6) if area_b[j] else None}
                if projects_b is not None:
                    row["other_project"] = projects_b[j]
                out.append(row)
            pos = stop
        if pos >= len(left):
            continue
        left, right = left[pos:], right[pos:]
        if not prepared:
            shapely.prepare(a)
            shapely.prepare(b)
            norm_a = shapely.normalize(a)
            norm_b = norm_a if others is None else shapely.normalize(b)
            prepared = True
        same = shapely.equals_exact(norm_a[left], norm_b[right], tolerance=0.0)
        a_covers = same | shapely.contains_properly(a[left], b[right])
        b_covers = ~a_covers & shapely.contains_properly(b[right], a[left])
        inter = np.where(a_covers, area_b[right], area_a[left])
        rest = ~(a_covers | b_covers)
        if rest.any():
            inter[rest] = intersected(left[rest], right[rest])
        count(left, right, inter)
    return Pairs(out, total, max_pairs, per_parcel)
