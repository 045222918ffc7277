"""Documents rendered from structured data: HTML from the templates in templates/documents/, and PDF from
that HTML with WeasyPrint. Chinese text is set in Noto CJK (Debian's fonts-noto-cjk, installed by ./dev).
Used for retirement certificates now, and for design documents and reports."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def render_html(template: str, **context) -> str:
    return _env.get_template(template).render(**context)


def to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def qr_svg_data_uri(url: str) -> str:
    """A QR code for `url` as an SVG data URI (segno: pure Python, no image libraries)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)
