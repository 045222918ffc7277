"""A sink project's boundary in the owner's workspace (issue 16; the routes are in owner.py): upload the parcels (GeoJSON, KML, zipped Shapefile,
GeoPackage), name the registry's reference land-cover rasters, and see the GIS check (ccer/projects/boundaries.py)
drawn on a Leaflet map — parcels coloured by what the check found, the per-parcel issues beside it."""
from __future__ import annotations

import json

from sqlalchemy import select

from ..projects import boundaries
from ..projects.models import ProjectParcel

#: what the GIS reader takes (gis/io.py)
BOUNDARY_TYPES = (".geojson", ".json", ".kml", ".zip", ".gpkg")


def reference_names() -> list[str]:
    """The registry's reference land-cover rasters a project may name (it never uploads its own: gis.md §6)."""
    folder = boundaries.landcover_dir()
    return sorted(p.name for p in folder.glob("*.tif")) if folder.exists() else []


def report_of(session, project_id: int) -> dict | None:
    record = boundaries.latest(session, project_id)
    return json.loads(record.report_json) if record is not None else None


def parcels_geojson(session, project_id: int) -> dict:
    """The project's parcels (WGS 84) with what the check found on each, for the map."""
    from shapely import from_wkb, to_geojson

    report = report_of(session, project_id) or {"parcels": []}
    issues = {r["parcel_id"]: [i["message"] for i in r.get("issues", [])] for r in report["parcels"]}
    rows = session.execute(select(ProjectParcel.parcel_id, ProjectParcel.wkb, ProjectParcel.area_ha, ProjectParcel.flags)
                           .where(ProjectParcel.project_id == project_id).order_by(ProjectParcel.id)).all()
    features = [{"type": "Feature", "geometry": json.loads(to_geojson(from_wkb(wkb))),
                 "properties": {"parcel_id": pid, "area_ha": area, "flags": (flags or "").split(",") if flags else [],
                                "issues": issues.get(pid, [])}} for pid, wkb, area, flags in rows]
    return {"type": "FeatureCollection", "features": features}
