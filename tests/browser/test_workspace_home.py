"""The workspace home in a real browser: login, the role panel, the language switch."""
from __future__ import annotations

from .conftest import login, shot, switch_language


def test_a_registry_user_logs_in_and_sees_the_registry_home_in_both_languages(live_server, page):
    login(page, live_server, "registry")
    page.goto(f"{live_server.url}/workspace/")
    assert page.inner_text("h1") == "我的工作台"
    shot(page, "workspace-home-registry-zh")
    switch_language(page, "en")
    assert page.inner_text("h1") == "My workspace"
    assert page.url.endswith("/workspace/")
    shot(page, "workspace-home-registry-en")


def test_an_anonymous_visitor_is_sent_to_the_login_page(live_server, page):
    page.goto(f"{live_server.url}/workspace/")
    assert "/login" in page.url
