"""Vector tiles of the sink projects' parcels (Mapbox Vector Tile 2.1, 4096 units, 64 units of buffer).

Public: the parcels of every publicised, validated, applied-for or registered afforestation / mangrove
project (never a draft: a design document is public from its publicity on, Measures Art. 12). The VVBs and
the registry also get each parcel's flags (invalid geometry, ineligible land, overlap with another project's
parcel, from the stored boundary check) and a layer of the overlaps between projects' parcels in the tile
(Measures Art. 48). PostgreSQL builds the tile in the database (ST_AsMVTGeom / ST_AsMVT over the GiST
index); SQLite builds the same layers in Python (R*Tree of boxes, shapely, mapbox-vector-tile)."""
from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..infra.errors import NotFound
from ..projects.boundaries import SINK_METHODOLOGIES

#: statuses whose parcels are on the public map: publicised and after, neither refused nor withdrawn to draft
PUBLIC_STATUSES = ("publicity", "validated", "applied", "returned", "registered")
EXTENT, BUFFER = 4096, 64
#: below this zoom a tile holds each project's footprint (the convex hull of its parcels) instead of its parcels:
#: at zoom 11 a 2-ha parcel is 3–4 screen pixels across, and a tile of a dense project area carries thousands
PARCELS_FROM_ZOOM = 12
MAX_ZOOM = 22
HALF = 20037508.342789244  # half the Web Mercator world (EPSG:3857), metres


def bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's Web Mercator box (minx, miny, maxx, maxy); a tile off the z/x/y pyramid is not found."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise NotFound(f"no tile {z}/{x}/{y}: zoom 0–{MAX_ZOOM}, x and y 0–2^zoom − 1", field="tile")
    size = 2 * HALF / 2 ** z
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


def _lonlat(mx: float, my: float) -> tuple[float, float]:
    return math.degrees(mx / 6378137.0), math.degrees(2 * math.atan(math.exp(my / 6378137.0)) - math.pi / 2)


def tile(session: Session, z: int, x: int, y: int, privileged: bool = False) -> bytes:
    box = bounds(z, x, y)
    postgres = session.get_bind().dialect.name == "postgresql"
    if z < PARCELS_FROM_ZOOM:
        return _footprints_postgis(session, z, x, y) if postgres else _footprints_python(session, box)
    if postgres:
        return _postgis(session, z, x, y, privileged)
    return _python(session, box, privileged)


def _footprints_postgis(session: Session, z: int, x: int, y: int) -> bytes:
    from sqlalchemy import bindparam

    sql = (f"WITH t AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b), "
           f"near AS MATERIALIZED (SELECT f.* FROM t, project_footprints f "
           f"WHERE f.geom_3857 && ST_Expand(t.b, (ST_XMax(t.b) - ST_XMin(t.b)) * {BUFFER / EXTENT})), "
           f"pub AS MATERIALIZED (SELECT f.* FROM near f JOIN projects pr ON pr.id = f.project_id WHERE pr.status IN :statuses "
           f"AND pr.methodology_code IN :sinks), "
           f"rows AS (SELECT ST_AsMVTGeom(f.geom_3857, t.b, {EXTENT}, {BUFFER}, true) AS geom, f.project_id, f.parcels "
           f"FROM t, pub f) "
           f"SELECT ST_AsMVT(rows, 'projects', {EXTENT}, 'geom') FROM rows WHERE rows.geom IS NOT NULL")
    stmt = text(sql).bindparams(bindparam("statuses", expanding=True), bindparam("sinks", expanding=True))
    return bytes(session.execute(stmt, {"z": z, "x": x, "y": y, "statuses": PUBLIC_STATUSES, "sinks": SINK_METHODOLOGIES})
                 .scalar() or b"")


def _footprints_python(session: Session, box) -> bytes:
    import shapely
    from sqlalchemy import bindparam

    rows = session.execute(text(
        "SELECT f.project_id, f.parcels, f.wkb FROM project_footprints f JOIN projects pr ON pr.id = f.project_id "
        "WHERE pr.status IN :statuses AND pr.methodology_code IN :sinks ORDER BY f.project_id")
        .bindparams(bindparam("statuses", expanding=True), bindparam("sinks", expanding=True)),
        {"statuses": PUBLIC_STATUSES, "sinks": SINK_METHODOLOGIES}).all()
    feats = [{"geometry": shapely.transform(shapely.from_wkb(bytes(r[2])), _mercator),
              "properties": {"project_id": r[0], "parcels": r[1]}} for r in rows]
    return _encode([{"name": "projects", "features": feats}], box)


def _mercator(xy):
    import numpy as np

    lon, lat = np.radians(xy[:, 0]), np.radians(np.clip(xy[:, 1], -85.0511, 85.0511))
    return np.column_stack([6378137.0 * lon, 6378137.0 * np.log(np.tan(np.pi / 4 + lat / 2))])


def _encode(layers: list[dict], box) -> bytes:
    """Clip to the buffered tile, scale into tile units (y up: the encoder flips it) and encode."""
    import mapbox_vector_tile
    import shapely

    minx, miny, maxx, maxy = box
    pad = (maxx - minx) * BUFFER / EXTENT
    scale_x, scale_y = EXTENT / (maxx - minx), EXTENT / (maxy - miny)
    out = []
    for layer in layers:
        feats = []
        for f in layer["features"]:
            g = shapely.clip_by_rect(shapely.make_valid(f["geometry"]), minx - pad, miny - pad, maxx + pad, maxy + pad)
            if not g.is_empty:
                feats.append({"geometry": shapely.transform(g, lambda xy: (xy - (minx, miny)) * (scale_x, scale_y)),
                              "properties": f["properties"]})
        if feats:
            out.append({"name": layer["name"], "features": feats})
    return mapbox_vector_tile.encode(out, default_options={"extents": EXTENT}) if out else b""


_FILTER = ("JOIN projects pr ON pr.id = p.project_id WHERE pr.status IN :statuses AND pr.methodology_code IN :sinks")


def _postgis(session: Session, z: int, x: int, y: int, privileged: bool) -> bytes:
    from sqlalchemy import bindparam

    params = {"z": z, "x": x, "y": y, "statuses": PUBLIC_STATUSES, "sinks": SINK_METHODOLOGIES}
    # the tile with its buffer, in the parcels' CRS, for the GiST index (&&)
    near = f"p.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4490)"
    # only parcels crossing the tile's edge are clipped (`@`: box inside box), which saves a third of the work
    mvt = f"ST_AsMVTGeom({{g}}, t.b, {EXTENT}, {BUFFER}, NOT ({{g}} @ t.b))"
    # a parcel inside the tile needs no clipping: scaled into tile units, snapped to them, rings wound as ST_AsMVTGeom
    # winds them — a sixth of ST_AsMVTGeom's cost (~30 µs a parcel, which made a dense zoom-12 tile ~50–90 ms)
    inside = ("ST_ForcePolygonCCW(ST_RemoveRepeatedPoints(ST_SnapToGrid(ST_Affine(p.geom_3857, t.s, 0, 0, -t.s, "
              "-t.x0 * t.s, t.y1 * t.s), 1)))")
    parcel_geom = f"CASE WHEN p.geom_3857 @ t.b THEN {inside} ELSE {mvt.format(g='p.geom_3857')} END"
    tile_cte = (f"t AS (SELECT b, {EXTENT} / (ST_XMax(b) - ST_XMin(b)) AS s, ST_XMin(b) AS x0, ST_YMax(b) AS y1 "
                f"FROM (SELECT ST_TileEnvelope(:z, :x, :y) AS b) e)")
    # the parcels near the tile first, from the GiST index alone, then their projects by key, each step
    # MATERIALIZED: otherwise the planner may probe the index once per public project, or push ST_AsMVTGeom
    # into a join's inner loop (seen at a thousand projects: 1–10 s a tile)
    public = (f"near AS MATERIALIZED (SELECT p.id, p.project_id, p.parcel_id, p.flags, p.geom, p.geom_3857 "
              f"FROM project_parcels p WHERE {near}), "
              f"pub AS MATERIALIZED (SELECT n.* FROM near n JOIN projects pr ON pr.id = n.project_id "
              f"WHERE pr.status IN :statuses AND pr.methodology_code IN :sinks)")
    parcels = (f"WITH {tile_cte}, {public}, "
               f"rows AS (SELECT {parcel_geom} AS geom, p.project_id, p.parcel_id"
               f"{', p.flags' if privileged else ''} FROM t, pub p) "
               f"SELECT ST_AsMVT(rows, 'parcels', {EXTENT}, 'geom') FROM rows WHERE rows.geom IS NOT NULL")
    # the tile's public parcels against every other project's stored parcel; a pair of two public parcels once
    common = "ST_Transform(ST_CollectionExtract(ST_Intersection(ST_MakeValid(a.geom), ST_MakeValid(b.geom)), 3), 3857)"
    overlaps = (f"WITH t AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b), {public}, "
                f"rows AS (SELECT {mvt.format(g=common)} AS geom, a.project_id, a.parcel_id, b.project_id AS other_project, "
                f"b.parcel_id AS other_parcel_id FROM t, pub a JOIN project_parcels b ON a.geom && b.geom "
                f"AND a.project_id <> b.project_id WHERE (b.project_id > a.project_id OR b.id NOT IN (SELECT id FROM pub)) "
                f"AND ST_Intersects(a.geom, b.geom)) "
                f"SELECT ST_AsMVT(rows, 'overlaps', {EXTENT}, 'geom') FROM rows WHERE rows.geom IS NOT NULL")
    out = b""
    for sql in [parcels] + ([overlaps] if privileged else []):
        stmt = text(sql).bindparams(bindparam("statuses", expanding=True), bindparam("sinks", expanding=True))
        out += bytes(session.execute(stmt, params).scalar() or b"")
    return out


def _python(session: Session, box, privileged: bool) -> bytes:
    import shapely
    from sqlalchemy import bindparam

    minx, miny, maxx, maxy = box
    pad = (maxx - minx) * BUFFER / EXTENT
    lon0, lat0 = _lonlat(minx - pad, miny - pad)
    lon1, lat1 = _lonlat(maxx + pad, maxy + pad)
    rows = session.execute(text(
        "SELECT p.id, p.project_id, p.parcel_id, p.wkb, p.flags FROM parcel_boxes r JOIN project_parcels p ON p.id = r.id "
        f"{_FILTER} AND r.min_lon <= :lon1 AND r.max_lon >= :lon0 AND r.min_lat <= :lat1 AND r.max_lat >= :lat0 ORDER BY p.id")
        .bindparams(bindparam("statuses", expanding=True), bindparam("sinks", expanding=True)),
        {"statuses": PUBLIC_STATUSES, "sinks": SINK_METHODOLOGIES, "lon0": lon0, "lat0": lat0, "lon1": lon1, "lat1": lat1}).all()
    if not rows:
        return b""
    merc = shapely.transform(shapely.from_wkb([bytes(r[3]) for r in rows]), _mercator)
    feats = []
    for r, g in zip(rows, merc):
        props = {"project_id": r[1], "parcel_id": r[2]}
        if privileged and r[4]:
            props["flags"] = r[4]
        feats.append({"geometry": g, "properties": props})
    layers = [{"name": "parcels", "features": feats}]
    if privileged:
        layers.append({"name": "overlaps", "features": _overlaps(session, rows)})
    return _encode(layers, box)


def _overlaps(session: Session, rows) -> list[dict]:
    """Overlaps of the tile's public parcels with other projects' stored parcels (any status but their own)."""
    import shapely

    from ..projects.boundaries import registry_parcels
    import geopandas as gpd

    public = gpd.GeoDataFrame({"project": [r[1] for r in rows], "parcel_id": [r[2] for r in rows]},
                              geometry=shapely.from_wkb([bytes(r[3]) for r in rows]), crs=4326)
    others = registry_parcels(session, public)
    if others.empty:
        return []
    tree = shapely.STRtree(others.geometry.values)
    left, right = tree.query(public.geometry.values, predicate="intersects")
    out = []
    seen_public = set(zip(public["project"], public["parcel_id"]))
    for i, j in zip(left.tolist(), right.tolist()):
        pa, pb = public["project"].iat[i], others["project"].iat[j]
        if pa == pb or (pb < pa and (pb, others["parcel_id"].iat[j]) in seen_public):
            continue  # one project's own parcels; a pair between two public parcels is drawn once
        inter = shapely.intersection(shapely.make_valid(public.geometry.values[i]), shapely.make_valid(others.geometry.values[j]))
        inter = shapely.get_parts(inter)
        polys = [p for p in inter if shapely.get_type_id(p) in (3, 6)]
        if not polys:
            continue
        g = shapely.transform(shapely.multipolygons(polys), _mercator)
        if not g.is_empty:
            out.append({"geometry": g, "properties": {"project_id": int(pa), "parcel_id": public["parcel_id"].iat[i],
                                                      "other_project": int(pb), "other_parcel_id": others["parcel_id"].iat[j]}})
    return out
