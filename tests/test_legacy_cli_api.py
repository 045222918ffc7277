"""Old-regime CCERs reachable by the registry (issue #18, issuance side; ccer/issuance/legacy.py): recorded through
`ccer legacy …` and /api/v1/legacy/…, their CCERs retired for the national ETS until 2024-12-31 and refused from
2025-01-01 (MEE notice 2023-10-24 [S6]); filings from 2017-03-14 refused (Measures Art. 49). Also the national-ETS
offset cap shown at the ratio in force (reference data), not a fixed 5 %."""
from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner

from ccer.cli import main
from ccer.infra import clock
from ccer.issuance import legacy
from tests import registry_world
from tests.registry_world import World

PASSWORD = "correct-horse-battery"
SOURCE = "测试：原注册登记系统备案签发记录"


def _auth(client, actor) -> dict:
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _project(owner_uscc: str, **over) -> dict:
    return {"title": "某风电场（旧CCER）", "filing_no": "备案-0001", "filed_on": "2015-06-01", "owner_uscc": owner_uscc,
            "sector": "01", "old_methodology": "CM-001-V01", "province": "甘肃省", **over}


def test_old_ccers_through_the_api_until_2024_12_31(client, session, parties, monkeypatch):
    # the world stands on Tuesday 2024-12-31 10:00 Beijing time, the last day old CCERs offset the national ETS
    monkeypatch.setattr(registry_world, "TRADING_MORNING", datetime(2024, 12, 31, 10, 0, tzinfo=clock.CST))
    w = World(session, parties)
    session.commit()
    registry, owner, checker = _auth(client, w.registry), _auth(client, w.owner.maker), _auth(client, w.owner.checker)
    body = _project(w.owner.org.uscc)

    # a non-registry user may not record one (the service's permission, project.import)
    denied = client.post("/api/v1/legacy/projects", headers=owner, json=body)
    assert denied.status_code == 403 and denied.json["rule"] == "project.import"
    assert client.post("/api/v1/legacy/projects", json=body).status_code == 401
    # a filing on 2017-03-14 is not old-regime: it re-applies as a new project (Art. 49)
    late = client.post("/api/v1/legacy/projects", headers=registry, json={**body, "filed_on": "2017-03-14"})
    assert late.status_code == 422 and late.json["field"] == "filed_on" and late.json["rule"] == legacy.RULE_REAPPLY
    bad = client.post("/api/v1/legacy/projects", headers=registry, json={**body, "filed_on": "2015-02-30"})
    assert bad.status_code == 422 and bad.json["field"] == "filed_on"  # no such day: the schema names the field
    nobody = client.post("/api/v1/legacy/projects", headers=registry, json={**body, "owner_uscc": "91110000000000000X"})
    assert nobody.status_code == 404 and nobody.json["field"] == "owner_uscc"

    made = client.post("/api/v1/legacy/projects", headers=registry, json=body)
    assert made.status_code == 201, made.json
    p = made.json
    # World's listed project is registry No. 1; this is the next number, its code OLD-<field>-<old methodology>
    assert (p["registry_no"], p["methodology_code"], p["sector"], p["filing_no"], p["filed_on"]) == (
        2, "OLD-01-CM-001-V01", "01", "备案-0001", "2015-06-01")
    assert p["uses"] == {"legacy": True, "national_ets_until": "2024-12-31", "other_uses": "as provided (Measures Art. 49)",
                         "rule": legacy.RULE_ETS}
    again = client.post("/api/v1/legacy/projects", headers=registry, json={**body, "title": "重复"})
    assert again.status_code == 409 and again.json["field"] == "filing_no"

    # its old batch as filed: 2016, 1 000 t — registered, then issued by the registry's two users
    batch = {"start": "2016-01-01", "end": "2016-12-31", "vintages": {"2016": 1000}, "source": SOURCE}
    assert client.post(f"/api/v1/legacy/projects/{p['id']}/batches", headers=owner, json=batch).status_code == 403
    assert client.post(f"/api/v1/legacy/projects/{w.project.id}/batches", headers=registry, json=batch).status_code == 404  # not old
    recorded = client.post(f"/api/v1/legacy/projects/{p['id']}/batches", headers=registry, json=batch)
    assert recorded.status_code == 201, recorded.json
    assert (recorded.json["number"], recorded.json["status"], recorded.json["quantity"], recorded.json["issued"]) == (1, "registered", 1000, 0)
    proposed = client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": recorded.json["id"]})
    assert proposed.status_code == 202
    assert client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=_auth(client, w.registry2)).status_code == 200

    # anyone reads them, with their uses
    listed = client.get("/api/v1/legacy/projects").json
    assert [(r["registry_no"], r["quantity"], r["issued"]) for r in listed["items"]] == [(2, 1000, 1000)] and listed["next_cursor"] is None
    assert client.get(f"/api/v1/legacy/projects/{p['id']}").json["batches"][0]["vintages"] == {"2016": 1000}
    assert client.get(f"/api/v1/legacy/projects/{w.project.id}").status_code == 404  # a listed project is not an old one

    # the emitter's 2024 obligation: 100 000 t to surrender → cap 100 000 × 5 % (packaged ratio, from 2021-02-01) = 5 000 t
    obligation = client.post("/api/v1/obligations", headers=registry, json={"organisation_id": w.emitter.org.id, "year": 2024,
                                                                            "allowances": 100_000, "source": "配额分配通知（测试）"})
    assert obligation.status_code == 201 and obligation.json["offset_cap"] == 5000 and obligation.json["offset_ratio"] == "0.05"
    retire = {"account": w.owner.account.number, "project_no": 2, "vintage": 2016, "quantity": 10, "purpose": "national_ets",
              "beneficiary_name": w.emitter.org.name, "beneficiary_uscc": w.emitter.org.uscc, "compliance_year": 2024}
    # 2024-12-31: accepted
    req = client.post("/api/v1/retirements", headers=owner, json=retire)
    assert req.status_code == 202, req.json
    done = client.post(f"/api/v1/approvals/{req.json['id']}/confirm", headers=checker)
    assert done.status_code == 200, done.json

    # 2025-01-01: refused for the national ETS, with the rule; other uses remain
    clock.set_time(session, datetime(2025, 1, 1, 10, 0, tzinfo=clock.CST), freeze=True)
    session.commit()
    refused = client.post("/api/v1/retirements", headers=owner, json=retire)
    assert refused.status_code == 422 and refused.json["field"] == "purpose" and refused.json["rule"] == legacy.RULE_ETS
    assert "only until 2024-12-31" in refused.json["message"]
    other = client.post("/api/v1/retirements", headers=owner, json={**retire, "purpose": "enterprise_offset", "beneficiary_uscc": None,
                                                                    "compliance_year": None, "beneficiary_name": w.owner.org.name})
    assert other.status_code == 202, other.json


def run(db_url, *args):
    return CliRunner().invoke(main, ["--database", db_url, *args])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_records_lists_and_refuses_in_one_line(db_url, session, parties):
    from ccer.reference import services as reference

    w = World(session, parties)  # clock: 2026-12-07
    session.commit()
    registry, owner = w.registry.label, w.owner.maker.label
    session.close()
    args = ["legacy", "record-project", "--title", "某风电场（旧CCER）", "--filing-no", "备案-0001", "--owner-uscc", w.owner.org.uscc,
            "--sector", "01", "--old-methodology", "CM-001-V01", "--province", "甘肃省"]

    out = run(db_url, *args, "--filed-on", "2015-06-01", "--as", owner)  # not a registry user
    assert out.exit_code == 2 and out.output.strip().count("\n") == 0 and out.output.startswith("error: actor:")
    assert out.output.strip().endswith("[project.import]")
    out = run(db_url, *args, "--filed-on", "2017-03-14", "--as", registry)
    assert out.exit_code == 2 and out.output.strip() == (
        f"error: filed_on: filed 2017-03-14: the old regime's filings end before 2017-03-14 [{legacy.RULE_REAPPLY}]")
    out = run(db_url, *args, "--filed-on", "2015-06-01", "--as", registry)
    assert out.exit_code == 0, out.output
    pid = int(out.output.split(":")[0].split()[1])
    assert "registry No. 000002 OLD-01-CM-001-V01 某风电场（旧CCER） — filing 备案-0001" in out.output

    batch = ["legacy", "record-batch", str(pid), "--start", "2016-01-01", "--end", "2016-12-31", "--source", SOURCE, "--as", registry]
    out = run(db_url, *batch, "--vintage", "2016=abc")
    assert out.exit_code == 2 and out.output.startswith("error: vintage:")
    out = run(db_url, *batch, "--vintage", "2016=600", "--vintage", "2015=1")  # 2015 is outside the batch's period
    assert out.exit_code == 2 and "vintage 2015 is outside" in out.output
    out = run(db_url, *batch, "--vintage", "2016=600")
    assert out.exit_code == 0 and out.output.startswith("batch 1 of project 000002: 600 tCO2e registered; issue it: ccer registry issue")
    assert run(db_url, "legacy", "record-batch", "1", "--start", "2016-01-01", "--end", "2016-12-31", "--vintage", "2016=1",
               "--source", SOURCE, "--as", registry).exit_code == 2  # project 1 is a listed project, not an old one

    out = run(db_url, "legacy", "list")
    assert out.exit_code == 0
    assert out.output.rstrip("\n") == (f"{pid:>5} 000002 filing 备案-0001 of 2015-06-01 OLD-01-CM-001-V01 某风电场（旧CCER） "
                                  f"({w.owner.org.name}): 1 batch, 600 tCO2e, 0 issued; national ETS until 2024-12-31, "
                                  "other uses as provided (Measures Art. 49)")

    # the offset cap printed at the ratio in force: packaged 5 % → 1 000 000 × 0.05 = 50 000 t
    out = run(db_url, "registry", "obligation", w.emitter.org.uscc, "2026", "1000000", "--source", "配额分配通知（测试）")
    assert out.exit_code == 0 and "CCER offset cap 50,000 t (5% in force today" in out.output
    # a loaded ratio of 4.5 % from 2026-12-01 (illustrative edition): 1 000 000 × 0.045 = 45 000 t
    reference.load(session, w.registry, "# kind: offset-ratio\n# edition: 2026-test\n# title: 测试比例\n# source: 测试\n"
                   "# published: 2026-11-30\n# status: UNCONFIRMED\neffective_from,ratio\n2021-02-01,0.05\n2026-12-01,0.045\n")
    session.close()
    out = run(db_url, "registry", "obligation", w.emitter.org.uscc, "2026", "1000000", "--source", "配额分配通知（测试）")
    assert out.exit_code == 0 and "CCER offset cap 45,000 t (4.5% in force today: 测试比例" in out.output
