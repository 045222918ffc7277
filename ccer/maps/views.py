"""/map: the page, its vector tiles and the stand-in outline. Public visitors see the parcels of publicised
and registered sink projects; VVB and registry users also see each parcel's flags and the overlaps between
projects (tiles.py). A tile is cached publicly only when it holds nothing privileged."""
from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, render_template, send_file, url_for

from ..auth.roles import Role
from ..requests import current_actor, db_session
from . import tiles
from .outline import OUTLINE

bp = Blueprint("maps", __name__, url_prefix="/map")

#: roles that see flagged parcels and overlaps (they check and register land: Measures Art. 30–33, 48)
REVIEWERS = frozenset({Role.VVB.value, Role.REGISTRY_OPERATOR.value})
MVT = "application/vnd.mapbox-vector-tile"


def basemap() -> str:
    """CCER_MAP_BASEMAP: an XYZ raster tile URL ({z}/{x}/{y}) or a MapLibre style JSON URL; none by default
    (the platform's machines have no internet: the vendored outline stands in)."""
    return current_app.config.get("CCER_MAP_BASEMAP") or os.environ.get("CCER_MAP_BASEMAP", "")


def reviewer() -> bool:
    return bool(set(current_actor().roles) & REVIEWERS)


@bp.get("/")
def index():
    return render_template("maps/index.html", reviewer=reviewer(), basemap=basemap(),
                           tiles=url_for("maps.index") + "tiles/{z}/{x}/{y}.pbf",
                           outline=url_for("maps.outline"))


@bp.get("/tiles/<int:z>/<int:x>/<int:y>.pbf")
@bp.get("/tiles/<int:z>/<int:x>/<int:y>.pvt")
def tile(z: int, x: int, y: int):
    privileged = reviewer()
    body = tiles.tile(db_session(), z, x, y, privileged=privileged)
    resp = Response(body, mimetype=MVT)
    resp.headers["Cache-Control"] = "private, no-store" if privileged else "public, max-age=300"
    resp.headers["Vary"] = "Cookie, Authorization"
    return resp


@bp.get("/outline.geojson")
def outline():
    resp = send_file(OUTLINE, mimetype="application/geo+json", max_age=86400)
    return resp
