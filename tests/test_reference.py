"""Reference data the registry maintains (issue 18): files refused with the line and field, versions with provenance
and an event, the year-y rule over every edition in force with its province → grid mapping, the edition each
figure used in the trace, and the provisional calendar recomputed when the registry loads a year."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from click.testing import CliRunner

from ccer.infra import calendar, clock
from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.ledger.models import Event
from ccer.methodologies import fuels, grid
from ccer.methodologies.protocol import MethodologyError
from ccer.methodologies.registry import installed
from ccer.reference import datasets, services
from tests.lifecycle_world import LifeWorld

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _forget_installed():
    """The tools are process-wide: leave them as packaged for the tests that follow."""
    yield
    grid.install(())
    fuels.install(())
    calendar.install({})
    services.forget()


def _file(kind, edition, header_rows, *, status="VERIFIED", published="2025-12-01", extra=""):
    return (f"# kind: {kind}\n# edition: {edition}\n# title: {kind} {edition} (test)\n# source: tests\n"
            f"# published: {published}\n# status: {status}\n{extra}{header_rows}")


GRID_2024 = _file("grid-factors", "2024", "grid,OM,BM\n华北,0.8800,0.3000\n东北,0.9000,0.2000\n华东,0.7000,0.3000\n"
                  "华中,0.8000,0.2000\n西北,0.8000,0.4000\n南方,0.7000,0.2000\n西南,0.3000,0.1000\n", published="2025-06-30")
#: a hypothetical 2027 notice (test data, not the real one): 1 January and a bridge on Monday 4 January off
CALENDAR_2027 = _file("calendar", "2027", "date,type,name\n2027-01-01,holiday,元旦\n2027-01-04,holiday,元旦\n2027-02-05,holiday,春节\n"
                      "2027-02-06,holiday,春节\n2027-04-05,holiday,清明节\n2027-05-01,holiday,劳动节\n2027-06-09,holiday,端午节\n"
                      "2027-09-15,holiday,中秋节\n2027-10-01,holiday,国庆节\n2027-10-09,workday,国庆节\n")


# ---- the file format ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, field, line", [
    # 2024 edition without 西南 (a grid of its own from 2024, methodologies.md §4.2): the line after the last row
    (GRID_2024.replace("西南,0.3000,0.1000\n", ""), "grid", 14),
    (GRID_2024.replace("华北,0.8800", "华北,abc"), "OM", 8),
    (GRID_2024.replace("东北,0.9000,0.2000", "东北,0.9000,7"), "BM", 9),       # above 2 tCO2/MWh
    (GRID_2024.replace("华中,", "华南,"), "grid", 11),                         # no such grid
    (GRID_2024.replace("# status: VERIFIED", "# status: OFFICIAL"), "status", 6),
    (GRID_2024.replace("# edition: 2024", "# edition: twenty"), "edition", 2),
    (GRID_2024.replace("# published: 2025-06-30\n", ""), "published", 6),
    (CALENDAR_2027.replace("2027-06-09,holiday,端午节\n", ""), "date", 17),     # 端午 2027-06-09 missing
    (CALENDAR_2027.replace("2027-10-09,workday", "2027-10-08,workday"), "date", 17),  # a Friday is no make-up day
    (CALENDAR_2027.replace("2027-01-04,holiday", "2026-01-04,holiday"), "date", 9),   # not in 2027
    (_file("offset-ratio", "2026", "effective_from,ratio\n2026-01-01,1.5\n"), "ratio", 8),
    (_file("fuels", "x", "fuel,name_zh,unit,NCV,NCV_unit,CC,OF\ndiesel,柴油,t,42.652,GJ/t,0.0202\n"), "row", 8),
    (GRID_2024.replace("东北,0.9000", "东北,0.9\x000"), "file", 9),           # a NUL never reaches the database
])
def test_bad_files_are_refused_naming_line_and_field(text, field, line):
    with pytest.raises(datasets.DatasetError) as err:
        datasets.parse(text)
    assert err.value.field == field and err.value.message.startswith(f"line {line}:"), err.value.message


def test_packaged_editions_parse_and_the_derived_one_says_so():
    eds = {e.year: e for e in grid.packaged()}
    assert set(eds) == {2019, 2023}
    assert eds[2019].factors["华北"] == (D("0.9419"), D("0.4819")) and eds[2019].status == "UNCONFIRMED"
    # 497,191 t ÷ 803,701 MWh = 0.61862682766…, kept to 10 decimals rounded up so the floor gives 497,191 again
    assert eds[2023].factors == {"华北": (D("0.6186268277"), D("0.6186268277"))} and eds[2023].derived
    assert int(D(803701) * D("0.6186268277")) == 497191 and int(D(803701) * D("0.6186268276")) == 497190


# ---- the province → grid mapping per edition (methodologies.md §4.6) ------------------------------------------


def test_sichuan_and_chongqing_move_to_the_southwest_grid_only_in_editions_that_have_it():
    e2019 = grid.packaged()[0]
    e2024 = grid.from_dataset(datasets.parse(GRID_2024))
    assert e2019.grid_of_province("四川省") == "华中" and e2019.grid_of_province("重庆市") == "华中"
    assert e2024.grid_of_province("四川省") == "西南" and e2024.grid_of_province("重庆市") == "西南"
    assert e2024.grid_of_province("西藏自治区") == "西南"
    with pytest.raises(MethodologyError) as err:  # 藏 belongs to no grid before the split
        e2019.grid_of_province("西藏自治区")
    assert err.value.field == "project.province"
    assert e2019.grid_of_province("山东省") == e2024.grid_of_province("山东省") == "华北"


# ---- loading: versions, provenance, the ledger, both databases ------------------------------------------------


def test_load_versions_provenance_and_the_year_y_rule(session, parties):
    reg = parties.org(["registry_operator"], name="注册登记机构（测试）")
    registry = parties.actor(parties.user(reg))
    owner = parties.actor(parties.user(parties.org(["project_owner"])))
    with pytest.raises(Forbidden):
        services.load(session, owner, GRID_2024)
    row = services.load(session, registry, GRID_2024, filename="2024.csv")
    assert (row.kind, row.edition, row.version, row.loaded_by_id) == ("grid-factors", "2024", 1, registry.user_id)
    ev = session.query(Event).filter_by(action="reference.loaded").one()
    assert json.loads(ev.payload_json)["sha256"] == row.sha256 and ev.actor_user_id == registry.user_id
    with pytest.raises(Conflict):  # the same file again
        services.load(session, registry, GRID_2024)
    v2 = services.load(session, registry, GRID_2024.replace("华北,0.8800", "华北,0.8700"))
    assert v2.version == 2
    listed = [d for d in services.listing(session, "grid-factors") if d["edition"] == "2024"]
    assert [(d["version"], d["in_force"]) for d in listed] == [(1, False), (2, True)]
    assert services.show(session, "grid-factors", "2024", 1)["content"]["grids"]["华北"]["OM"] == "0.8800"

    m = installed()["CCER-01-002-V01"]
    doc = {"stage": "ex-post", "project": {"distance_offshore_km": 34, "water_depth_m": 25, "grid": "西南"},
           "periods": [{"start": "2025-01-01", "end": "2025-12-31", "EG_export": 1000}]}
    # 2025, no 2025 edition → the latest earlier: 2024 v2; 西南 CM = 0.3 × 0.5 + 0.1 × 0.5 = 0.2 → 200 t
    calc = m.calculate(doc)
    assert calc.total("ER") == D(200)
    src = next(s for s in calc.trace.steps if s.symbol == "EF_grid_CM").inputs["EF_grid_OM"]["source"]
    assert "edition 2024" in src and "v2" in src and "VERIFIED" in src and "latest earlier" in src
    # 华北 2025: 0.87 × 0.5 + 0.3 × 0.5 = 0.585 → 585 t (the loaded 2024 edition, not the derived 2023 one)
    doc["project"]["grid"] = "华北"
    assert m.calculate(doc).total("ER") == D(585)
    # before the 2024 edition was published (2025-06-30) the 西南 grid has no edition at all: a clear message
    doc["project"].update(grid="西南", ef_as_of="2025-06-01")
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field == "EF_grid_OM" and "ccer reference load" in err.value.message
    # the province, without a grid: 四川 → 西南 in the 2024 edition → 200 t
    doc["project"] = {"distance_offshore_km": 34, "water_depth_m": 25, "province": "四川省"}
    assert m.calculate(doc).total("ER") == D(200)


def test_offset_ratio_from_reference_data(session, parties):
    reg = parties.org(["registry_operator"], name="注册登记机构（测试）")
    registry = parties.actor(parties.user(reg))
    ratio, src = services.offset_ratio(session, date(2025, 6, 1))
    assert ratio == D("0.05") and "Art. 29" in src and "VERIFIED" in src  # the packaged 5 % from 2021-02-01
    with pytest.raises(ValidationError):
        services.offset_ratio(session, date(2021, 1, 31))
    services.load(session, registry, _file("offset-ratio", "2027", "effective_from,ratio\n2021-02-01,0.05\n2027-01-01,0.1\n"))
    assert services.offset_ratio(session, date(2026, 12, 31))[0] == D("0.05")
    assert services.offset_ratio(session, date(2027, 1, 1))[0] == D("0.1")


# ---- the provisional calendar and its recomputation (the "done when") ---------------------------------


def test_publicity_opened_2026_12_10_runs_provisional_then_is_recomputed(session, parties):
    w = LifeWorld(session, parties, now=datetime(2026, 12, 10, 9, 0))
    p = w.to_publicity()  # never refused for want of the 2027 calendar
    # from Thu 10 Dec: 11 (1), 14–18 (6), 21–25 (11), 28–31 (15); 1 Jan 2027 元旦 (statutory); 4–8 Jan (20)
    assert p.publicity_end == date(2027, 1, 8)
    from ccer.projects import lifecycle

    view = lifecycle.public_view(session, p, w.owner)
    assert view["publicity_provisional"] is True
    # the registry loads the 2027 notice (test data: 4 January bridged): 5–8 Jan (19), Mon 11 Jan (20)
    services.load(session, w.registry, CALENDAR_2027, filename="2027.csv")
    session.refresh(p)
    assert p.publicity_end == date(2027, 1, 11)
    assert lifecycle.public_view(session, p, w.owner)["publicity_provisional"] is False
    ev = session.query(Event).filter_by(action="project.deadline_recomputed", subject_id=str(p.id)).one()
    data = json.loads(ev.payload_json)
    assert (data["from"], data["to"], data["calendar"]) == ("2027-01-08", "2027-01-11", 2027)


def test_api_reads_for_all_loads_for_the_registry(client, session, parties):
    w = LifeWorld(session, parties, now=datetime(2026, 12, 10, 9, 0))
    p = w.to_publicity()
    board = client.get("/publicity/").get_data(as_text=True)
    assert "2027-01-08" in board and "（暂定）" in board  # the public board marks the provisional end
    assert client.get(f"/api/v1/projects/{p.id}").json["publicity_provisional"] is True
    listed = client.get("/api/v1/reference?kind=grid-factors")
    assert listed.status_code == 200 and {d["edition"] for d in listed.json} == {"2019", "2023"}
    shown = client.get("/api/v1/reference/grid-factors/2023")
    assert shown.status_code == 200 and shown.json["content"]["grids"]["华北"]["OM"] == "0.6186268277"
    assert shown.json["status"] == "UNCONFIRMED"
    due = client.get("/api/v1/reference/calendar/deadline?start=2026-12-10&workdays=20")
    assert due.json == {"start": "2026-12-10", "workdays": 20, "end": "2027-01-08", "provisional": True,
                        "rules": calendar.STATUTORY_RULES}
    assert client.get("/api/v1/reference/grid-factors/20%0023").status_code in (404, 422)  # never reaches the database
    assert client.get("/api/v1/reference/grid/2023").json["field"] == "kind"
    assert client.post("/api/v1/reference", json={"file": CALENDAR_2027}).status_code == 401
    token = client.post("/api/v1/auth/tokens", json={"username": w.owner.label, "password": PASSWORD}).json["token"]
    assert client.post("/api/v1/reference", json={"file": CALENDAR_2027},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 403
    token = client.post("/api/v1/auth/tokens", json={"username": w.registry.label, "password": PASSWORD}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    nul = client.post("/api/v1/reference", json={"file": CALENDAR_2027.replace("元旦", "元\x00旦")}, headers=auth)
    assert nul.status_code == 422 and nul.json["field"] == "file"
    bad = client.post("/api/v1/reference", json={"file": CALENDAR_2027.replace("2027-06-09", "2027-06-10")}, headers=auth)
    assert bad.status_code == 422 and bad.json["field"] == "date" and "端午节" in bad.json["message"]
    ok = client.post("/api/v1/reference", json={"file": CALENDAR_2027, "filename": "2027.csv"}, headers=auth)
    assert ok.status_code == 201 and ok.json["version"] == 1 and ok.json["loaded_by"] == w.registry.label
    due = client.get("/api/v1/reference/calendar/deadline?start=2026-12-10&workdays=20")
    assert due.json["end"] == "2027-01-11" and due.json["provisional"] is False
    board = client.get("/publicity/").get_data(as_text=True)
    assert "2027-01-11" in board and "（暂定）" not in board  # recomputed by the load
    shown = client.get(f"/api/v1/projects/{p.id}").json
    assert shown["publicity_end"] == "2027-01-11" and shown["publicity_provisional"] is False


def test_cli_load_list_show(tmp_path, db_url, session):
    from ccer.cli import main

    good, bad = tmp_path / "2027.csv", tmp_path / "bad.csv"
    good.write_text(CALENDAR_2027, encoding="utf-8")
    bad.write_text(GRID_2024.replace("西南,0.3000,0.1000\n", ""), encoding="utf-8")
    run = CliRunner()
    out = run.invoke(main, ["--database", db_url, "reference", "load", str(bad)])
    assert out.exit_code != 0 and "line 14" in out.output and "西南" in out.output
    out = run.invoke(main, ["--database", db_url, "reference", "load", str(good), "--by", "registry-cli"])
    assert out.exit_code == 0 and "calendar 2027 version 1" in out.output, out.output
    out = run.invoke(main, ["--database", db_url, "reference", "list", "--kind", "calendar"])
    assert "2027" in out.output and "registry-cli" in out.output and "2026       v0" in out.output
    out = run.invoke(main, ["--database", db_url, "reference", "show", "calendar", "2027"])
    assert json.loads(out.output)["content"]["holidays"]["2027-01-04"] == "元旦"
    assert clock.latest_event(session) is not None  # the load is in the ledger


def test_a_registry_review_due_is_recomputed_too(session, parties, db_url):
    from ccer.cli import main
    from ccer.issuance import accounts

    w = LifeWorld(session, parties, now=datetime(2026, 12, 20, 9, 0))
    org = parties.org(["key_emitter"], name="某发电有限公司（测试）")
    acc = accounts.apply_for_account(session, parties.actor(parties.user(org)), org.id)
    # 15 working days from Sun 20 Dec 2026 (Registry Rules Art. 7): 21–25 (5), 28–31 (9), 1 Jan off, 4–8 (14), Mon 11 Jan (15)
    assert acc.review_due == date(2027, 1, 11)
    due = CliRunner().invoke(main, ["--database", db_url, "registry", "due"]).output
    assert "2027-01-11  prov." in due
    services.load(session, w.registry, CALENDAR_2027)
    session.refresh(acc)
    assert acc.review_due == date(2027, 1, 12)  # 4 January off as well: 5–8 (13), 11 (14), 12 (15)
    ev = session.query(Event).filter_by(action="account.deadline_recomputed", subject_id=str(acc.id)).one()
    assert json.loads(ev.payload_json)["field"] == "review_due"
    session.commit()
    due = CliRunner().invoke(main, ["--database", db_url, "registry", "due"]).output
    assert "2027-01-12" in due and "prov." not in due
