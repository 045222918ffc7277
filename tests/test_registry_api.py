"""The registry over REST: role checks, the maker–checker round trip, public certificates and exports with
stable cursors."""
from __future__ import annotations

import csv
import io

from ccer.projects import monitoring
from tests.registry_world import World

PASSWORD = "correct-horse-battery"


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json['token']}"}


def test_sell_and_retire_through_the_api(client, session, parties):
    w = World(session, parties)
    registry, maker, checker = _auth(client, w.registry), _auth(client, w.owner.maker), _auth(client, w.owner.checker)

    mp = monitoring.import_listed_batch(session, w.registry, w.project.id, "2021-01-01", "2021-12-31", {2021: 1000}, "测试：登记系统公示")
    denied = client.post("/api/v1/issuances", headers=maker, json={"monitoring_period_id": mp.id})
    assert denied.status_code == 403 and "registry.issue" in denied.json["message"]
    proposed = client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": mp.id})
    assert proposed.status_code == 202 and proposed.json["kind"] == "registry.issue"
    assert client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=registry).status_code == 403  # not its proposer
    assert client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=maker).status_code == 403  # nor an owner
    issued = client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=_auth(client, w.registry2))
    assert issued.status_code == 200 and issued.json["status"] == "approved"
    assert [i["quantity"] for i in client.get("/api/v1/public/issuances").json["items"]] == [1000]

    # a sale: into the owner's trading account (maker–checker), delivered by the exchange after the close
    proposal = client.post(f"/api/v1/accounts/{w.owner.account.number}/trading", headers=maker, json={"direction": "in", "quantity": 250})
    assert proposal.status_code == 202 and proposal.json["status"] == "pending"
    assert client.post(f"/api/v1/approvals/{proposal.json['id']}/confirm", headers=maker).status_code == 403
    assert client.post(f"/api/v1/approvals/{proposal.json['id']}/confirm", headers=checker).status_code == 200
    exchange = _auth(client, w.exchange)
    trade = {"trade_ref": "20261207-000001", "seller": w.owner.account.number, "buyer": w.trader.account.number,
             "project_no": 1, "vintage": 2021, "quantity": 250}
    assert client.post("/api/v1/settlements", headers=maker, json=trade).status_code == 403
    delivered = client.post("/api/v1/settlements", headers=exchange, json=trade)
    assert delivered.status_code == 201 and delivered.json["kind"] == "settlement" and delivered.json["quantity"] == 250
    again = client.post("/api/v1/settlements", headers=exchange, json=trade)
    assert again.status_code == 409 and again.json["field"] == "trade_ref"
    day = client.post("/api/v1/settlements/day", headers=exchange, json={"trades": [{**trade, "trade_ref": "D2", "quantity": 1}]})
    assert day.status_code == 200 and day.json[0]["ok"] is False and day.json[0]["error"]["field"] == "quantity"  # nothing left in trading

    holdings = client.get(f"/api/v1/accounts/{w.owner.account.number}/holdings", headers=maker).json
    assert holdings == [{"project_id": w.project.id, "project_no": 1, "project": w.project.title, "methodology": "CCER-01-001-V01",
                         "vintage": 2021, "status": "available", "quantity": 750}]  # 1000 − 250
    other = client.get(f"/api/v1/accounts/{w.trader.account.number}/holdings", headers=maker)
    assert other.status_code == 403

    over = client.post(f"/api/v1/accounts/{w.owner.account.number}/trading", headers=maker, json={"direction": "in", "quantity": 751})
    assert over.status_code == 422 and over.json["field"] == "quantity" and "over-spending" in over.json["rule"]
    bad_serial = client.post(f"/api/v1/accounts/{w.owner.account.number}/trading", headers=maker, json={"direction": "in", "serial": "CN-CCER-01-1"})
    assert bad_serial.status_code == 422 and bad_serial.json["field"] == "serial"

    ret = client.post("/api/v1/retirements", headers=maker, json={
        "account": w.owner.account.number, "quantity": 100, "purpose": "enterprise_offset",
        "beneficiary_name": "某某科技有限公司", "beneficiary_uscc": "91110108551385082Q"})
    assert ret.status_code == 202
    client.post(f"/api/v1/approvals/{ret.json['id']}/confirm", headers=checker)
    listed = client.get("/api/v1/public/retirements").json["items"]
    assert len(listed) == 1 and listed[0]["quantity"] == 100 and listed[0]["beneficiary_uscc"] == "91110108551385082Q"
    number = listed[0]["number"]

    verify = client.get(f"/api/v1/retirements/{number}/verify").json
    assert verify["ok"] and verify["serials"] == ["CN-CCER-01-000001-2021-001-000000000251-000000000350"]  # after 1–250 left
    pdf = client.get(f"/api/v1/retirements/{number}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    page = client.get(f"/registry/retirements/{number}?lang=en")  # the explorer's page, in English
    assert page.status_code == 200 and "Matches the ledger" in page.get_data(as_text=True)

    totals = client.get("/api/v1/public/totals").json
    assert totals["issued"] == 1000 and totals["by_status"] == {"available": 650, "trading": 250, "retired": 100}  # 1000 − 250 sold − 100 retired; the buyer's 250 still in trading


def test_open_data_exports_page_stably(client, session, parties):
    w = World(session, parties)
    for batch in (1, 2, 3):
        w.issue({2021 + batch - 1: 100 * batch}, batch=batch)
    w.retire(w.owner, quantity=10, project_no=1, vintage=2022)

    first = client.get("/api/v1/open-data/credits?limit=2").json
    assert [r["transaction_type"] for r in first["items"]] == ["issuance", "issuance"]
    w.issue({2024: 7}, batch=4)  # arrives while the export pages
    second = client.get(f"/api/v1/open-data/credits?limit=2&cursor={first['next_cursor']}").json
    rows = first["items"] + second["items"]
    assert [r["quantity"] for r in rows] == [100, 200, 300, 10]
    assert rows[3]["transaction_type"] == "retirement" and rows[3]["vintage"] == 2022 and rows[3]["project_id"] == "CCER-000001"

    resp = client.get("/api/v1/open-data/units?format=csv&limit=100")
    assert resp.mimetype == "text/csv"
    units = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert sum(int(u["unitCount"]) for u in units) == 100 + 200 + 300 + 7
    retired = [u for u in units if u["unitStatus"] == "Retired"]
    assert len(retired) == 1 and retired[0]["unitCount"] == "10"
    assert retired[0]["unitBlockStart"].endswith("-000000000101")  # 2022 batch starts after the 100 units of 2021
    bad = client.get("/api/v1/open-data/units?cursor=zzz")
    assert bad.status_code == 422 and bad.json["field"] == "cursor"


def test_account_review_and_closure_over_rest(client, session, parties):
    w = World(session, parties)
    registry = _auth(client, w.registry)
    org = parties.org(["trading_participant"], name="新开户公司")
    user = parties.user(org)
    mine = _auth(client, parties.actor(user))
    applied = client.post("/api/v1/accounts", headers=mine, json={"organisation_id": org.id})
    assert applied.status_code == 201 and applied.json["status"] == "pending"
    again = client.post("/api/v1/accounts", headers=mine, json={"organisation_id": org.id})
    assert again.status_code == 409 and "one account per entity" in again.json["rule"]
    refused = client.post(f"/api/v1/accounts/{applied.json['number']}/decision", headers=registry, json={"action": "refuse"})
    assert refused.status_code == 422 and refused.json["field"] == "reason"
    opened = client.post(f"/api/v1/accounts/{applied.json['number']}/decision", headers=registry, json={"action": "open"})
    assert opened.json["status"] == "open"
    assert client.post(f"/api/v1/accounts/{applied.json['number']}/decision", headers=mine, json={"action": "close", "reason": "x"}).status_code == 403
    listed = client.get("/api/v1/accounts", headers=mine).json["items"]
    assert [a["number"] for a in listed] == [applied.json["number"]]
