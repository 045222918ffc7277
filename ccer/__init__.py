"""ccer — an open platform for the whole life of projects in China's voluntary carbon market."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .infra.config import Settings

if TYPE_CHECKING:
    from flask import Flask

# Flask and SQLAlchemy are imported where they are used, so that commands which need neither (`ccer gis …`,
# `ccer calendar …`) start quickly.
#: the package folder: templates, migrations and demo data travel inside it (a built wheel needs no source tree)
PACKAGE = Path(__file__).resolve().parent
__version__ = "0.1.0"


_wired = False


def load_models() -> None:
    """Import every package's tables and wire each package once: its event subjects, policy rules and hooks
    are registered by the `wire()` of its `__init__.py`, never as a side effect of importing a module."""
    global _wired
    if _wired:
        return
    from . import auth, issuance, jobs, ledger, market, projects, proposals, validation  # noqa: F401  (clock: its table)
    from .infra import clock  # noqa: F401  (clock: its table)
    from . import reference  # noqa: F401
    from .reference import models as _reference_models  # noqa: F401  (its table)
    from .explorer import indexes  # noqa: F401  (the public explorer's indexes on these tables)
    for package in (ledger, auth, projects, validation, proposals, issuance, market, reference):
        package.wire()
    _wired = True


def create_app(config: dict | None = None) -> "Flask":
    """The app factory. `config` overrides the environment (database_url, secret_key, instance_path, …)."""
    from flask import Flask

    from .infra.db import make_engine, make_session_factory

    settings = Settings.from_env(config)
    load_models()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        CCER_SETTINGS=settings,
        API_TITLE="ccer",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=settings.limits.request_bytes,  # bounded work: 413 beyond it (CCER_MAX_REQUEST_BYTES)
    )
    app.json.ensure_ascii = False
    engine = make_engine(settings.database_url)
    app.extensions["ccer.engine"] = engine
    app.extensions["ccer.sessions"] = make_session_factory(engine)

    from .api import init_api
    from .issuance.views import bp as registry_bp
    from .projects.views import bp as projects_bp
    from .requests import close_session, refuse_oversized
    from .web import bp as web_bp

    from .web import i18n

    i18n.init_app(app)
    from .reference import web as reference_web

    reference_web.init_app(app)  # reference data installed before each request; the provisional mark
    app.teardown_appcontext(close_session)
    app.before_request(refuse_oversized)
    init_api(app)
    from .web.security import init_security

    init_security(app)  # CSRF, rate limits, security headers, cookie flags (issue 15)
    app.register_blueprint(web_bp)
    from . import explorer

    explorer.init_app(app)  # the public explorer first: its pages answer GET on /projects/ and /registry/
    app.register_blueprint(registry_bp)
    app.register_blueprint(projects_bp)
    from . import workspace

    app.register_blueprint(workspace.wire())
    from .jobs.views import bp as jobs_bp

    app.register_blueprint(jobs_bp)
    from .maps.views import bp as maps_bp

    app.register_blueprint(maps_bp)  # the public map of sink projects' parcels (/map)
    return app
