"""Project boundaries and their GIS checks, stored: the owner attaches the parcels of a forest-carbon project
with the land-cover rasters of the baseline years; the check (gis/) runs against them and against every
parcel of every other project on the registry, and its report is kept. The lifecycle then refuses to
publicise a sink project whose stored check found ineligible parcels or double-counted land
(CCER-14-001-V01 §4, CCER-14-002-V01 applicability; Measures Art. 48 uniqueness)."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import archives, clock
from ..auth import policy
from ..infra.db import mutating
from ..infra.config import Limits
from ..infra.errors import Conflict, ValidationError
from ..infra.actor import Actor
from ..workflow import Guard
from .models import BoundaryCheck, Project, ProjectFootprint, ProjectParcel

SINK_METHODOLOGIES = ("CCER-14-001-V01", "CCER-14-002-V01")


#: submission parcels whose boxes are looked up in one statement (SQLite: 4 bound values each, under its 32,766)
BOX_CHUNK = 1000


def boxes(parcels):
    """The WGS 84 boxes (min_lon, min_lat, max_lon, max_lat) of parcels in any CRS (empty geometries: NaN)."""
    import shapely

    return shapely.bounds(parcels.to_crs(4326).geometry.values)


def registry_parcels(session: Session, near, exclude_project: int | None = None):
    """The stored parcels of every (other) project whose boxes meet the box of one of the parcels `near` (a
    GeoDataFrame in any CRS), in WGS 84, with their project's id, in storage order — never the whole registry
    (Measures Art. 48: the registry-wide double-counting check). PostgreSQL asks the GiST index of the PostGIS
    column (`&&`), SQLite the R*Tree of boxes; both give the same candidates, and gis.overlap.find then computes
    the exact common areas with its tolerance on these only, so both databases give the same overlaps."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from sqlalchemy import text

    b = boxes(near)
    b = b[np.isfinite(b).all(axis=1)]
    postgres = session.get_bind().dialect.name == "postgresql"
    found: dict[int, tuple] = {}
    for start in range(0, len(b), BOX_CHUNK):
        chunk = b[start:start + BOX_CHUNK]
        if postgres:
            sql = text("SELECT DISTINCT p.id, p.project_id, p.parcel_id, p.wkb FROM project_parcels p "
                       "JOIN unnest(CAST(:x0 AS float8[]), CAST(:y0 AS float8[]), CAST(:x1 AS float8[]), CAST(:y1 AS float8[])) "
                       "AS s(x0, y0, x1, y1) ON p.geom && ST_MakeEnvelope(s.x0, s.y0, s.x1, s.y1, 4490) "
                       "WHERE p.project_id <> :exclude")
            params = {"x0": chunk[:, 0].tolist(), "y0": chunk[:, 1].tolist(), "x1": chunk[:, 2].tolist(),
                      "y1": chunk[:, 3].tolist(), "exclude": -1 if exclude_project is None else exclude_project}
        else:
            values = ", ".join(f"(:a{i}, :b{i}, :c{i}, :d{i})" for i in range(len(chunk)))
            sql = text(f"WITH s(x0, y0, x1, y1) AS (VALUES {values}) "
                       "SELECT DISTINCT p.id, p.project_id, p.parcel_id, p.wkb FROM s "
                       "JOIN parcel_boxes r ON r.min_lon <= s.x1 AND r.max_lon >= s.x0 AND r.min_lat <= s.y1 AND r.max_lat >= s.y0 "
                       "JOIN project_parcels p ON p.id = r.id WHERE p.project_id <> :exclude")
            params = {"exclude": -1 if exclude_project is None else exclude_project}
            for i, (x0, y0, x1, y1) in enumerate(chunk.tolist()):
                params.update({f"a{i}": x0, f"b{i}": y0, f"c{i}": x1, f"d{i}": y1})
        for row in session.execute(sql, params):
            found[row[0]] = row[1:]
    rows = [found[k] for k in sorted(found)]
    return gpd.GeoDataFrame({"project": [r[0] for r in rows], "parcel_id": [r[1] for r in rows]},
                            geometry=shapely.from_wkb([bytes(r[2]) for r in rows]) if rows else [], crs=4326)


def stored_parcels(session: Session, exclude_project: int | None = None):
    """Every stored parcel of every (other) project — the pre-index way, kept only as the benchmark's baseline
    (bench/gis_check.py) and for tests that prove registry_parcels finds the same overlaps."""
    import geopandas as gpd
    import shapely

    stmt = select(ProjectParcel.project_id, ProjectParcel.parcel_id, ProjectParcel.wkb).order_by(ProjectParcel.id)
    if exclude_project is not None:
        stmt = stmt.where(ProjectParcel.project_id != exclude_project)
    rows = session.execute(stmt).all()
    return gpd.GeoDataFrame({"project": [r[0] for r in rows], "parcel_id": [r[1] for r in rows]},
                            geometry=shapely.from_wkb([r[2] for r in rows]) if rows else [], crs=4326)


def parcel_flags(report: dict, parcels, across) -> dict[str, str]:
    """Each parcel's flags from its check: invalid (GEOS found the ring invalid), ineligible, overlap (with
    another project's stored parcel)."""
    flags: dict[str, list[str]] = {}
    for p in report["parcels"]:
        mine = flags.setdefault(p["parcel_id"], [])
        if p.get("repaired") or any(i["rule"] == "geometry validity" for i in p["issues"]):
            mine.append("invalid")
        if not p["eligible"]:
            mine.append("ineligible")
    for pid, n in zip(parcels["parcel_id"], across.per_parcel.tolist() if len(across.per_parcel) else []):
        if n:
            flags.setdefault(pid, []).append("overlap")
    return {pid: ",".join(f) for pid, f in flags.items() if f}


def footprint(geoms) -> bytes:
    """A project's footprint for the map's low zooms: the convex hull of its parcels (WKB, their CRS)."""
    import shapely

    return shapely.to_wkb(shapely.convex_hull(shapely.geometrycollections(list(geoms))))


def parcel_rows(project_id: int, parcels, areas: dict | None = None, flags: dict | None = None) -> list[dict]:
    """The project_parcels rows of a boundary (WKB and box in WGS 84): one place that shapes them, for the
    upload and for bulk loads (COPY in the benchmark)."""
    import shapely

    wgs = parcels.to_crs(4326)
    geoms = wgs.geometry.values
    bb = [[None if v != v else v for v in box] for box in shapely.bounds(geoms).tolist()]  # NaN (empty): no box
    areas, flags = areas or {}, flags or {}
    return [{"project_id": project_id, "parcel_id": str(pid), "wkb": shapely.to_wkb(g), "area_ha": areas.get(pid),
             "min_lon": box[0], "min_lat": box[1], "max_lon": box[2], "max_lat": box[3], "flags": flags.get(pid)}
            for pid, g, box in zip(wgs["parcel_id"], geoms, bb)]


def attachable(session: Session, actor: Actor, project_id: int) -> Project:
    """The project whose boundary `actor` may attach now — asked before the upload is read (a refusal here
    costs nothing: no file parsed, no archive opened)."""
    project = session.get(Project, project_id)
    if project is None:
        raise ValidationError(f"no project {project_id}", field="project_id")
    policy.require(actor, "project.owner", project)
    if project.methodology_code not in SINK_METHODOLOGIES:
        raise ValidationError(f"{project.methodology_code} has no land boundary check; it is for {', '.join(SINK_METHODOLOGIES)}",
                              field="project_id")
    if project.status != "draft":
        raise Conflict(f"the project is {project.status}; the boundary is fixed with the design document", field="status")
    return project


@mutating
def attach(session: Session, actor: Actor, project_id: int, boundary: str | Path, rasters: list[str | Path], options=None,
           id_field: str = "parcel_id", crs: str | None = None, limits: Limits | None = None) -> BoundaryCheck:
    """Store a sink project's parcels and the check of them (draft projects only: the boundary is part of the design).
    Bounded work (`limits`, from the environment by default): a zipped Shapefile's uncompressed size is read from
    its central directory before GDAL opens it; parcels, vertices and the overlaps intersected are capped and
    every coordinate must be a position on Earth; overlap details are listed up to a cap and all are counted."""
    from gis import checks, io, overlap
    from gis.errors import GisError

    project = attachable(session, actor, project_id)
    limits = limits or Limits.from_env()
    if Path(boundary).suffix.lower() == ".zip" and Path(boundary).is_file():
        archives.vet(Path(boundary), field="boundary", max_bytes=limits.archive_bytes, max_members=limits.archive_members)
    try:
        b = io.read(boundary, id_field=id_field, crs=crs, max_parcels=limits.parcels, max_vertices=limits.vertices)
        opts = options or checks.Options(kind="mangrove" if project.methodology_code == "CCER-14-002-V01" else "afforestation",
                                         project_start=project.construction_start, max_overlap_pairs=limits.overlap_details,
                                         max_overlap_work=limits.overlap_work)
        report = checks.check(b, list(rasters), opts)
        others = registry_parcels(session, b.parcels, exclude_project=project.id)
        across = overlap.find(b.parcels, others, max_pairs=limits.overlap_details, max_work=limits.overlap_work) if len(others) else overlap.Pairs()
        report["cross_project_overlaps"] = across
        report["summary"].update(cross_project_overlaps=across.total, cross_project_overlaps_capped=across.capped)
    except GisError as err:
        raise ValidationError(err.message, field=err.field, rule=err.rule) from None
    for old in session.execute(select(ProjectParcel).where(ProjectParcel.project_id == project.id)).scalars():
        session.delete(old)
    areas = {p["parcel_id"]: p["area_ha"] for p in report["parcels"]}
    session.flush()  # the old parcels leave the index before the new ones enter it
    flags = parcel_flags(report, b.parcels, across)
    rows = parcel_rows(project.id, b.parcels, areas, flags)
    session.add_all(ProjectParcel(**row) for row in rows)
    old_footprint = session.get(ProjectFootprint, project.id)
    if old_footprint is not None:
        session.delete(old_footprint)
        session.flush()
    session.add(ProjectFootprint(project_id=project.id, wkb=footprint(b.parcels.to_crs(4326).geometry.values), parcels=len(rows)))
    record = BoundaryCheck(project_id=project.id, report_json=json.dumps(report, ensure_ascii=False, default=str),
                           eligible_parcels=report["summary"]["eligible"], parcels=report["summary"]["parcels"],
                           cross_overlaps=across.total, created_at=clock.now(session))
    session.add(record)
    session.flush()
    ledger.record(session, actor, "boundary.checked", "boundary_check", record.id, {"project_id": project.id})
    return record


def landcover_dir() -> Path:
    """Where the registry keeps its reference land-cover rasters (CCER_LANDCOVER_DIR): projects name them,
    they never upload them (the registry owns the reference data, as Verra's VMD0055 maps do; gis.md §6)."""
    import os

    return Path(os.environ.get("CCER_LANDCOVER_DIR", Path(os.environ.get("CCER_INSTANCE_PATH", "instance")) / "landcover")).resolve()


def reference_rasters(names: list[str]) -> list[Path]:
    folder = landcover_dir()
    out = []
    for name in names:
        path = (folder / name).resolve()
        if path.parent != folder or not path.exists():
            available = ", ".join(sorted(p.name for p in folder.glob("*.tif"))) if folder.exists() else "none"
            raise ValidationError(f"no reference raster {name!r} (available: {available})", field="landcover")
        out.append(path)
    return out


def latest(session: Session, project_id: int) -> BoundaryCheck | None:
    return session.execute(select(BoundaryCheck).where(BoundaryCheck.project_id == project_id)
                           .order_by(BoundaryCheck.id.desc())).scalars().first()


def _land_eligible(session: Session, project: Project, ctx: dict) -> str | None:
    record = latest(session, project.id) if project.methodology_code in SINK_METHODOLOGIES else None
    if record is None:
        return None
    problems = []
    if record.eligible_parcels < record.parcels:
        problems.append(f"{record.parcels - record.eligible_parcels} of {record.parcels} parcels are not eligible")
    if record.cross_overlaps:
        problems.append(f"{record.cross_overlaps} overlap(s) with other projects' parcels")
    return "; ".join(problems) or None


LAND_ELIGIBLE = Guard("parcels eligible by the GIS boundary check", _land_eligible,
                      "CCER-14-001-V01 §4; CCER-14-002-V01 applicability; Measures Art. 48", "boundary")


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_fields("boundary_check", BoundaryCheck, ("project_id", "eligible_parcels", "parcels", "cross_overlaps"))
