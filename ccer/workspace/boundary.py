"""A sink project's boundary in the owner's workspace (issue 16): upload the parcels (GeoJSON, KML, zipped Shapefile,
GeoPackage), name the registry's reference land-cover rasters, and see the GIS check (ccer/projects/boundaries.py)
drawn on a Leaflet map — parcels coloured by what the check found, the per-parcel issues beside it."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..infra.config import Limits
from ..projects import boundaries
from ..projects.models import ProjectParcel
from ..requests import current_actor, db_session
from .access import pages_of
from .blueprint import bp
from .forms import Errors, attempt

#: what the GIS reader takes (gis/io.py)
BOUNDARY_TYPES = (".geojson", ".json", ".kml", ".zip", ".gpkg")


def reference_names() -> list[str]:
    """The registry's reference land-cover rasters a project may name (it never uploads its own: gis.md §6)."""
    folder = boundaries.landcover_dir()
    return sorted(p.name for p in folder.glob("*.tif")) if folder.exists() else []


def report_of(session, project_id: int) -> dict | None:
    record = boundaries.latest(session, project_id)
    return json.loads(record.report_json) if record is not None else None


@bp.post("/owner/projects/<int:project_id>/boundary")
@pages_of("workspace.owner")
def owner_boundary(project_id: int):
    from .owner import _own, _page

    session, actor = db_session(), current_actor()
    p = _own(session, project_id)
    errors = Errors()
    upload = request.files.get("boundary")
    name = Path(upload.filename).name if upload is not None and upload.filename else ""
    names = request.form.getlist("landcover")
    if not name or name in (".", ".."):
        errors["boundary"] = _("请选择边界文件")
    elif Path(name).suffix.lower() not in BOUNDARY_TYPES:
        errors["boundary"] = _("文件类型不受支持：请上传 GeoJSON、KML、压缩的 Shapefile（.zip）或 GeoPackage")
    elif not names:
        errors["landcover"] = _("请选择基准年的参考土地覆盖数据")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            upload.save(path)
            attempt(lambda: boundaries.attach(session, actor, p.id, path, boundaries.reference_rasters(names),
                                              limits=Limits.from_env(), id_field=request.form.get("id_field") or "parcel_id"),
                    errors, {"boundary", "landcover", "status", "id_field"})
    if errors:
        session.refresh(p)
        return _page(p, errors, 422)
    flash(_("已上传项目边界并完成地块检查。"))
    return redirect(url_for("workspace.owner_project", project_id=p.id) + "#boundary")


@bp.get("/owner/projects/<int:project_id>/boundary.geojson")
@pages_of("workspace.owner")
def owner_boundary_geojson(project_id: int):
    """The project's parcels (WGS 84) with what the check found on each, for the map."""
    from shapely import from_wkb, to_geojson

    from .owner import _own

    session = db_session()
    p = _own(session, project_id)
    report = report_of(session, p.id) or {"parcels": []}
    issues = {r["parcel_id"]: [i["message"] for i in r.get("issues", [])] for r in report["parcels"]}
    rows = session.execute(select(ProjectParcel.parcel_id, ProjectParcel.wkb, ProjectParcel.area_ha, ProjectParcel.flags)
                           .where(ProjectParcel.project_id == p.id).order_by(ProjectParcel.id)).all()
    features = [{"type": "Feature", "geometry": json.loads(to_geojson(from_wkb(wkb))),
                 "properties": {"parcel_id": pid, "area_ha": area, "flags": (flags or "").split(",") if flags else [],
                                "issues": issues.get(pid, [])}} for pid, wkb, area, flags in rows]
    return Response(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    mimetype="application/geo+json")
