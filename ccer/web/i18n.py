"""Languages of the pages: Chinese (the default) and English (issue 16, item 7).

Page strings are written in Chinese and wrapped in `_()`; each area keeps its English catalogue in its own
`ccer/translations/<lang>/<area>.po` so that areas never edit one file. At start the app merges a language's
catalogues into one compiled `messages.mo` under the instance folder (rebuilt when any source is newer), which
Flask-Babel then reads like any catalogue. The language comes from `?lang=`, then the visitor's choice kept in the
session (POST /language), then Accept-Language, else Chinese. Dates and times are shown in Asia/Shanghai.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale

#: the catalogues travel inside the package (ccer/translations/<lang>/<area>.po)
SOURCES = Path(__file__).resolve().parents[1] / "translations"
#: the page languages, the default first
LANGUAGES = ("zh", "en")
DEFAULT = LANGUAGES[0]
TIMEZONE = "Asia/Shanghai"


def compile_catalogues(target: Path, sources: Path = SOURCES) -> Path:
    """Merge every `<lang>/*.po` under `sources` into `target/<lang>/LC_MESSAGES/messages.mo`. A msgid given
    twice with different translations is an error naming both files: two areas must agree on a shared word."""
    for lang_dir in sorted(p for p in sources.iterdir() if p.is_dir()) if sources.is_dir() else []:
        files = sorted(lang_dir.glob("*.po"))
        out = target / lang_dir.name / "LC_MESSAGES" / "messages.mo"
        if out.exists() and all(f.stat().st_mtime <= out.stat().st_mtime for f in files):
            continue
        merged = Catalog(locale=lang_dir.name)
        origin: dict[str, str] = {}
        for po in files:
            with po.open("rb") as fh:
                for message in read_po(fh, locale=lang_dir.name):
                    if not message.id or not message.string:
                        continue
                    previous = merged.get(message.id)
                    if previous is not None and previous.string != message.string:
                        raise ValueError(f"{po.name}: {message.id!r} is translated differently in {origin[message.id]}")
                    merged.add(message.id, message.string)
                    origin.setdefault(message.id, po.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, merged)
        tmp.replace(out)
    return target


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def current_language() -> str:
    return str(get_locale() or DEFAULT)


def return_path() -> str:
    """Where the language switch sends the visitor back: this page if it was fetched with GET; after a form was
    posted (a path that may answer only POST), the page the form was on, when it is on this site."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    from urllib.parse import urlsplit

    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def init_app(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, LANGUAGES=LANGUAGES, language_return_path=return_path)
    register_language_switch(app)


def _switch_language():
    """POST /language {lang, next}: keep the visitor's choice in the session and go back (same-site paths only)."""
    from flask import abort, redirect

    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400, f"lang: one of {', '.join(LANGUAGES)}")
    session["lang"] = lang
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


def register_language_switch(app: Flask) -> None:
    app.add_url_rule("/language", "language", _switch_language, methods=["POST"])
