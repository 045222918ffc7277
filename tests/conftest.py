"""Fixtures: every database test runs on SQLite and on PostgreSQL (127.0.0.1:5432, user postgres, trust).
Each run creates and drops its own PostgreSQL database. With CI=true an unreachable PostgreSQL fails the
run instead of skipping; the summary names the databases tested."""
from __future__ import annotations

import os
import uuid

os.environ.setdefault("CCER_FAST_HASH", "1")  # cheap argon2 parameters for the many test users (passwords.py)
os.environ.setdefault("CCER_RATE_LIMITS", "0")  # the suite logs in a lot; tests/test_web_security.py turns them on

import pytest
from sqlalchemy import create_engine, text

from ccer import create_app, load_models

from ccer.infra import migrate
from ccer.auth import services
from ccer.infra.db import Base, make_engine, make_session_factory
from ccer.infra.actor import Actor
from ccer.ledger import GENESIS

PG_ADMIN_URL = os.environ.get("CCER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TESTED: set[str] = set()
SYSTEM = Actor.system("test")


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        migrate.upgrade(url)
        TESTED.add("sqlite")
        yield url
        return
    why = _pg_available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable and CI=true: {why}")
        pytest.skip(f"PostgreSQL unreachable: {why}")
    name = f"ccer_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(url)
        TESTED.add("postgresql")
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(db_url):
    load_models()
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _wipe(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
        conn.execute(text("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS})
    from ccer.reference import services as reference

    reference.forget()  # the reference data installed from the emptied tables is looked at again


@pytest.fixture()
def session(engine):
    _wipe(engine)
    s = make_session_factory(engine)()
    yield s
    s.close()


@pytest.fixture()
def app(db_url, session, tmp_path):
    application = create_app({"database_url": db_url, "secret_key": "test", "instance_path": tmp_path})
    application.config["TESTING"] = True
    yield application
    application.extensions["ccer.engine"].dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


# ---- helpers ---------------------------------------------------------------------------------------------

# Real 统一社会信用代码 of well-known companies, as printed on their public business licences.
REAL_USCC = {
    "9144030071526726XG": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "911000001000013428": "中国银行股份有限公司",
    "91330100799655058B": "阿里巴巴（中国）有限公司",
    "91110108551385082Q": "北京小米科技有限责任公司",
}


class Parties:
    """Makes organisations and users with valid demo codes."""

    def __init__(self, session):
        self.session = session
        self.n = 0

    def org(self, roles, name=None, sectors=None, **kw):
        from ccer.demo import demo_uscc

        self.n += 1
        name = name or f"测试机构{self.n}"
        return services.create_organisation(self.session, SYSTEM, uscc_code=demo_uscc(name, "北京"), name=name,
                                            roles=list(roles), accredited_sectors=sectors, **kw)

    def user(self, org, roles=None, username=None):
        self.n += 1
        return services.create_user(self.session, SYSTEM, username=username or f"user{self.n}", password="correct-horse-battery",
                                    organisation_id=org.id, roles=list(roles or org.role_names))

    def actor(self, user):
        return services.actor_for(user)


@pytest.fixture()
def parties(session):
    return Parties(session)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"databases tested: {', '.join(sorted(TESTED)) or 'none'}")
