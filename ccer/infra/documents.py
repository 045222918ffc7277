"""Documents rendered from structured data: HTML from the templates in templates/documents/, and PDF from
that HTML with WeasyPrint. Chinese text is set in Noto CJK (Debian's fonts-noto-cjk, installed by ./dev).
Used for retirement certificates now, and for design documents and reports."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def render_html(template: str, **context) -> str:
    return _env.get_template(template).render(**context)


def to_pdf(html: str, cache: Path | None = None) -> bytes:
    """The PDF of `html`. With `cache` (a folder), a PDF is rendered once per distinct HTML and kept under the SHA-256
    of that HTML (issue 15: a certificate asked for a thousand times is rendered once); at most CACHE_FILES are kept,
    the oldest dropped first."""
    key = hashlib.sha256(html.encode()).hexdigest()
    if cache is not None:
        hit = cache / f"{key}.pdf"
        if hit.exists():
            return hit.read_bytes()
    from weasyprint import HTML  # heavy import: only when a PDF is made

    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(pdf)
        tmp.replace(cache / f"{key}.pdf")
        _trim(cache)
    return pdf


def pdf_cache(instance: Path | str) -> Path:
    """The instance folder's PDF cache."""
    return Path(instance) / "cache" / "pdf"


#: certificate PDFs kept in the cache (each a few tens of kB)
CACHE_FILES = 2000


def _trim(cache: Path) -> None:
    files = sorted(cache.glob("*.pdf"), key=lambda f: f.stat().st_mtime)
    for old in files[:max(0, len(files) - CACHE_FILES)]:
        old.unlink(missing_ok=True)


def qr_svg_data_uri(url: str) -> str:
    """A QR code for `url` as an SVG data URI (segno: pure Python, no image libraries)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)
