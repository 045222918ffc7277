"""Issue #18 item 4 — the rules that were off by a date or a flag, each at its boundary with hand figures."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from ccer.infra import clock
from ccer.infra.clock import CST
from ccer.infra.errors import ValidationError
from ccer.methodologies import registry
from ccer.methodologies.declarations import MethodologyError
from ccer.projects import eligibility, lifecycle, monitoring
from tests.lifecycle_world import FACTS, LifeWorld, half
from tests.test_lifecycle import early  # noqa: F401 — the fixture: a project registered with crediting from 2020-09-01

CMM = registry.get("CCER-10-001-V01")
AFF = registry.get("CCER-14-001-V01")
TUNNEL = registry.get("CCER-07-001-V01")


def _example(m, name):
    doc = json.loads((Path(m.package_dir) / "examples" / name).read_text(encoding="utf-8"))
    doc.pop("expected", None)
    return doc


@pytest.fixture()
def w(session, parties):
    return LifeWorld(session, parties)


def _at(session, day, hour=10):
    clock.set_time(session, datetime.combine(day, datetime.min.time()).replace(hour=hour, tzinfo=CST), freeze=True)
    session.commit()


# ---- Measures Art. 17: 5 years counted from the owner's application ------------------------------------------


def test_five_year_window_from_the_application_day_honoured_at_registration_weeks_later(w, session, early):
    mp = w.batch(early, [half("2020-09-23", "2020-12-31", 100000, 0)])  # crediting from 2020-09-01 (test_lifecycle.early)
    monitoring.fire(session, w.owner, mp.id, "publicise")
    w.advance(40)
    monitoring.fire(session, w.vvb_b, mp.id, "verify")
    # generated from 2020-09-23: the last application day is 2025-09-23 (5 years before it is 2020-09-23, not after the start)
    _at(session, date(2025, 9, 23))
    monitoring.fire(session, w.owner, mp.id, "apply", quantity=mp.verified_quantity)
    assert eligibility.application_date(session, mp, {}) == date(2025, 9, 23)
    # the registry decides weeks later (15 working days are up to ~3 weeks; here 4 weeks): still honoured
    _at(session, date(2025, 10, 21))
    assert eligibility.WITHIN_FIVE_YEARS.check(session, mp, {}) is None
    # counted from the decision day it would have been refused — the old behaviour
    assert "2020-10-21" in eligibility.WITHIN_FIVE_YEARS.check(session, mp, {"application_date": date(2025, 10, 21)})


# ---- the crediting period: required, within the methodology's (configurable) bounds --------------------------


def test_crediting_period_is_required(w, session):
    for missing in ("crediting_start", "crediting_end"):
        facts = {k: v for k, v in FACTS.items() if k != missing}
        with pytest.raises(ValidationError) as err:
            w.project(facts=facts)
        assert err.value.field == f"facts.{missing}" and "Measures Art. 8, 17" in err.value.rule
    assert lifecycle.crediting_text(type("P", (), {"crediting_start": None, "crediting_end": None})()) == "未载明 not stated"


def _afforestation(start, end):
    doc = _example(AFF, "chinese-fir-two-periods.json")
    doc["project"].update(start_date=start, crediting_start=start, crediting_end=end)
    doc["periods"] = [dict(doc["periods"][0], start=start, end="2026-02-28")]
    return doc


def test_afforestation_bounds_take_the_listed_18_year_project_and_are_configurable(monkeypatch):
    # 广东省怀集县造林碳汇项目 (registry listing): 2022-03-18 → 2040-03-17 = 6 575 days = 18.0 years
    listed = _afforestation("2022-03-18", "2040-03-17")
    AFF.calculate(listed)  # default 18–40 (the registry's own envelope): accepted
    with pytest.raises(MethodologyError) as err:  # 17.99… years: below 18
        AFF.calculate(_afforestation("2022-03-18", "2040-03-10"))
    assert "minimum of 18 years" in err.value.message
    monkeypatch.setenv("CCER_CREDITING_YEARS", "CCER-14-001-V01=20-40")  # the registry narrows it to methodologies.md §5.3
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(listed)
    assert "CCER_CREDITING_YEARS" in err.value.rule
    # a VERIFIED bound is not configurable: offshore wind stays ≤ 10 years
    monkeypatch.setenv("CCER_CREDITING_YEARS", "CCER-01-002-V01=1-20")
    wind = registry.get("CCER-01-002-V01")
    doc = _example(wind, "north-china-2023.json")
    doc["project"].update(crediting_start="2020-01-01", crediting_end="2031-12-31")
    with pytest.raises(MethodologyError) as err:
        wind.calculate(doc)
    assert "maximum of 10 years" in err.value.message


# ---- CCER-10-001-V01: utilisation, the < 8 % test on the drained gas, ρ, η_ox -------------------------------


def test_cmm_hand_figures_with_the_reference_density():
    calc = CMM.calculate(_example(CMM, "vam-power-and-heat.json"))
    # MD = 1000 (10^4 Nm³) × 0.006 × 7.16 (t/10^4 Nm³ = 0.716 kg/Nm³, methodologies.md §7) = 42.96 t CH4
    steps = {s.symbol: s for s in calc.trace.steps}
    assert steps["MD"].value == D("42.96")
    # BE = 42.96 × 21 + 2000 × 0.7119 + 1700/0.85 × 0.0946 = 902.16 + 1423.8 + 189.2 = 2515.16
    # PE = 42.96 × 0.97 × 2.75 + 42.96 × 0.03 × 21 + 300 × 0.7119 = 114.5958 + 27.0648 + 213.57 = 355.2306
    assert calc.total("BE") == D("2515.16") and calc.total("PE") == D("355.2306") and calc.ER_credited == 2159


def test_cmm_destruction_without_utilisation_is_not_credited():
    doc = _example(CMM, "vam-power-and-heat.json")
    doc["periods"][0].update(EG_net=0, HG_net=0)
    with pytest.raises(MethodologyError) as err:
        CMM.calculate(doc)
    assert err.value.field == "periods[0].EG_net" and "utilisation" in err.value.rule
    doc["periods"][0].update(HG_net=1)  # any heat supplied is utilisation
    CMM.calculate(doc)


def test_cmm_eta_ox_is_declared_or_monitored_never_invented():
    doc = _example(CMM, "vam-power-and-heat.json")
    del doc["periods"][0]["eta_ox"]
    with pytest.raises(MethodologyError) as err:
        CMM.calculate(doc)
    assert err.value.field == "periods[0].eta_ox"
    doc["periods"][0]["C_CH4_out"] = "0.0003"  # monitored: η = 1 − 0.0003/0.006 = 0.95
    assert next(s for s in CMM.calculate(doc).trace.steps if s.symbol == "eta_ox").value == D("0.95")


@pytest.mark.parametrize("drained, ok", [("0.0799", True), ("0.08", False)])
def test_cmm_eight_percent_is_tested_on_the_drained_gas(drained, ok):
    doc = _example(CMM, "vam-power-and-heat.json")
    doc["project"]["drained_gas"] = True
    with pytest.raises(MethodologyError) as err:  # blended drained gas must state its own concentration
        CMM.calculate(doc)
    assert err.value.field == "periods[0].C_CH4_drained"
    doc["periods"][0]["C_CH4_drained"] = drained  # the inlet (0.6 %) is always below 8 %: it is not the test
    if ok:
        CMM.calculate(doc)
    else:
        with pytest.raises(MethodologyError) as err:
            CMM.calculate(doc)
        assert err.value.field == "periods[0].C_CH4_drained" and "8 %" in err.value.rule


# ---- additionality through the tools; afforestation scope ---------------------------------------------------

#: investment 100 then 10 a year for 10 years: Σ flows = 0 → IRR = 0 %, below an 8 % benchmark; at ±10 % of each
#: driver the IRR stays below 8 % (investment 90: 10 × 10 = 100 > 90 → IRR ≈ 1.96 %) → robust
INVEST = {"investment": 100, "annual_output": 1, "price": 10, "annual_om": 0, "years": 10, "benchmark": "0.08"}
NOT_COMMON = {"n_all": 10, "n_diff": 8}  # F = 1 − 8/10 = 0.2: not > 0.2 → not common practice
BARRIER = {"kind": "financing", "description": "no bank lends against 20-year timber on this land", "evidence": ["银行拒贷函"]}


def _wet_afforestation(**facts):
    doc = _example(AFF, "chinese-fir-two-periods.json")
    doc["periods"] = doc["periods"][:1]
    doc["project"].update(annual_precipitation_mm=650, **facts)  # > 400 mm: not exempt
    return doc


def test_afforestation_additionality_runs_the_tools_on_recorded_inputs():
    with pytest.raises(MethodologyError) as err:  # a bare label is an unknown fact now; the tools need inputs
        AFF.calculate(_wet_afforestation(additionality={"barrier_analysis": True}))
    assert err.value.field == "project.additionality"
    calc = AFF.calculate(_wet_afforestation(additionality={"investment": INVEST, "common_practice": NOT_COMMON}))
    steps = {s.symbol: s for s in calc.trace.steps}
    assert abs(steps["IRR"].value) < D("1e-9") and steps["IRR"].inputs["benchmark"]["value"] == "0.08"
    assert steps["F_common_practice"].value == D("0.2") and "demonstrated" in calc.notes[0]
    # IRR above the benchmark (20 a year: IRR ≈ 15.1 % > 8 %) and no barrier → not demonstrated
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_wet_afforestation(additionality={"investment": {**INVEST, "price": 20}, "common_practice": NOT_COMMON}))
    assert "neither analysis" in err.value.message
    # an evidenced barrier demonstrates it; a barrier without evidence does not
    AFF.calculate(_wet_afforestation(additionality={"barriers": [BARRIER], "common_practice": NOT_COMMON}))
    with pytest.raises(MethodologyError):
        AFF.calculate(_wet_afforestation(additionality={"barriers": [{**BARRIER, "evidence": []}], "common_practice": NOT_COMMON}))
    # common practice: F = 1 − 5/10 = 0.5 > 0.2 and 10 − 5 = 5 > 3 → refused; the analysis itself is required
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_wet_afforestation(additionality={"barriers": [BARRIER], "common_practice": {"n_all": 10, "n_diff": 5}}))
    assert err.value.field == "project.additionality.common_practice" and "common practice" in err.value.message
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_wet_afforestation(additionality={"barriers": [BARRIER]}))
    assert err.value.field == "project.additionality.common_practice"


@pytest.mark.parametrize("use, ok", [("timber", True), ("protection", True), ("economic", False), ("urban_greening", False),
                                     ("corridor_greening", False)])
def test_economic_forest_and_urban_greening_are_excluded(use, ok):
    doc = _example(AFF, "chinese-fir-two-periods.json")
    doc["project"]["forest_use"] = use
    if ok:
        AFF.calculate(doc)
    else:
        with pytest.raises(MethodologyError) as err:
            AFF.calculate(doc)
        assert err.value.field == "project.forest_use" and "§2" in err.value.rule


def test_tunnel_lighting_additionality_is_demonstrated_unless_the_registry_exempts_it(monkeypatch):
    doc = _example(TUNNEL, "led-retrofit-south.json")
    assert "demonstrated" in TUNNEL.calculate(doc).notes[0]
    del doc["project"]["additionality"]
    with pytest.raises(MethodologyError) as err:
        TUNNEL.calculate(doc)
    assert err.value.field == "project.additionality"
    monkeypatch.setenv("CCER_ADDITIONALITY_EXEMPT", "CCER-07-001-V01")
    assert "configured by the registry" in TUNNEL.calculate(doc).notes[0]


# ---- cancelled projects never come back as new records (Measures Art. 16) ------------------------------------


def test_a_cancelled_project_entered_again_is_refused(w, session):
    from types import SimpleNamespace

    from ccer.infra.errors import Conflict
    from ccer.projects import cancelled

    p = w.project()
    lifecycle.fire(session, w.registry, p.id, "cancel", reason="业主申请注销")
    with pytest.raises(Conflict) as err:  # same owner, province (山东省) and methodology
        w.project(title="山东半岛南3号海上风电项目（重新录入）")
    assert err.value.field == "project" and err.value.rule == "Measures Art. 16" and f"#{p.id}" in str(err.value)
    w.project(province="江苏省")  # another location: a different project
    # with corner coordinates on both records, the site decides (centroids within 0.01°, about 1 km)
    at = lambda x, y: SimpleNamespace(id=None, facts_json=json.dumps({"boundary_corners": [[x, y], [x + 0.001, y], [x, y + 0.001]]}))
    assert cancelled._same_site(session, at(121.5, 36.5), at(121.505, 36.5)) is True
    assert cancelled._same_site(session, at(121.5, 36.5), at(121.52, 36.5)) is False



def test_a_revoked_project_entered_again_is_refused_after_the_owners_bar_too(w, session):
    from ccer.infra.errors import Conflict

    p = w.to_registered()
    waiting = w.project(title="山东半岛南3号海上风电项目（另一记录）")  # entered before the revocation, same owner, site, methodology
    w.engage(waiting, w.vvb_a_org, w.vvb_a)
    lifecycle.fire(session, w.registry, p.id, "revoke", reason="省生态环境厅认定篡改监测数据（测试）")
    with pytest.raises(Conflict) as err:
        w.project(title="山东半岛南3号海上风电项目（重新录入）")
    assert err.value.field == "project" and err.value.rule == "Measures Art. 43"
    assert f"matches revoked project #{p.id}" in str(err.value) and "(Measures Art. 43)" in str(err.value)
    # the owner's 3-year bar ends on 2028-04-12 (test_lifecycle); the revocation does not: still refused on 2028-04-13
    _at(session, date(2028, 4, 13))
    assert eligibility.owner_bar(session, w.owner_org.id, date(2028, 4, 13)) is None
    with pytest.raises(Conflict) as err:
        w.project(title="山东半岛南3号海上风电项目（三年后）")
    assert err.value.rule == "Measures Art. 43"
    # nor does the record entered before it go on: only the re-entry guard stands in its way now
    [guard] = lifecycle.PROJECT.failures(session, w.owner, waiting, "publicise")
    assert guard is lifecycle.NOT_CANCELLED_BEFORE and guard.rule == "Measures Art. 16, 43"
    w.project(province="江苏省")  # the owner's project elsewhere is a different project


def test_a_refused_project_may_apply_again(w, session):
    p = w.to_validated()
    lifecycle.fire(session, w.owner, p.id, "apply")
    lifecycle.fire(session, w.registry, p.id, "refuse", reason="额外性论证不充分")
    assert p.status == "refused"
    q = w.project(title="山东半岛南3号海上风电项目（补充论证后重新申请）")  # 不予登记 decides one application: no match
    w.engage(q, w.vvb_a_org, w.vvb_a)
    assert lifecycle.PROJECT.failures(session, w.owner, q, "publicise") == []
    lifecycle.fire(session, w.owner, q.id, "publicise")

# ---- green certificates: one treatment, frozen at project registration, cancelled at reduction registration ---


def test_green_certificates_claimed_are_the_mwh_excluded_and_events_are_written(w, session):
    from sqlalchemy import select

    from ccer.ledger.models import Event
    from ccer.projects import green_certificates

    p = w.to_registered()
    frozen = session.execute(select(Event).where(Event.action == "green_certificates.frozen", Event.subject_id == str(p.id))).scalars().all()
    assert len(frozen) == 1
    periods = [dict(half("2023-07-01", "2023-12-31", 400000, 500), EG_GEC=12000), half("2024-01-01", "2024-06-30", 403701, 750)]
    mp = w.batch(p, periods, green_certificates_mwh=12_000)
    assert green_certificates.problem(mp) is None  # claimed 12 000 MWh = the 12 000 MWh the calculation excludes (EG_GEC)
    mp.green_certificates_mwh = 11_999
    assert "exclude exactly the claimed MWh" in green_certificates.problem(mp)
    mp.green_certificates_mwh = 12_000
    # EG_PJ = (400 000 − 500 − 12 000) × 0.998 (0.2S calibrated: no correction → ×1) … the sum is what registration cancels
    calc = json.loads(mp.calculation_json)
    assert green_certificates.excluded_mwh(calc) == 12000
    assert green_certificates.credited_mwh(calc) == D(400000 - 500 - 12000) + D(403701 - 750)
    green_certificates.cancel(session, w.registry, mp)
    event = session.execute(select(Event).where(Event.action == "green_certificates.cancelled")).scalars().one()
    assert event.subject_id == str(mp.id)


# ---- old CCERs (Measures Art. 49; MEE notice 2023-10-24) ------------------------------------------------------


def test_old_ccers_offset_the_national_ets_only_until_2024_12_31(session, parties):
    from ccer.infra.errors import Conflict
    from ccer.issuance import legacy
    from tests.registry_world import World

    world = World(session, parties)
    with pytest.raises(ValidationError) as err:  # the old regime's filings end before 2017-03-14
        legacy.record_project(session, world.registry, title="x", old_methodology="CM-001-V01", sector="01",
                              owner_id=world.owner.org.id, province="甘肃省", filing_no="备案-1", filed_on="2017-03-14")
    assert err.value.field == "filed_on"
    old = legacy.record_project(session, world.registry, title="某风电场（旧CCER）", old_methodology="CM-001-V01", sector="01",
                                owner_id=world.owner.org.id, province="甘肃省", filing_no="备案-0001", filed_on="2015-06-01")
    with pytest.raises(Conflict) as err:  # Art. 49: no new batches on the old record — it re-applies as a new project
        monitoring.create(session, world.owner.maker, old.id, [half("2023-01-01", "2023-06-30", 1000, 0)])
    assert err.value.rule == "Measures Art. 49"
    world.issue({"2016": 1000}, project=old)  # old reductions (before 2020-09-22) recorded and issued as filed
    from ccer.issuance.holdings import holdings

    row = next(r for r in holdings(session, world.owner.account.id) if r["project_id"] == old.id)
    assert row["quantity"] == 1000 and row["legacy"]["national_ets_until"] == "2024-12-31"  # on the holding
    # 2026-12-07 (the world's clock): past 2024-12-31 → refused for the national ETS, allowed for other uses
    assert "2024-12-31" in legacy.use_problem(old, "national_ets", date(2025, 1, 1))
    assert legacy.use_problem(old, "national_ets", date(2024, 12, 31)) is None
    assert legacy.use_problem(old, "enterprise_offset", date(2026, 12, 7)) is None
    with pytest.raises(ValidationError) as err:
        world.retire(world.owner, purpose="national_ets", compliance_year=2025, beneficiary_uscc=world.owner.org.uscc,
                     project_no=old.registry_no, vintage=2016, quantity=10)
    assert err.value.field == "purpose" and "2024-12-31" in str(err.value)
    world.retire(world.owner, purpose="enterprise_offset", project_no=old.registry_no, vintage=2016, quantity=10)


# ---- the national ETS offset ratio read from reference data ---------------------------------------------------


def test_offset_ratio_comes_from_the_reference_data_in_force(session, parties):
    from ccer.issuance import retirements
    from ccer.reference import services as reference
    from tests.registry_world import World

    world = World(session, parties)  # clock: 2026-12-07
    world.issue({2021: 100_000})
    world.transfer(world.owner, world.emitter, quantity=80_000)
    retirements.set_obligation(session, world.registry, world.emitter.org.id, 2026, 1_000_000, "配额分配通知（测试）")
    uscc = world.emitter.org.uscc
    # packaged edition: 5 % from 2021-02-01 → 1 000 000 × 0.05 = 50 000
    assert reference.offset_ratio(session, date(2026, 12, 7))[0] == D("0.05")
    # the registry loads a ratio of 4.5 % from 2026-12-01 (illustrative edition): cap 1 000 000 × 0.045 = 45 000
    reference.load(session, world.registry, "# kind: offset-ratio\n# edition: 2026-test\n# title: 测试比例\n# source: 测试\n"
                   "# published: 2026-11-30\n# status: UNCONFIRMED\neffective_from,ratio\n2021-02-01,0.05\n2026-12-01,0.045\n")
    with pytest.raises(ValidationError) as err:
        world.retire(world.emitter, purpose="national_ets", quantity=45_001, beneficiary_uscc=uscc, compliance_year=2026)
    assert "at most 45000" in str(err.value) and "4.5%" in str(err.value) and err.value.rule.startswith("ETS Measures Art. 29")
    assert world.retire(world.emitter, purpose="national_ets", quantity=45_000, beneficiary_uscc=uscc, compliance_year=2026).quantity == 45_000
