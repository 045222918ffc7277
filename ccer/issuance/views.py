"""The registry's printable document: a retirement certificate's PDF (Registry Rules Art. 15). The public pages
of the registry — lists, lookup, the page a certificate's QR code opens — are the explorer's
(ccer/explorer/pages.py)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from ..requests import db_session
from . import certificates, retirements

bp = Blueprint("registry_pages", __name__, url_prefix="/registry")


@bp.get("/retirements/<number>.pdf")
def certificate(number):
    session = db_session()
    record = retirements.get_retirement(session, number)
    pdf = certificates.certificate_pdf(session, record, current_app.config["CCER_SETTINGS"].public_url)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{record.number}.pdf"'})
