"""Issue 16, "Done when" steps 1–4 in a real browser: an owner creates an offshore-wind project from the form the
methodology declares, sees the estimate and starts publicity; a member of the public comments on the publicised
design document; the VVB accepts the engagement (independence check shown), raises a CAR that the owner answers with
an evidence file and the VVB closes, and issues its report with its commitment; the owner applies with the commitment
letter; the registry works its queue and registers. Every step asserts what the page shows, in Chinese and English,
and keeps a screenshot. The platform clock is frozen on a working day and moved past the 20 working days of publicity."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from ccer.infra.clock import CST

from .conftest import login, shot, switch_language

#: a Monday of a year whose holiday calendar is published (publicity: 20 working days, Measures Art. 12)
START = (2026, 3, 2)
#: the module's server starts there (tests/browser/conftest.py), before the demo parties' events
CLOCK_START = datetime(*START, 9, 0, tzinfo=CST)

#: the design figures of the demo's offshore wind farm (ccer/demo/data/demo_lifecycle.json, CCER-01-002-V01)
FIGURES = {"periods[0].start": "2023-01-01", "periods[0].end": "2023-12-31", "periods[0].EG_export": "803701",
           "periods[0].EG_import": "1250", "periods[0].EF_grid_OM": "0.9419", "periods[0].EF_grid_BM": "0.4819"}
# BE = (803701 − 1250) MWh × (0.9419 × 0.5 + 0.4819 × 0.5) tCO2/MWh = 802451 × 0.7119 = 571,264.8669 → 571,264 t
# (CCER-01-002-V01 formulas (1)–(3), ω_OM = ω_BM = 0.5 by its Tables 2–3; rounded down, Measures Art. 48)
CREDITED = "571,264"


def _page(browser, lang="zh-CN"):
    ctx = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    return pg


def _clock(server, days: int):
    """Move the platform clock `days` forward (it starts at CLOCK_START with the module's server)."""
    from ccer.infra import clock

    with server.session() as s:
        clock.advance(s, timedelta(days=days))
        s.commit()


def _language(page, lang: str) -> None:
    """Switch to `lang` unless the page already shows it (the choice may outlive a login)."""
    if not page.get_attribute("html", "lang").startswith(lang):
        switch_language(page, lang)


@pytest.fixture(scope="module")
def pages(live_server, browser):
    made = {}

    def of(username):
        if username not in made:
            pg = _page(browser)
            if username != "public":
                login(pg, live_server, username)
            made[username] = pg
        return made[username]

    yield of
    for pg in made.values():
        pg.context.close()


def test_project_from_design_document_to_registration(live_server, pages):
    url = live_server.url
    # ---- the owner creates an offshore-wind project ----------------------------------------------------------
    owner = pages("owner1")
    assert owner.url.endswith("/workspace/")  # login goes to the workspace
    owner.click("text=新建项目")
    owner.select_option("#pick-methodology", "CCER-01-002-V01")
    owner.click("#choose-methodology button")
    assert "并网海上风力发电" in owner.inner_text("#design-document h2")
    # the form is generated from the declarations: unit, range and the default with its source as help
    assert "(km)" in owner.inner_text("label[for='project.distance_offshore_km']")
    assert "0.5" in owner.inner_text("#design-document") and "Table 2" in owner.inner_text("#design-document")
    owner.fill("#title", "（浏览器测试）山东半岛南海上风电项目")
    owner.fill("#province", "山东省")
    owner.fill("#construction_start", "2019-06-01")
    owner.fill("[id='project.crediting_start']", "2022-04-01")
    owner.fill("[id='project.crediting_end']", "2032-03-31")
    # too near the shore and too shallow: not an offshore project under CCER-01-002-V01 §4 (> 30 km or > 30 m)
    owner.fill("[id='project.distance_offshore_km']", "12")
    owner.fill("[id='project.water_depth_m']", "8")
    owner.select_option("[id='project.grid']", "华北")
    for name, value in FIGURES.items():
        owner.fill(f"[id='{name}']", value)
    owner.click("#design-document button[type=submit]")
    errors = owner.inner_text("#design-document")
    assert "30" in errors and owner.locator(".field-error, .error").count() >= 1
    assert owner.input_value("#title") == "（浏览器测试）山东半岛南海上风电项目"  # what was typed is kept
    assert owner.input_value("[id='periods[0].EG_export']") == "803701"
    shot(owner, "owner-form-error-zh")
    owner.fill("[id='project.distance_offshore_km']", "34")
    owner.fill("[id='project.water_depth_m']", "25")
    owner.click("#design-document button[type=submit]")
    assert owner.inner_text("#status") == "草稿"
    project_url = owner.url
    project_id = int(re.search(r"/projects/(\d+)", project_url).group(1))
    assert CREDITED in owner.inner_text("#estimate")
    owner.click("#estimate details.trace >> nth=0 >> summary")
    assert "§7.3.4" in owner.inner_text("#estimate")  # the formula's source, under its <details>
    owner.select_option("#vvb_id", label="中环联合（北京）认证中心有限公司（演示）")
    owner.click("#engagement button[type=submit]")
    assert "待接受" in owner.inner_text("#engagement")
    shot(owner, "owner-project-estimate-zh")
    switch_language(owner, "en")
    assert owner.inner_text("#status") == "Draft" and "Pending" in owner.inner_text("#engagement")
    assert "Ex-ante estimate" in owner.inner_text("#estimate h2")
    shot(owner, "owner-project-estimate-en")

    # ---- the VVB accepts, the independence check shown beside the offer -------------------------------------------
    vvb = pages("vvb-a")
    vvb.goto(f"{url}/workspace/")  # the VVB's home: the offer waits for it
    assert "（浏览器测试）山东半岛南海上风电项目" in vvb.inner_text("#panel-vvb")
    vvb.goto(f"{url}/workspace/vvb/")
    offer = vvb.inner_text("#offered")
    assert "（浏览器测试）山东半岛南海上风电项目" in offer and "通过" in offer
    shot(vvb, "vvb-inbox-zh")
    vvb.click("#offered button[value=yes]")
    assert "已接受委托" in vvb.inner_text("main")

    # ---- the owner starts publicity: 20 working days from the frozen Monday 2026-03-02 → 2026-03-30 -------------
    owner.goto(project_url)
    owner.click("#publicise")
    assert owner.inner_text("#status") == "In publicity"
    assert "2026-03-02 – 2026-03-30" in owner.inner_text("#summary")
    shot(owner, "owner-publicity-en")

    # ---- a member of the public comments on the publicised design document -----------------------------------
    public = pages("public")
    public.goto(f"{url}/projects/{project_id}")
    public.fill("input[name=author_name]", "青岛市民（浏览器测试）")
    public.fill("textarea[name=body]", "海缆路由是否避开了传统渔场？")
    public.click("form:has(textarea[name=body]) button")
    assert "审核后公开" in public.inner_text("main") or "moderation" in public.inner_text("main")
    shot(public, "public-comment-zh")

    # ---- the registry publishes it; the owner answers -------------------------------------------------------------
    registry = pages("registry")
    registry.goto(f"{url}/workspace/registry/")
    assert "海缆路由是否避开了传统渔场？" in registry.inner_text("#comments")
    registry.click("#comments button[value=yes]")
    assert "已发布公众意见" in registry.inner_text("main")
    owner.goto(project_url)
    owner.click("#comments button[type=submit]")  # an empty answer: refused next to the field, nothing saved
    assert "required" in owner.inner_text("#comments .field-error")
    owner.fill("#comments textarea", "海缆路由经海洋主管部门批准，避开了传统渔场。")
    owner.click("#comments button[type=submit]")
    assert "避开了传统渔场" in owner.inner_text("#comments")

    # ---- the VVB raises a CAR; the owner answers with an evidence file; the VVB closes it --------------------------
    switch_language(vvb, "en")
    vvb.goto(f"{url}/workspace/vvb/projects/{project_id}")
    assert "✗" not in vvb.inner_text("#recomputation")  # the methodology's figures agree with the owner's
    assert "2026-06-10" in vvb.inner_text("#clock")  # 100 days from 2026-03-02 (CNCA-CCER-01 §4.3.3)
    vvb.select_option("#kind", "CAR")
    vvb.fill("#text", "请提供海域使用权证书及用海批复。")
    vvb.click("#raise button[type=submit]")
    assert "Open" in vvb.inner_text("#findings")
    shot(vvb, "vvb-finding-raised-en")
    owner.goto(project_url)
    owner.fill("#findings textarea", "已上传《海域使用权证书》。")
    owner.set_input_files("#findings input[type=file]", files=[{"name": "haiyu.pdf", "mimeType": "application/pdf",
                                                                 "buffer": b"%PDF-1.4 demo"}])
    owner.click("#findings button[type=submit]")
    assert "haiyu.pdf" in owner.inner_text("#findings")
    vvb.reload()
    vvb.click("#findings button[value=yes]")
    assert "Closed" in vvb.inner_text("#findings")

    # ---- publicity over (2026-04-02, after 2026-03-30); the VVB issues its report ----------------------------
    _clock(live_server, days=31)  # web sessions run on the platform clock too: a month later everyone logs in again
    for username, pg, lang in (("vvb-a", vvb, "en"), ("owner1", owner, "en"), ("registry", registry, "zh")):
        login(pg, live_server, username)
        _language(pg, lang)
    vvb.goto(f"{url}/workspace/vvb/projects/{project_id}")
    vvb.fill("#comment_handling", "已答复全部公众意见")
    vvb.click("#issue-report")  # the commitment is not ticked: refused, nothing issued
    assert vvb.locator("#report .field-error").count() == 1
    vvb.check("#report input[name=commitment]")
    vvb.click("#issue-report")
    assert vvb.inner_text("#status") == "Validated"
    shot(vvb, "vvb-report-en")

    # ---- the owner applies with the commitment letter --------------------------------------------------------------
    owner.goto(project_url)
    owner.click("#apply")  # the commitment letter not signed: refused beside it, nothing applied
    assert owner.locator("#moves .field-error").count() == 1 and owner.inner_text("#status") == "Validated"
    owner.check("#moves input[name=commitment]")
    owner.click("#apply")
    assert owner.inner_text("#status") == "Applied for registration"
    owner.goto(f"{url}/workspace/")
    assert "Waiting for the registry's review" in owner.inner_text("#panel-project_owner")

    # ---- the registry works the queue and registers ----------------------------------------------------------------
    registry.goto(f"{url}/workspace/")  # its home: the application waits, with its working-day deadline
    assert "2026-04-24" in registry.inner_text("#panel-registry_operator")
    registry.goto(f"{url}/workspace/registry/")
    queue = registry.inner_text("#queue")
    assert "（浏览器测试）山东半岛南海上风电项目" in queue and "2026-04-24" in queue  # 15 working days from Thursday 2026-04-02 (Qingming 04-04–06 off)
    registry.click("#queue a")
    assert registry.locator("#checklist tr.failed").count() == 0
    shot(registry, "registry-checklist-zh")
    registry.click("#register")
    assert registry.inner_text("#status") == "已登记"
    assert registry.inner_text("#registry-no").strip().isdigit()
    switch_language(registry, "en")
    assert registry.inner_text("#status") == "Registered"
    shot(registry, "registry-registered-en")


#: one year of monitored output of the same farm (columns: start, end and the methodology's symbols)
MONITORED = ("start,end,EG_export,EG_import,EF_grid_OM,EF_grid_BM,export_meter_class,export_calibration\n"
             "2025-01-01,2025-12-31,803701,1250,0.9419,0.4819,0.2S,calibrated\n")


def _csv(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_a_batch_goes_through_verification_to_registration(live_server, pages):
    """After the project's registration (the test above, same server and clock): the owner uploads the monitored
    data (a bad value refused with its row and column), the second body verifies, the owner applies for the verified
    quantity and the registry registers — which proposes the issuance for a second registry user."""
    url = live_server.url
    owner, registry = pages("owner1"), pages("registry")
    owner.goto(f"{url}/workspace/owner/")
    owner.click("#account button[type=submit]")  # CCERs are issued into the owner's registry account (Registry Rules Art. 5)
    assert owner.inner_text("#account-status") in ("待开户审核", "Awaiting the registry's review")
    registry.goto(f"{url}/workspace/registry/")
    registry.click("#accounts button[value=open]")
    assert "已开立" in registry.inner_text("main") or "Opened" in registry.inner_text("main")
    owner.goto(f"{url}/workspace/owner/")
    assert owner.inner_text("#account-status") in ("已开立", "Opened")
    owner.click("text=（浏览器测试）山东半岛南海上风电项目")
    project_url = owner.url
    owner.set_input_files("#upload input[type=file]", files=[_csv("bad.csv", MONITORED.replace("803701", "-5"))])
    owner.click("#upload button[type=submit]")
    error = owner.inner_text("#upload .field-error")
    assert "EG_export" in error and ("line 2" in error or "第 2 行" in error)  # the header is line 1
    owner.set_input_files("#upload input[type=file]", files=[{"name": "data.txt", "mimeType": "text/plain", "buffer": b"x"}])
    owner.click("#upload button[type=submit]")
    assert ".csv" in owner.inner_text("#upload .field-error")  # the wrong type refused with the reason
    shot(owner, "owner-upload-error")
    owner.set_input_files("#upload input[type=file]", files=[_csv("monitored-2025.csv", MONITORED)])
    owner.click("#upload button[type=submit]")
    assert "571,264" in owner.inner_text("#quantity")  # the same figures as the estimate: 571,264 t (see CREDITED)
    batch_url = owner.url
    batch_id = int(re.search(r"/batches/(\d+)", batch_url).group(1))
    owner.select_option("#vvb_id", label="中国质量认证中心（演示）")
    owner.click("#engagement button[type=submit]")

    verifier = pages("vvb-b")
    verifier.goto(f"{url}/workspace/vvb/")
    assert "通过" in verifier.inner_text("#offered")
    verifier.click("#offered button[value=yes]")
    owner.goto(batch_url)
    owner.click("#publicise")
    assert "2026-04-02 – 2026-05-06" in owner.inner_text("#summary")  # 20 working days (Labour Day 05-01–05 off)

    _clock(live_server, days=35)  # 2026-05-07, after the publicity
    for username, pg in (("vvb-b", verifier), ("owner1", owner), ("registry", registry)):
        login(pg, live_server, username)
    verifier.goto(f"{url}/workspace/vvb/batches/{batch_id}")
    assert "✗" not in verifier.inner_text("#recomputation")
    verifier.check("#report input[name=commitment]")
    verifier.click("#issue-report")
    assert "571,264" in verifier.inner_text("#verified")
    shot(verifier, "vvb-verification")
    owner.goto(batch_url)
    owner.check("#moves input[name=commitment]")
    owner.click("#apply")
    assert owner.locator("#status").inner_text() in ("已申请登记", "Applied for registration")

    registry.goto(f"{url}/workspace/registry/")
    assert "2026-05-27" in registry.inner_text("#queue")  # 15 working days from 2026-05-07
    registry.click(f"#queue a[href$='/batches/{batch_id}']")
    assert registry.locator("#checklist tr.failed").count() == 0
    registry.click("#register")
    assert registry.locator("#status").inner_text() in ("已登记", "Registered")
    assert "第二位" in registry.inner_text("main") or "second registry user" in registry.inner_text("main")
    shot(registry, "registry-batch-registered")
    registry.goto(f"{url}/workspace/registry/")
    assert registry.locator("#acts form").count() == 0  # its own proposal: someone else confirms
    second = pages("registry2")
    second.goto(f"{url}/workspace/registry/")
    assert f"monitoring_period:{batch_id}" in second.inner_text("#acts")
    second.click("#acts button:has-text('确认')")
    assert "已确认并执行" in second.inner_text("main")
    assert "registry2" in second.inner_text("#done-acts")
    shot(second, "registry-issuance-confirmed")
    from ccer.issuance.accounts import account_of
    from ccer.issuance.holdings import holdings
    from ccer.projects.models import MonitoringPeriod

    with live_server.session() as s:  # the CCERs are in the owner's account: 571,264 of vintage 2025
        mp = s.get(MonitoringPeriod, batch_id)
        held = holdings(s, account_of(s, mp.project.owner_id).id)
        assert [(h["vintage"], h["quantity"]) for h in held] == [(2025, 571_264)]
    owner.goto(project_url)
    assert "571264" in owner.inner_text("#batches").replace(",", "")
