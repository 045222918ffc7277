"""The registry's acts in a real browser (issue 16 item 4): one registry user proposes a judicial freeze of 300 of the
owner's 1 000 tCO2e (Registry Rules Art. 16), a second confirms it, the account's holdings show 300 frozen and 700
available; then the release, proposed and confirmed the same way, puts the 1 000 back — in Chinese, then in English,
with screenshots. A server of its own (its clock frozen on a trading day by tests/registry_world.py), so that the
shared live server's other tests are not touched."""
from __future__ import annotations

import pytest

from .conftest import LiveServer, _require_browser, login, shot, switch_language

PASSWORD = "correct-horse-battery"  # tests/conftest.py Parties


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    _require_browser()
    from ccer import demo
    from ccer.auth.models import User
    from tests.conftest import Parties
    from tests.registry_world import World

    with pytest.MonkeyPatch.context() as mp:  # no demo parties: the world brings its own registry and owner
        mp.setattr(demo, "seed_parties", lambda session: None)
        server = LiveServer(tmp_path_factory.mktemp("registry-acts"))
    with server.session() as s:
        w = World(s, Parties(s))
        w.issue({2022: 1_000})  # into the owner's account
        info = {"number": w.owner.account.number, "account_id": w.owner.account.id, "project_no": w.project.registry_no,
                "maker": s.get(User, w.registry.user_id).username, "checker": s.get(User, w.registry2.user_id).username}
        s.commit()
    yield server, info
    server.stop()


def _as(browser, server, username, lang):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    login(pg, server, username, PASSWORD)
    pg.goto(f"{server.url}/workspace/registry/")
    if lang == "en":
        switch_language(pg, "en")
    return pg


def _open(pg, url: str) -> None:
    """Load `url` afresh (a goto that differs only by its #fragment would not reload the page)."""
    pg.goto(url)
    pg.reload()


def _holding(pg, status: str) -> str | None:
    row = pg.locator(f"#holdings tr.holding.{status} td.num")
    return row.inner_text() if row.count() else None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_freeze_is_proposed_confirmed_shown_frozen_and_released(world, browser, lang):
    server, info = world
    words = {"zh": {"sent": "待另一位登记人员确认", "frozen": "已冻结", "confirmed": "已确认并执行"},
             "en": {"sent": "another registry user confirms", "frozen": "Frozen", "confirmed": "Confirmed and carried out"}}[lang]
    maker = _as(browser, server, info["maker"], lang)
    checker = _as(browser, server, info["checker"], lang)
    try:
        maker.click("#start-acts")
        # first refused: the court left out — the rule's message beside the box, in the page's language
        maker.fill("#freeze-account", info["number"])
        maker.fill("#freeze-order_ref", "（2026）京0105执123号")
        maker.fill("#freeze-quantity", "300")
        maker.click("#propose-freeze")
        error = maker.inner_text("#freeze-authority + .field-error")
        assert error.startswith({"zh": "必须填写法院及其文书编号", "en": "The court and its document number are required"}[lang]), error
        assert maker.input_value("#freeze-quantity") == "300"  # what was typed stays
        maker.fill("#freeze-authority", "北京市朝阳区人民法院")
        maker.fill("#freeze-project_no", str(info["project_no"]))
        maker.fill("#freeze-vintage", "2022")
        shot(maker, f"registry-freeze-form-{lang}")
        maker.click("#propose-freeze")
        assert words["sent"] in maker.inner_text(".flash")
        assert maker.locator("#acts form[action$='/confirm']").count() == 0  # the proposer has no confirm button

        _open(checker, f"{server.url}/workspace/registry/#acts")
        shot(checker, f"registry-freeze-to-confirm-{lang}")
        checker.click("#acts form[action$='/confirm'] button")
        assert words["confirmed"] in checker.inner_text(".flash")
        checker.goto(f"{server.url}/workspace/registry/accounts/{info['account_id']}")
        # 1 000 issued − 300 frozen = 700 available (Registry Rules Art. 12, 16)
        assert _holding(checker, "frozen") == "300" and _holding(checker, "available") == "700"
        assert words["frozen"] in checker.inner_text("#holdings tr.holding.frozen")
        shot(checker, f"registry-account-frozen-{lang}")

        # the release: proposed by the second user, confirmed by the first
        checker.goto(f"{server.url}/workspace/registry/acts#freezes")
        checker.fill("#freezes .freeze [name=reason]", "（2026）京0105执123号之一 解除冻结裁定")
        checker.click("#freezes .freeze button[id^=propose-release]")
        assert words["sent"] in checker.inner_text(".flash")
        _open(maker, f"{server.url}/workspace/registry/#acts")
        maker.click("#acts form[action$='/confirm'] button")
        maker.goto(f"{server.url}/workspace/registry/accounts/{info['account_id']}")
        assert _holding(maker, "frozen") is None and _holding(maker, "available") == "1000"
        shot(maker, f"registry-account-released-{lang}")
    finally:
        maker.context.close()
        checker.context.close()
