"""In-process setup shared by the holder and trader browser tests: a demo owner's registry account opened by the
registry, a registered listed project of it and one batch issued into that account — the only issuance path
(registry_acts.propose_issue by `registry`, confirmed by `registry2`), as tests/registry_world.py does it."""
from __future__ import annotations

from datetime import date, datetime

from ccer.auth import makerchecker
from ccer.auth.models import User
from ccer.auth.services import actor_for
from ccer.infra import clock
from ccer.infra.actor import Actor
from ccer.issuance import accounts, registry_acts
from ccer.projects import monitoring
from ccer.projects import services as projects

#: Monday 2026-12-07 10:00 Beijing time: a trading day, inside the hours CCERs move to trading accounts (9:30–15:00)
TRADING_MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=clock.CST)


def actor(session, server, username: str) -> Actor:
    return actor_for(session.get(User, server.parties.users[username]))


def open_account(session, server, username: str):
    """The registry account of `username`'s organisation, applied for and opened if it has none."""
    holder = actor(session, server, username)
    account = accounts.account_of(session, holder.organisation_id)
    if account is None:
        account = accounts.apply_for_account(session, holder, holder.organisation_id)
    if account.status == "pending":
        accounts.decide_account(session, actor(session, server, "registry"), account.id, "open")
    return account


def issue(session, server, username: str, title: str, quantities: dict[int, int]):
    """A registered listed project of `username`'s organisation (CCER-01-001-V01) with one batch issued into its
    account; returns (account, project)."""
    account = open_account(session, server, username)
    owner_id = actor(session, server, username).organisation_id
    project = projects.import_listed(session, Actor.system("browser-tests"), title=title, methodology_code="CCER-01-001-V01",
                                     owner_id=owner_id, province="甘肃省", crediting_start=date(2021, 1, 1),
                                     crediting_end=date(2030, 12, 31), registered=True)
    years = sorted(quantities)
    registry = actor(session, server, "registry")
    mp = monitoring.import_listed_batch(session, registry, project.id, date(years[0], 1, 1), date(years[-1], 12, 31),
                                        dict(quantities), "测试：注册登记系统公示的减排量登记", number=1)
    makerchecker.confirm(session, actor(session, server, "registry2"), registry_acts.propose_issue(session, registry, mp.id).id)
    return account, project


def language(page, lang: str) -> None:
    """Switch to `lang` unless the page already shows it (the choice may outlive a login)."""
    from .conftest import switch_language

    if not page.get_attribute("html", "lang").startswith(lang):
        switch_language(page, lang)


def user_page(browser, server, username: str, path: str | None = None):
    """A fresh browser context (a Chinese user's browser) logged in as `username`, in Chinese, at `path` if given."""
    from .conftest import login

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    login(page, server, username)
    language(page, "zh")
    if path:
        page.goto(f"{server.url}{path}")
    return page
