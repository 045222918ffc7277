"""The lifecycle over REST: a project from draft to CCERs, driven only through /api/v1, with the public
commenting anonymously and the monitored data uploaded as CSV."""
from __future__ import annotations

import io

from tests.lifecycle_world import DESIGN, FACTS, LifeWorld

PASSWORD = "correct-horse-battery"


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    return {"Authorization": f"Bearer {resp.json['token']}"}


def test_project_to_ccers_over_rest(client, session, parties):
    w = LifeWorld(session, parties)
    owner, vvb_a, vvb_b, registry = (_auth(client, a) for a in (w.owner, w.vvb_a, w.vvb_b, w.registry))

    bad = client.post("/api/v1/projects", headers=owner, json={
        "title": "测试", "methodology_code": "CCER-01-002-V01", "construction_start": "2019-06-01",
        "facts": {**FACTS, "distance_offshore_km": 12, "water_depth_m": 8}, "periods": DESIGN})
    assert bad.status_code == 422 and "30" in bad.json["message"]  # offshore wind: > 30 km or > 30 m deep

    created = client.post("/api/v1/projects", headers=owner, json={
        "title": "山东半岛南3号海上风电项目", "methodology_code": "CCER-01-002-V01", "province": "山东省",
        "construction_start": "2019-06-01", "facts": FACTS, "periods": DESIGN})
    assert created.status_code == 201 and created.json["estimate_tco2e"] == 571_264
    pid = created.json["id"]
    assert client.get(f"/api/v1/projects/{pid}").status_code == 404  # a draft is not public

    refused = client.post(f"/api/v1/projects/{pid}/transitions/publicise", headers=owner, json={})
    assert refused.status_code == 422 and refused.json["field"] == "vvb" and refused.json["rule"] == "Measures Art. 12, 19"
    e = client.post("/api/v1/engagements", headers=owner, json={"role": "validation", "subject_id": pid, "vvb_id": w.vvb_a_org.id})
    assert client.post(f"/api/v1/engagements/{e.json['id']}/decision", headers=vvb_a, json={"accept": True}).status_code == 200
    pub = client.post(f"/api/v1/projects/{pid}/transitions/publicise", headers=owner, json={})
    assert pub.status_code == 200 and pub.json["publicity_end"] == "2025-03-31"
    assert [x["subject_id"] for x in client.get("/api/v1/publicity").json] == [pid]

    c = client.post("/api/v1/comments", json={"subject_type": "project", "subject_id": pid, "author_name": "渔民协会", "body": "施工期影响捕捞吗？"})
    assert c.status_code == 201 and c.json["status"] == "pending"
    assert client.get(f"/api/v1/comments?subject_type=project&subject_id={pid}").json == []  # not yet moderated
    client.post(f"/api/v1/comments/{c.json['id']}/moderation", headers=registry, json={"publish": True})
    client.post(f"/api/v1/comments/{c.json['id']}/response", headers=owner, json={"response": "施工期已与渔业部门协调补偿。"})
    f = client.post("/api/v1/findings", headers=vvb_a, json={"subject_type": "project", "subject_id": pid, "kind": "CL", "text": "说明并网日期"})
    assert client.get(f"/api/v1/findings?subject_type=project&subject_id={pid}").status_code in (401, 403)  # not the public's yet
    assert len(client.get(f"/api/v1/findings?subject_type=project&subject_id={pid}", headers=owner).json) == 1
    client.post(f"/api/v1/findings/{f.json['id']}/answer", headers=owner, json={"response": "2021-12-25 全容量并网"})
    client.post(f"/api/v1/findings/{f.json['id']}/close", headers=vvb_a, json={"accept": True})

    w.advance(40)
    assert "validate" in client.get(f"/api/v1/projects/{pid}", headers=vvb_a).json["transitions"]
    assert client.post(f"/api/v1/projects/{pid}/transitions/validate", headers=vvb_a, json={}).status_code == 200
    client.post(f"/api/v1/projects/{pid}/transitions/apply", headers=owner, json={})
    checklist = client.get(f"/api/v1/projects/{pid}/checklist", headers=registry).json
    assert all(i["ok"] for i in checklist) and len(checklist) >= 10
    reg = client.post(f"/api/v1/projects/{pid}/transitions/register", headers=registry, json={})
    assert reg.json["status"] == "registered" and reg.json["registry_no"] == 1

    csv = ("start,end,EG_export,EG_import,EF_grid_OM,EF_grid_BM,export_meter_class,export_calibration\n"
           "2024-01-01,2024-06-30,400000,500,0.9419,0.4819,0.2S,calibrated\n")
    up = client.post(f"/api/v1/projects/{pid}/monitoring-periods/upload", headers=owner,
                     data={"file": (io.BytesIO(csv.encode()), "h1-2024.csv")}, content_type="multipart/form-data")
    assert up.status_code == 201 and up.json["vintages"] == {"2024": 284_404}  # (400 000 − 500) × 0.7119 = 284 404.05
    mp = up.json["id"]
    assert client.get(f"/api/v1/monitoring-periods/{mp}").status_code == 404  # a draft batch is the owner's
    e = client.post("/api/v1/engagements", headers=owner, json={"role": "verification", "subject_id": mp, "vvb_id": w.vvb_b_org.id})
    client.post(f"/api/v1/engagements/{e.json['id']}/decision", headers=vvb_b, json={"accept": True})
    client.post(f"/api/v1/monitoring-periods/{mp}/transitions/publicise", headers=owner, json={})
    w.advance(40)
    ver = client.post(f"/api/v1/monitoring-periods/{mp}/transitions/verify", headers=vvb_b, json={})
    assert ver.json["verified_quantity"] == 284_404
    wrong = client.post(f"/api/v1/monitoring-periods/{mp}/transitions/apply", headers=owner, json={"quantity": 300_000})
    assert wrong.status_code == 422 and wrong.json["rule"] == "Measures Art. 21"
    client.post(f"/api/v1/monitoring-periods/{mp}/transitions/apply", headers=owner, json={"quantity": 284_404})
    done = client.post(f"/api/v1/monitoring-periods/{mp}/transitions/register", headers=registry, json={})
    assert done.json["status"] == "registered"
    pending = [r for r in client.get("/api/v1/approvals", headers=registry).json["items"] if r["kind"] == "registry.issue"]
    assert [r["target"] for r in pending] == [f"monitoring_period:{mp}"]  # the issuance waits for a second registry user
    assert client.get("/api/v1/public/issuances").json["items"] == []
    confirmed = client.post(f"/api/v1/approvals/{pending[0]['id']}/confirm", headers=_auth(client, w.registry2))
    assert confirmed.status_code == 200, confirmed.json
    issued = client.get("/api/v1/public/issuances").json["items"]
    assert [(i["vintage"], i["quantity"], i["batch"]) for i in issued] == [(2024, 284_404, 1)]

    docs = client.get(f"/api/v1/projects/{pid}/documents").json
    assert [d["kind"] for d in docs] == ["pdd", "validation_report", "accounting_report", "verification_report"]
    pdf = client.get(docs[0]["url"])
    assert pdf.data.startswith(b"%PDF-") and pdf.headers["X-SHA256"] == docs[0]["sha256"]


def test_public_pages_show_the_project_and_take_a_comment(client, session, parties):
    from ccer.projects import comments

    w = LifeWorld(session, parties)
    p = w.to_publicity()
    pid = p.id
    page = client.get("/projects/")
    assert page.status_code == 200 and p.title in page.get_data(as_text=True) and "2025-03-31" in page.get_data(as_text=True)
    detail = client.get(f"/projects/{p.id}")
    html = detail.get_data(as_text=True)
    assert "pdd" in html and "发表意见" in html
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    sent = client.post(f"/projects/{p.id}", data={"csrf": token, "author_name": "村民", "body": "造林会占用放牧地吗？"})
    assert sent.status_code == 302
    (c,) = comments.of(session, "project", p.id)
    assert (c.author_name, c.status) == ("村民", "pending")
    session.rollback()  # end the read (SQLite: BEGIN IMMEDIATE holds the write lock); p is expired now: use pid
    empty = client.post(f"/projects/{pid}", data={"csrf": token, "author_name": "", "body": "x"})
    assert empty.status_code == 422 and "author_name" in empty.get_data(as_text=True)
    assert client.post(f"/projects/{pid}", data={"author_name": "x", "body": "y"}).status_code == 403  # no CSRF token (ccer/web/security.py: 403 naming CSRF)
