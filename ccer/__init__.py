"""ccer — an open platform for the whole life of projects in China's voluntary carbon market."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:
    from flask import Flask

# Flask and SQLAlchemy are imported where they are used, so that commands which need neither (`ccer gis …`,
# `ccer calendar …`) start quickly.
#: the package folder: templates, migrations and demo data travel inside it (a built wheel needs no source tree)
PACKAGE = Path(__file__).resolve().parent
__version__ = "0.1.0"


def load_models() -> None:
    """Import every module that defines tables or event subjects, so metadata and the chain are complete."""
    from . import clock, ledger  # noqa: F401
    from .auth import makerchecker, models, services  # noqa: F401
    from .projects import models as project_models, services as project_services  # noqa: F401
    from .projects import boundaries, comments, lifecycle, monitoring  # noqa: F401
    from .validation import models as validation_models, services as validation_services  # noqa: F401
    from . import proposals  # noqa: F401
    from .issuance import accounts, invariants, models as registry_models, retirements, services as registry_services, trading  # noqa: F401
    from .issuance import fraud, issuing  # noqa: F401
    from .market import accounts as market_accounts, instruments as market_instruments, orders, settlement  # noqa: F401
    from .market import auctions, blocks, disputes, risk  # noqa: F401


def create_app(config: dict | None = None) -> "Flask":
    """The app factory. `config` overrides the environment (database_url, secret_key, instance_path, …)."""
    from flask import Flask

    from .db import make_engine, make_session_factory

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
    )
    app.json.ensure_ascii = False
    engine = make_engine(settings.database_url)
    app.extensions["ccer.engine"] = engine
    app.extensions["ccer.sessions"] = make_session_factory(engine)

    from .api import init_api
    from .issuance.views import bp as registry_bp
    from .projects.views import bp as projects_bp
    from .requests import close_session
    from .web import bp as web_bp

    app.teardown_appcontext(close_session)
    init_api(app)
    app.register_blueprint(web_bp)
    app.register_blueprint(registry_bp)
    app.register_blueprint(projects_bp)
    return app
