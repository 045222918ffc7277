"""The registry's acts started on the workspace pages (issue 16 item 4): a registry user proposes a freeze, a second
confirms it, the account's holdings show the units frozen; a refused proposal shows the rule's message beside its field
in Chinese and in English and saves nothing; an account change request approved; a fraud case's enforcement refused
before its deadline. On SQLite and PostgreSQL (tests/conftest.py)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from ccer.auth.makerchecker import ApprovalRequest
from ccer.issuance import accounts
from ccer.issuance.models import AccountChange, Freeze
from tests.registry_world import World
from tests.test_workspace_routes import _login


def _username(session, actor) -> str:
    from ccer.auth.models import User

    return session.get(User, actor.user_id).username


def _world(session, parties):
    w = World(session, parties)
    w.issue({2022: 1_000})  # 1 000 tCO2e of vintage 2022 into the owner's account
    session.commit()
    return w


def test_a_freeze_proposed_on_the_page_is_confirmed_by_a_second_registry_user(client, session, parties):
    w = _world(session, parties)
    number, project_no, username = w.owner.account.number, w.project.registry_no, _username(session, w.registry)
    session.rollback()
    token = _login(client, username)
    assert client.get("/workspace/registry/acts").status_code == 200
    resp = client.post("/workspace/registry/acts/freeze", data={
        "csrf": token, "account": number, "authority": "北京市朝阳区人民法院", "order_ref": "（2026）京0105执123号",
        "quantity": "300", "project_no": str(project_no), "vintage": "2022"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    req = session.execute(select(ApprovalRequest).where(ApprovalRequest.kind == "registry.freeze")).scalar_one()
    assert req.status == "pending" and req.target == f"account:{w.owner.account.id}"
    req_id, account_id, registry1, registry2 = req.id, w.owner.account.id, _username(session, w.registry), _username(session, w.registry2)
    session.rollback()  # end the test's read (SQLite: the pages write next)
    # the proposer cannot confirm: no confirm button for their own request
    index = client.get("/workspace/registry/").get_data(as_text=True)
    assert f"/workspace/registry/requests/{req_id}/confirm" not in index
    token = _login(client, registry2)
    assert f"/workspace/registry/requests/{req_id}/confirm" in client.get("/workspace/registry/").get_data(as_text=True)
    assert client.post(f"/workspace/registry/requests/{req_id}/confirm", data={"csrf": token}).status_code == 302
    f = session.execute(select(Freeze)).scalar_one()
    assert (f.status, f.quantity) == ("active", 300)
    freeze_id = f.id
    session.rollback()
    page = client.get(f"/workspace/registry/accounts/{account_id}").get_data(as_text=True)
    # 1 000 issued − 300 frozen = 700 available
    assert re.search(r"已冻结</td><td class=\"num\">300<", page) and re.search(r"可用</td><td class=\"num\">700<", page), page
    # the release, proposed by the second user this time, confirmed by the first
    resp = client.post("/workspace/registry/acts/release", data={"csrf": token, "freeze_id": str(freeze_id), "reason": "（2026）京0105执123号之一 解除冻结"})
    assert resp.status_code == 302
    release_id = session.execute(select(ApprovalRequest.id).where(ApprovalRequest.kind == "registry.release")).scalar_one()
    session.rollback()
    token = _login(client, registry1)
    assert client.post(f"/workspace/registry/requests/{release_id}/confirm", data={"csrf": token}).status_code == 302
    assert session.get(Freeze, freeze_id).status == "released"
    session.rollback()
    page = client.get(f"/workspace/registry/accounts/{account_id}").get_data(as_text=True)
    assert "已冻结</td>" not in page and re.search(r"可用</td><td class=\"num\">1000<", page)


def test_a_refused_proposal_shows_the_rule_beside_its_field_in_chinese_and_english(client, session, parties):
    w = _world(session, parties)
    number, username = w.owner.account.number, _username(session, w.registry)
    session.rollback()
    token = _login(client, username)
    form = {"csrf": token, "account": number, "authority": "", "order_ref": "（2026）京0105执123号", "quantity": "300"}
    resp = client.post("/workspace/registry/acts/freeze", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    # beside the authority box, in Chinese (the default), with the article cited; what was typed is kept
    assert re.search(r'id="freeze-authority"[^>]*>\s*<span class="field-error" role="alert">必须填写法院及其文书编号 \[Registry Rules Art. 16\]', html), html
    assert 'value="（2026）京0105执123号"' in html
    html = client.post("/workspace/registry/acts/freeze?lang=en", data=form).get_data(as_text=True)
    assert "The court and its document number are required [Registry Rules Art. 16]" in html
    # a mistyped account: beside the account box (not a 404 page)
    html = client.post("/workspace/registry/acts/freeze", data={**form, "authority": "北京市朝阳区人民法院", "account": "RA99999999"}).get_data(as_text=True)
    assert re.search(r'id="freeze-account"[^>]*>\s*<span class="field-error" role="alert">无此登记账户：RA99999999', html), html
    # a quantity that is not a whole number
    html = client.post("/workspace/registry/acts/freeze?lang=en", data={**form, "authority": "法院", "quantity": "3.5"}).get_data(as_text=True)
    assert re.search(r'id="freeze-quantity"[^>]*>\s*<span class="field-error" role="alert">Must be a whole number', html), html
    # nothing saved
    assert session.execute(select(func.count()).select_from(ApprovalRequest).where(ApprovalRequest.kind == "registry.freeze")).scalar_one() == 0


def test_an_account_change_is_refused_without_a_reason_then_approved(client, session, parties):
    w = _world(session, parties)
    change_id = accounts.request_change(session, w.owner.maker, w.owner.account.id, {"name_en": "Dunhuang Solar Test Co."}).id
    username = _username(session, w.registry)
    session.commit()
    token = _login(client, username)
    assert "Dunhuang Solar Test Co." in client.get("/workspace/registry/acts").get_data(as_text=True)
    resp = client.post(f"/workspace/registry/account-changes/{change_id}/decide", data={"csrf": token, "action": "refuse"})
    assert resp.status_code == 422 and "拒绝变更须说明理由" in resp.get_data(as_text=True)
    resp = client.post(f"/workspace/registry/account-changes/{change_id}/decide", data={"csrf": token, "action": "approve"})
    assert resp.status_code == 302
    assert session.get(AccountChange, change_id).status == "approved"


def test_a_fraud_case_shows_what_is_owed_and_its_enforcement_waits_for_the_deadline(client, session, parties):
    from datetime import timedelta

    from ccer.infra import clock
    from ccer.projects import lifecycle

    w = _world(session, parties)
    lifecycle.fire(session, w.registry, w.project.id, "revoke", reason="省生态环境厅认定篡改监测数据（测试〔2026〕1号）")
    session.commit()
    username = _username(session, w.registry)
    session.rollback()
    token = _login(client, username)
    page = client.get("/workspace/registry/acts").get_data(as_text=True)
    # the case owes everything issued for the project, 1 000 t; the owner has 30 days (fraud.CANCEL_DAYS) from 2026-12-07
    assert re.search(r'<td class="num">1000</td><td class="num">1000</td>\s*<td><span class="">2027-01-06</span>', page), page
    assert "2027-01-06" in client.get("/workspace/").get_data(as_text=True)  # on the registry's home, with its deadline
    form = {"csrf": token, "case_id": "1", "order": "生态环境部强制注销通知（测试）"}
    from ccer.issuance.fraud_models import FraudCase

    form["case_id"] = str(session.execute(select(FraudCase.id)).scalar_one())
    session.rollback()
    resp = client.post("/workspace/registry/acts/enforce", data=form)
    # before the deadline: refused (Measures Art. 43: 逾期未按要求注销), in Chinese, nothing proposed
    assert resp.status_code == 422 and "业主可在 2027-01-06 前注销 1000 吨" in resp.get_data(as_text=True)
    clock.advance(session, timedelta(days=31))  # 2027-01-07: the deadline has passed
    session.commit()
    form["csrf"] = _login(client, username)  # web sessions run on the platform clock: log in again a month later
    assert client.post("/workspace/registry/acts/enforce", data=form).status_code == 302
    assert session.execute(select(ApprovalRequest.status).where(ApprovalRequest.kind == "registry.fraud_enforce")).scalar_one() == "pending"


def test_a_non_trade_transfer_a_forced_cancellation_and_a_deduction_are_proposed_from_the_page(client, session, parties):
    import json

    w = _world(session, parties)
    f = w.freeze(w.owner, authority="北京市朝阳区人民法院", order_ref="（2026）京0105执7号", quantity=100)  # confirmed already
    owner_no, trader_no, freeze_id, username = w.owner.account.number, w.trader.account.number, f.id, _username(session, w.registry)
    session.commit()
    token = _login(client, username)
    assert f"freeze-{freeze_id}" in client.get("/workspace/registry/acts").get_data(as_text=True)
    for kind, form in (
            ("non_trade", {"kind": "succession", "account": owner_no, "to_account": trader_no, "evidence": "（2026）京01民终1号", "quantity": "200"}),
            ("force_cancel", {"account": owner_no, "order": "生态环境部决定（测试）", "quantity": "50", "vintage": "2022"}),
            ("deduct", {"freeze_id": str(freeze_id), "to_account": trader_no, "evidence": "（2026）京0105执7号之二"})):
        resp = client.post(f"/workspace/registry/acts/{kind}", data={"csrf": token, **form})
        assert resp.status_code == 302, (kind, resp.get_data(as_text=True)[-1500:])
    rows = dict(session.execute(select(ApprovalRequest.kind, ApprovalRequest.payload_json).where(ApprovalRequest.status == "pending")).all())
    assert json.loads(rows["registry.non_trade"]) == {"kind": "succession", "to_account": trader_no, "evidence": "（2026）京01民终1号", "quantity": 200}
    assert json.loads(rows["registry.force_cancel"]) == {"order": "生态环境部决定（测试）", "quantity": 50, "vintage": 2022}
    assert json.loads(rows["registry.deduct"]) == {"to_account": trader_no, "evidence": "（2026）京0105执7号之二"}
    session.rollback()
    # a deduction without its judgment: refused beside that freeze's evidence box
    html = client.post("/workspace/registry/acts/deduct", data={"csrf": token, "freeze_id": str(freeze_id), "to_account": trader_no}).get_data(as_text=True)
    assert re.search(r'id="deduct-evidence"[^>]*>\s*<span class="field-error" role="alert">必须填写生效裁判文书', html), html[-3000:]
