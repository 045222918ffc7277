"""Public registry pages: totals, retirements, and the page a certificate's QR code opens."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from sqlalchemy import select

from ..infra import documents
from ..requests import db_session
from . import certificates, opendata, retirements
from .models import Retirement
from .purposes import PURPOSES

bp = Blueprint("registry_pages", __name__, url_prefix="/registry")


@bp.get("/")
def index():
    session = db_session()
    recent = session.execute(select(Retirement).order_by(Retirement.id.desc()).limit(20)).scalars().all()
    return render_template("registry/index.html", totals=opendata.totals(session), recent=recent, purposes=PURPOSES)


@bp.get("/retirements/<number>")
def retirement(number):
    session = db_session()
    record = retirements.get_retirement(session, number)
    return render_template("registry/retirement.html", r=record, purpose=PURPOSES[record.purpose],
                           check=certificates.verify_retirement(session, record))


@bp.get("/retirements/<number>.pdf")
def certificate(number):
    session = db_session()
    record = retirements.get_retirement(session, number)
    pdf = certificates.certificate_pdf(session, record, current_app.config["CCER_SETTINGS"].public_url,
                                       cache=documents.pdf_cache(current_app.instance_path))
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{record.number}.pdf"'})
