"""The boundary check of a forest-carbon project: geometry, area, overlaps inside the project, and land
eligibility from one or more land-cover rasters, parcel by parcel, each finding with its rule.

Afforestation (CCER-14-001-V01 §4): land not forest for at least the 3 years before the start (its forest
share stays below `max_forest_share` in every baseline epoch given), not wetland, each contiguous part
≥ 400 m² (667 m² for projects started in or before 2019). Mangroves (CCER-14-002-V01 applicability a):
the parcel lies on tidal flats or retired aquaculture ponds (`site_classes` share ≥ `min_site_share`) and
is not already mangrove. The share thresholds are not fixed by the texts (UNCONFIRMED): they are options,
printed in every report.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import shapely

from . import area, geometry, mosaic, overlap, zonal
from .errors import GisError
from .io import Boundaries

RULES = {
    "non_forest": "CCER-14-001-V01 §4 a): not forest for ≥ 3 years before the start",
    "min_area": "CCER-14-001-V01 §4 c): each contiguous parcel ≥ 400 m² (667 m² if started in or before 2019)",
    "not_wetland": "CCER-14-001-V01 §4 d): not wetland",
    "mangrove_site": "CCER-14-002-V01 applicability a): unvegetated tidal flats or retired aquaculture ponds",
    "already_mangrove": "CCER-14-002-V01 applicability a): creation of mangroves, not existing mangrove",
    "coverage": "land eligibility must be shown for the whole parcel (CCER-14-001-V01 §5.2)",
    "overlap": "uniqueness: no land counted twice (Measures Art. 48)",
}

Progress = Callable[[int, int, str], None]


@dataclass
class Options:
    kind: str = "afforestation"  # or "mangrove"
    forest_classes: tuple[int, ...] = (2,)  # CLCD: 2 forest (gis.md §7 — check against the CLCD paper)
    wetland_classes: tuple[int, ...] = ()
    max_forest_share: float = 0.2
    max_wetland_share: float = 0.2
    site_classes: tuple[int, ...] = ()
    min_site_share: float = 0.5
    mangrove_classes: tuple[int, ...] = ()
    min_valid_share: float = 0.95
    project_start: date | None = None
    nodata: float | None = None
    overlap_tolerance_m2: float = 1.0
    max_overlap_pairs: int | None = overlap.MAX_PAIRS  # pairs listed in the report; all are counted
    max_overlap_work: int | None = None  # pairs intersected before the check is refused (None: no limit)


@dataclass
class ParcelResult:
    parcel_id: str
    area_ha: float | None = None
    area_ha_geodesic: float | None = None
    forest_fraction: float | None = None
    forest_fraction_by_epoch: list[float | None] = field(default_factory=list)
    wetland_fraction: float | None = None
    class_shares: list[dict[str, float]] = field(default_factory=list)
    valid_share: list[float] = field(default_factory=list)
    eligible: bool = False
    #: measured on GEOS's repaired copy (shapely.make_valid) of an invalid parcel: shown, never eligible
    repaired: bool = False
    issues: list[dict] = field(default_factory=list)


def _issue(rule: str, message: str, severity: str = "error") -> dict:
    return {"rule": RULES.get(rule, rule), "message": message, "severity": severity}


def measure(parcels: gpd.GeoDataFrame, rasters: list[str | Path], options: Options) -> list[ParcelResult]:
    """Area and land-cover shares of each parcel (independent per parcel: safe to run on partitions)."""
    results = measure_cover(parcels, rasters, options)
    measure_area(parcels, options, results)
    return results


def measure_area(parcels: gpd.GeoDataFrame, options: Options, results: list[ParcelResult]) -> None:
    """Albers and geodesic area of each parcel, and the minimum contiguous area, into `results`."""
    if parcels.empty:
        return
    albers, geodesic = area.albers_ha(parcels), area.geodesic_ha(parcels)
    equal_area = parcels.to_crs(area.ALBERS_CHINA).geometry.values
    minimum = area.minimum_m2(options.project_start)
    for r, a, g, geom in zip(results, albers, geodesic, equal_area):
        r.area_ha, r.area_ha_geodesic = round(float(a), 6), round(float(g), 6)
        small = area.small_parts(geom, minimum)
        if small:
            r.issues.append(_issue("min_area", f"{len(small)} part(s) below {minimum} m² (smallest {min(small):.1f} m²)"))


def measure_cover(parcels: gpd.GeoDataFrame, rasters: list[str | Path], options: Options) -> list[ParcelResult]:
    """Land-cover shares of each parcel on every raster, with the eligibility findings they support."""
    results = [ParcelResult(pid) for pid in parcels["parcel_id"]]
    if parcels.empty:
        return results
    # rasters sharing a grid share one coverage computation; a raster alone on its grid is reduced in one pass
    grids = {}
    for raster in rasters:
        g = zonal.open_grid(raster, options.nodata)
        grids.setdefault((str(g.crs), tuple(g.transform), g.width, g.height), []).append(raster)
    coverages: dict[tuple, zonal.Coverage] = {}
    for raster in rasters:
        key = next(k for k, members in grids.items() if raster in members)
        if len(grids[key]) == 1 and options.nodata is None:
            shares, valid = zonal.class_shares_once(parcels, raster)
        else:
            if key not in coverages:
                coverages[key] = zonal.coverage(parcels, raster, options.nodata)
            shares, valid = zonal.class_shares(raster, coverages[key])
        n = len(parcels)
        # plain Python lists: the per-parcel loop below only indexes them (numpy scalars cost ~10× more)
        forest = np.round(zonal.share_of(shares, options.forest_classes, n), 6).tolist()
        wet = np.round(zonal.share_of(shares, options.wetland_classes, n), 6).tolist()
        site = zonal.share_of(shares, options.site_classes, n).tolist()
        mangrove = zonal.share_of(shares, options.mangrove_classes, n).tolist()
        valid = np.round(valid, 6).tolist()
        by_class = [(str(k), np.round(v, 6).tolist()) for k, v in sorted(shares.items())]
        name = Path(raster).name
        for i, r in enumerate(results):
            has = valid[i] > 0
            r.valid_share.append(valid[i])
            r.class_shares.append({k: v[i] for k, v in by_class if v[i] > 0})
            r.forest_fraction_by_epoch.append(forest[i] if has else None)
            if not has:
                r.issues.append(_issue("coverage", f"no valid land-cover data on {name}"))
                continue
            if valid[i] < options.min_valid_share:
                r.issues.append(_issue("coverage", f"only {valid[i]:.1%} of the parcel has valid data on {name}"))
            if options.wetland_classes:
                r.wetland_fraction = max(r.wetland_fraction or 0.0, wet[i])
                if wet[i] > options.max_wetland_share:
                    r.issues.append(_issue("not_wetland", f"wetland share {wet[i]:.1%} on {name} (limit {options.max_wetland_share:.0%})"))
            if options.kind == "mangrove":
                if site[i] < options.min_site_share:
                    r.issues.append(_issue("mangrove_site", f"tidal flat / pond share {site[i]:.1%} on {name} (needs {options.min_site_share:.0%})"))
                if options.mangrove_classes and mangrove[i] > options.max_forest_share:
                    r.issues.append(_issue("already_mangrove", f"mangrove share {mangrove[i]:.1%} on {name}"))
            elif forest[i] >= options.max_forest_share:
                r.issues.append(_issue("non_forest", f"forest share {forest[i]:.1%} on {name} (must stay below {options.max_forest_share:.0%})"))
    for r in results:
        known = [f for f in r.forest_fraction_by_epoch if f is not None]
        r.forest_fraction = max(known) if known else None
    return results


def epochs(rasters, results: list[ParcelResult], options: Options) -> list[dict]:
    """Per land-cover epoch: the rule it is checked against and how the parcels fared (the baseline years of
    CCER-14-001-V01 §4 a) are one epoch each; a parcel must pass in every one)."""
    rule = RULES["mangrove_site"] if options.kind == "mangrove" else RULES["non_forest"]
    out = []
    for k, raster in enumerate(rasters):
        shares = [r.forest_fraction_by_epoch[k] for r in results if len(r.forest_fraction_by_epoch) > k]
        known = [f for f in shares if f is not None]
        limit = options.max_forest_share
        out.append({"epoch": k + 1, "raster": Path(raster).name, "rule": rule,
                    "max_forest_share": limit if options.kind != "mangrove" else None,
                    "parcels_measured": len(known), "parcels_without_data": len(shares) - len(known),
                    "parcels_forest_at_or_above_limit": sum(f >= limit for f in known) if options.kind != "mangrove" else None,
                    "mean_forest_share": round(sum(known) / len(known), 6) if known else None})
    return out


def check(boundaries: Boundaries, rasters: list[str | Path], options: Options | None = None,
          progress: Progress | None = None, measure_fn=None) -> dict:
    """The whole check; `measure_fn(parcels, rasters, options)` may run the per-parcel part elsewhere (Dask)."""
    options = options or Options()
    if not rasters:
        raise GisError("give at least one land-cover raster", field="landcover")
    rasters = [mosaic.resolve(r) for r in rasters]  # a folder of tiles becomes its VRT; a VRT's tiles must exist
    for raster in rasters:  # refuse an unreadable raster, or one without CRS or nodata, before any work
        zonal.open_grid(raster, options.nodata)
    mosaic.same_grid(rasters)
    say = progress or (lambda done, total, message: None)
    parcels = boundaries.parcels
    say(0, 4, f"{len(parcels)} parcels: geometry")
    geoms = parcels.geometry.values
    # an invalid parcel is measured on its repaired copy (its validity issue keeps it ineligible); empty and
    # non-polygonal geometries are not measured at all
    invalid = ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    if invalid.any():
        fixed[invalid] = [shapely.multipolygons([p for p in shapely.get_parts(g) if shapely.get_type_id(p) == 3]) if
                          shapely.get_type_id(g) == 7 else g for g in shapely.make_valid(geoms[invalid])]
    measurable = ~shapely.is_empty(fixed) & np.isin(shapely.get_type_id(fixed), (3, 6)) & np.isin(shapely.get_type_id(geoms), (3, 6))
    good = gpd.GeoDataFrame({"parcel_id": parcels["parcel_id"].values[measurable]}, geometry=fixed[measurable], crs=parcels.crs)
    repaired_ids = set(parcels["parcel_id"].values[measurable & invalid])
    say(1, 4, f"{len(good)} measurable parcels: land cover on {len(rasters)} raster(s), overlaps inside the project")
    # the raster pass runs in a thread (exactextract and GDAL release the GIL) while GEOS and PROJ do the rest
    # here; on a cluster (measure_fn) the workers measure areas too
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(measure_fn or measure_cover, good, rasters, options)
        geo_issues, _repaired = geometry.check(parcels)
        pairs = overlap.find(good, tolerance_m2=options.overlap_tolerance_m2, max_pairs=options.max_overlap_pairs,
                             max_work=options.max_overlap_work)
        if measure_fn is None:
            sized = [ParcelResult(pid) for pid in good["parcel_id"]]
            measure_area(good, options, sized)
        rows = future.result()
        if measure_fn is None:
            for r, s in zip(rows, sized):
                r.area_ha, r.area_ha_geodesic, r.issues = s.area_ha, s.area_ha_geodesic, s.issues + r.issues
        measured = {r.parcel_id: r for r in rows}
    say(2, 4, "overlaps done")
    say(3, 4, "eligibility")
    results = []
    for pid in parcels["parcel_id"]:
        r = measured.get(pid) or ParcelResult(pid)
        r.issues = geo_issues.get(pid, []) + r.issues
        results.append(r)
    by_id = {r.parcel_id: r for r in results}
    listed: dict[str, int] = {}
    for p in pairs:
        by_id[p["parcel_id"]].issues.append(_issue("overlap", f"overlaps parcel {p['other_parcel_id']} by {p['overlap_m2']} m²"))
        by_id[p["other_parcel_id"]].issues.append(_issue("overlap", f"overlaps parcel {p['parcel_id']} by {p['overlap_m2']} m²"))
        listed[p["parcel_id"]] = listed.get(p["parcel_id"], 0) + 1
        listed[p["other_parcel_id"]] = listed.get(p["other_parcel_id"], 0) + 1
    if pairs.capped:  # every overlapping parcel is flagged, with its count, though only the first pairs are listed
        for pid, n in zip(good["parcel_id"], pairs.per_parcel.tolist()):
            if n > listed.get(pid, 0):
                by_id[pid].issues.append(_issue("overlap", f"overlaps other parcels of the project in {n:,} pairs in all "
                                                f"(the report lists the first {len(pairs):,} of {pairs.total:,} pairs)"))
    for w in boundaries.warnings:
        if w.get("parcel_id") in by_id:
            by_id[w["parcel_id"]].issues.append(_issue(w["rule"], w["message"], "warning"))
    for r in results:
        r.repaired = r.parcel_id in repaired_ids
        r.eligible = not r.repaired and not any(i["severity"] == "error" for i in r.issues)
    say(4, 4, "done")
    return {
        "source": boundaries.source, "crs": boundaries.crs.to_string(), "rasters": [Path(x).name for x in rasters],
        "options": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(options).items()},
        "warnings": [w for w in boundaries.warnings if w.get("parcel_id") is None],
        "summary": {"parcels": len(results), "eligible": sum(r.eligible for r in results),
                    "area_ha": round(sum(r.area_ha or 0 for r in results), 4),
                    "eligible_area_ha": round(sum(r.area_ha or 0 for r in results if r.eligible), 4),
                    "overlaps": pairs.total, "overlaps_listed": len(pairs), "overlaps_capped": pairs.capped},
        "epochs": epochs(rasters, results, options),
        "parcels": [vars(r).copy() for r in results],
        "overlaps": pairs,
    }
