"""The explorer's pages: thin views over search, record, registry and catalogue. No inline script anywhere (the
Content-Security-Policy): page scripts are static files (static/js/explorer-*.js) reading data- attributes or
the JSON endpoints here."""
from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from .. import ledger
from ..infra import clock
from ..issuance import certificates
from ..issuance.purposes import PURPOSES
from ..methodologies import registry as plugins
from ..projects.models import ProjectParcel
from ..requests import db_session
from . import catalogue, record, registry, search

bp = Blueprint("explorer", __name__)

#: the provincial-level divisions, for the list's province field (the filter takes any text: a listed project
#: may name 新疆生产建设兵团)
PROVINCES = ("北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省", "浙江省", "安徽省",
             "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省",
             "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区", "新疆生产建设兵团")


#: the monthly figures are sums over every issuance and retirement: computed at most once a minute per process
#: (CCER_EXPLORER_FIGURES_SECONDS; 0 computes them on every request, as the test suite does)
_figures: dict = {}


def figures():
    seconds = current_app.config.get("CCER_EXPLORER_FIGURES_SECONDS", 0 if current_app.testing else 60)
    now = time.monotonic()
    kept = _figures.get(id(current_app))
    if seconds and kept and now - kept[0] < seconds:
        return kept[1]
    value = registry.monthly(db_session())
    _figures[id(current_app)] = (now, value)
    return value


@bp.app_template_filter("tco2e")
def _tco2e(n) -> str:
    return "—" if n is None else f"{int(n):,}"


@bp.app_template_filter("local")
def _local(instant, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if instant is None else clock.local(instant).strftime(fmt)


# ---- projects -----------------------------------------------------------------------------------------------


@bp.get("/projects/")
def projects():
    query = search.parse(request.args)
    result = search.page(db_session(), query)
    return render_template("explorer/projects.html", query=query, page=result, statuses=search.STATUSES, sorts=list(search.SORTS),
                           methodologies=list(plugins.installed()), provinces=PROVINCES)


@bp.get("/projects/<int:project_id>")
def project(project_id: int):
    return project_page(project_id)


def project_page(project_id: int, error: str | None = None, error_field: str | None = None, form: dict | None = None, status: int = 200):
    """The project's page; the comment form posts to projects.views and comes back here with its error."""
    if request.args.get("sent") not in (None, "1"):
        raise search.BadParameter("expected 1", field="sent")
    rec = record.load(db_session(), project_id)
    return render_template("explorer/project.html", rec=rec, p=rec.project, purposes=PURPOSES, error=error, error_field=error_field,
                           form=form or {}, sent=request.args.get("sent")), status


@bp.get("/projects/<int:project_id>/boundary.geojson")
def boundary(project_id: int):
    """The project's stored parcels as GeoJSON (WGS 84), for its map."""
    from shapely import from_wkb, to_geojson

    session = db_session()
    record.public_project(session, project_id)
    rows = session.execute(select(ProjectParcel.parcel_id, ProjectParcel.wkb, ProjectParcel.area_ha)
                           .where(ProjectParcel.project_id == project_id).order_by(ProjectParcel.id)).all()
    features = [{"type": "Feature", "properties": {"parcel_id": pid, "area_ha": area},
                 "geometry": json.loads(to_geojson(from_wkb(wkb)))} for pid, wkb, area in rows]
    return Response(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    mimetype="application/geo+json")


@bp.get("/publicity/")
def publicity():
    registry.check_parameters(request.args, ("lang",))
    return render_template("explorer/publicity.html", board=registry.publicity_board(db_session()))


# ---- the registry -------------------------------------------------------------------------------------------


@bp.get("/registry/")
def registry_home():
    registry.check_parameters(request.args, ("lang",))
    session = db_session()
    issued, _ = registry.issuances(session, {})
    retired, _ = registry.retirements(session, {})
    return render_template("explorer/registry.html", figures=figures(), issued=issued[:10], retired=retired[:10],
                           purposes=PURPOSES)


@bp.get("/registry/issuances")
def issuances():
    rows, cursor = registry.issuances(db_session(), request.args)
    return render_template("explorer/issuances.html", rows=rows, cursor=cursor)


@bp.get("/registry/retirements")
def retirements():
    rows, cursor = registry.retirements(db_session(), request.args)
    return render_template("explorer/retirements.html", rows=rows, cursor=cursor, purposes=PURPOSES)


@bp.get("/registry/verify")
def verify():
    """Certificate lookup: a number typed, or the address a certificate's QR code opens."""
    registry.check_parameters(request.args, ("number", "lang"))
    if "number" not in request.args:
        return render_template("explorer/verify.html")
    found = registry.lookup(db_session(), request.args["number"])
    return redirect(url_for("explorer.certificate", number=found.number))


@bp.get("/registry/retirements/<number>")
def certificate(number: str):
    """What a certificate's QR code opens: the retirement checked against the ledger."""
    registry.check_parameters(request.args, ("lang",))
    session = db_session()
    r = registry.lookup(session, number)
    if r.number != number:
        return redirect(url_for("explorer.certificate", number=r.number))
    return render_template("explorer/certificate.html", r=r, purpose=PURPOSES[r.purpose], check=certificates.verify_retirement(session, r))


# ---- methodologies, figures, open data, the ledger ---------------------------------------------------------


@bp.get("/methodologies/")
def methodologies():
    registry.check_parameters(request.args, ("lang",))
    return render_template("explorer/methodologies.html", groups=catalogue.catalogue(db_session()))


@bp.get("/methodologies/<code>")
def methodology(code: str):
    registry.check_parameters(request.args, ("lang",))
    return render_template("explorer/methodology.html", m=catalogue.methodology(db_session(), code))


@bp.get("/statistics/")
def statistics():
    registry.check_parameters(request.args, ("lang",))
    return render_template("explorer/statistics.html", figures=figures())


@bp.get("/statistics/series.json")
def series():
    return jsonify(figures())


@bp.get("/statistics/market.json")
def market():
    return jsonify(registry.market(db_session()))


@bp.get("/open-data/")
def open_data():
    registry.check_parameters(request.args, ("lang",))
    session = db_session()
    rows, _ = registry.issuances(session, {})
    return render_template("explorer/open_data.html", figures=figures(), recent=rows[:10])


def _latest_checkpoint(session):
    return session.execute(select(ledger.Checkpoint).order_by(ledger.Checkpoint.seq.desc()).limit(1)).scalar_one_or_none()


@bp.get("/ledger/")
def ledger_page():
    registry.check_parameters(request.args, ("lang",))
    session = db_session()
    seq, head = ledger.head(session)
    return render_template("explorer/ledger.html", seq=seq, head=head, checkpoint=_latest_checkpoint(session),
                           key=ledger.public_key().as_dict())


@bp.get("/ledger/checkpoint.json")
def checkpoint_download():
    cp = _latest_checkpoint(db_session())
    if cp is None:
        abort(404)
    body = json.dumps(cp.public(), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="ccer-checkpoint-{cp.seq}.json"'})


@bp.get("/ledger/key.json")
def key_download():
    return Response(json.dumps(ledger.public_key().as_dict(), indent=1), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="ccer-registry-key.json"'})

