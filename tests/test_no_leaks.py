"""No leaks (issue 15 item 4): a draft design document and a draft reduction batch (its vintages and quantities)
are seen by their owner's organisation and the registry — a draft batch also by the VVB engaged to verify it —
and by no one else, on every list and sub-resource (ccer/projects/visibility.py); a maker–checker request on
someone else's registry account is answered exactly as if the account did not exist: 404, the same message, no
balance."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ccer.issuance import accounts, registry_acts
from ccer.auth import makerchecker
from ccer.projects import monitoring, services as projects
from tests.conftest import SYSTEM
from tests.lifecycle_world import LifeWorld

PASSWORD = "correct-horse-battery"


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _ids(resp) -> set[int]:
    assert resp.status_code == 200, resp.json
    items = resp.json["items"] if isinstance(resp.json, dict) else resp.json
    return {x["id"] for x in items}


def test_drafts_and_draft_batches_do_not_leak(client, session, parties):
    w = LifeWorld(session, parties)
    other_org = parties.org(["project_owner"], name="另一业主测试有限公司")
    other = parties.actor(parties.user(other_org))
    draft = w.project(title="草稿项目（测试）")
    p = w.to_registered()
    mp = w.batch(p)  # a draft batch with 2023–2024 vintages, the verifier (VVB B) engaged
    assert mp.status == "draft" and p.status == "registered"
    session.commit()

    headers = {"anonymous": {}, "owner": _auth(client, w.owner), "other owner": _auth(client, other),
               "validator (VVB A)": _auth(client, w.vvb_a), "verifier (VVB B)": _auth(client, w.vvb_b),
               "registry": _auth(client, w.registry)}
    sees_draft = {"owner", "registry"}
    sees_draft_batch = {"owner", "registry", "verifier (VVB B)"}

    public = _ids(client.get("/api/v1/public/projects?limit=100"))
    assert draft.id not in public and p.id in public
    for who, h in headers.items():
        listed = _ids(client.get("/api/v1/projects?limit=100", headers=h))
        assert (draft.id in listed) == (who in sees_draft), who
        assert p.id in listed, who
        one = client.get(f"/api/v1/projects/{draft.id}", headers=h)
        assert one.status_code == (200 if who in sees_draft else 404), who
        if who not in sees_draft:
            assert one.json["message"] == f"no project {draft.id}"
            for sub in ("checklist", "documents", "monitoring-periods"):
                assert client.get(f"/api/v1/projects/{draft.id}/{sub}", headers=h).status_code == 404, (who, sub)
            assert client.get(f"/api/v1/findings?subject_type=project&subject_id={draft.id}", headers=h).status_code == 404, who
            fired = client.post(f"/api/v1/projects/{draft.id}/transitions/publicise", headers=h, json={})
            assert fired.status_code == 404, (who, fired.json)

        batches = client.get(f"/api/v1/projects/{p.id}/monitoring-periods", headers=h)
        assert batches.status_code == 200, who
        assert ([b["id"] for b in batches.json] == [mp.id]) == (who in sees_draft_batch), (who, batches.json)
        if who not in sees_draft_batch:
            assert batches.json == []  # no vintages, no quantities
        if who not in sees_draft_batch:
            got = client.get(f"/api/v1/findings?subject_type=monitoring_period&subject_id={mp.id}", headers=h)
            assert got.status_code == 404, (who, got.json)
        for path in (f"/api/v1/monitoring-periods/{mp.id}", f"/api/v1/monitoring-periods/{mp.id}/checklist"):
            got = client.get(path, headers=h)
            assert got.status_code == (200 if who in sees_draft_batch else 404), (who, path)
        if who not in sees_draft_batch:
            fired = client.post(f"/api/v1/monitoring-periods/{mp.id}/transitions/publicise", headers=h, json={})
            assert fired.status_code == 404, (who, fired.json)
    # the verifier sees the batch's vintages: (400 000 − 500) × 0.7119 = 284 404.05 → 284 404 (2023),
    # (403 701 − 750) × 0.7119 = 286 860.8169 → 286 860 (2024)
    seen = client.get(f"/api/v1/monitoring-periods/{mp.id}", headers=headers["verifier (VVB B)"]).json
    assert seen["vintages"] == {"2023": 284_404, "2024": 286_860}

    # once publicised, the batch is public (Measures Art. 19)
    monitoring.fire(session, w.owner, mp.id, "publicise")
    session.commit()
    assert [b["id"] for b in client.get(f"/api/v1/projects/{p.id}/monitoring-periods").json] == [mp.id]


def test_a_precheck_on_someone_elses_account_answers_as_if_it_did_not_exist(client, session, parties):
    w = LifeWorld(session, parties)
    other_org = parties.org(["project_owner", "trading_participant"], name="另一业主测试有限公司")
    other = parties.actor(parties.user(other_org))
    other_account = accounts.apply_for_account(session, other, other_org.id)
    accounts.decide_account(session, w.registry, other_account.id, "open")
    exchange_org = parties.org(["exchange_operator"], name="交易所测试")
    exchange = parties.actor(parties.user(exchange_org))
    # 1 234 t issued to the owner: the figure must appear in no refusal to anyone else
    listed = projects.import_listed(session, SYSTEM, title="已登记项目（测试）", methodology_code="CCER-01-002-V01", owner_id=w.owner_org.id,
                                    province="山东省", crediting_start=date(2021, 1, 1), crediting_end=date(2030, 12, 31), registered=True)
    batch = monitoring.import_listed_batch(session, w.registry, listed.id, "2021-01-01", "2021-12-31", {2021: 1234}, "测试：登记系统公示")
    makerchecker.confirm(session, w.registry2, registry_acts.propose_issue(session, w.registry, batch.id).id)
    owner_account = accounts.account_of(session, w.owner_org.id)
    session.commit()

    missing = 987_654_321
    retire = {"quantity": 1, "purpose": "public_good", "beneficiary_name": "公众"}
    for actor in (other, exchange):
        h = _auth(client, actor)
        for account_id in (owner_account.id, missing):
            # POST /approvals with someone else's account, and the two ways a holder proposes on an account
            answers = [
                client.post("/api/v1/approvals", headers=h, json={"kind": "registry.retire", "target": f"account:{account_id}",
                                                                  "payload": {**retire, "quantity": 5000}}),
                client.post("/api/v1/approvals", headers=h, json={"kind": "registry.to_trading", "target": f"account:{account_id}",
                                                                  "payload": {"quantity": 5000}}),
                client.post(f"/api/v1/accounts/{account_id}/trading", headers=h, json={"direction": "in", "quantity": 5000}),
                client.post("/api/v1/retirements", headers=h, json={"account": str(account_id), **retire}),
            ]
            for resp in answers:
                assert resp.status_code == 404, (actor.label, account_id, resp.json)
                assert (resp.json["message"], resp.json["field"]) == (f"no registry account {account_id}", "account"), resp.json
                assert "1234" not in str(resp.json) and "1,234" not in str(resp.json)
    assert session.execute(select(makerchecker.ApprovalRequest).where(
        makerchecker.ApprovalRequest.status == "pending")).first() is None  # nothing was proposed
