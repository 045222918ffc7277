"""Browser tests (issue 16): Playwright for Python driving Debian's chromium, headless, against the platform served
from a background thread on the embedded SQLite database seeded with the demo's parties (users share the demo
password). Screenshots are kept as test artifacts under `test-artifacts/screenshots/` (see `shot`).

Skipped when chromium or playwright is missing, unless CI=true (then the run fails: `./dev` installs both)."""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CCER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _require_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        why = f"playwright is not installed: {exc}"
    else:
        why = None if shutil.which(CHROMIUM) or Path(CHROMIUM).exists() else f"no chromium at {CHROMIUM}"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests need chromium and playwright and CI=true: {why}")
        pytest.skip(why)


class LiveServer:
    """The platform on a free port; `session()` opens a database session on the same file for in-process setup."""

    def __init__(self, tmp: Path, clock_start=None):
        from werkzeug.serving import make_server

        from ccer import create_app, demo
        from ccer.infra import migrate

        self.database_url = f"sqlite:///{tmp / 'browser.sqlite3'}"
        migrate.upgrade(self.database_url)
        self.app = create_app({"database_url": self.database_url, "instance_path": str(tmp / "instance"),
                               "secret_key": "browser-tests"})
        with self.session() as s:
            if clock_start is not None:  # before the first event: the platform clock never goes back after (NO_REWIND)
                from ccer.infra import clock

                clock.set_time(s, clock_start, freeze=True)
            self.parties = demo.seed_parties(s)
            s.commit()
        self.password = demo.DEMO_PASSWORD
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def session(self):
        return self.app.extensions["ccer.sessions"]()

    def stop(self):
        self._server.shutdown()


# module-scoped: when a module ends, its server thread and the browser's connection end with it, so that later
# tests which fork (the verifier's --jobs, RQ) never fork a process holding another thread's locks
@pytest.fixture(scope="module")
def live_server(request, tmp_path_factory):
    """A module's own server; a module that needs the platform clock at an earlier date than the wall clock names
    it as CLOCK_START, set before the demo parties' first events."""
    _require_browser()
    server = LiveServer(tmp_path_factory.mktemp("browser"), getattr(request.module, "CLOCK_START", None))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test (no cookies carried over), Chinese first as a Chinese user's browser."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def shot(page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact: test-artifacts/screenshots/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, server: LiveServer, username: str, password: str | None = None) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or server.password)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_load_state()


def switch_language(page, lang: str) -> None:
    """Press the layout's language switch (a POST form) — the way a person changes language."""
    page.click(f"header form button[name=lang][value={lang}]")
    page.wait_for_load_state()
