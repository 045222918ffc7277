"""Issue #18 item 3 — carbon sinks: reversals netted across batches, conservative deductions, precision from
the plots of the strata used, the GIS change of each batch flagged, land eligibility required.

Hand figures (methodologies.md §5.5: C = A × V × WD × BEF × (1 + R) × CF × 44/12; 杉木 defaults WD 0.307,
BEF 1.634, R 0.246, CF 0.520 of §5.6): for 100 ha each m³/ha is 100 × 0.307 × 1.634 × 1.246 × 0.520 × 44/12
= 119.174474085333… tCO2e (the example chinese-fir-two-periods.json gives 3 575.23422256 for 30 m³/ha).
  60 m³/ha → 7 150.46844512 tCO2e;  60 → 20 m³/ha: a loss of 40 × 119.174474085333… = 4 766.978963413333…"""
from __future__ import annotations

import copy
import json
from decimal import Decimal as D

import numpy as np
import pytest
from sqlalchemy import func, select

from ccer.infra import clock
from ccer.infra.errors import ValidationError
from ccer.issuance.models import Issuance
from ccer.ledger.models import Event
from ccer.methodologies import registry
from ccer.methodologies.declarations import MethodologyError
from ccer.projects import boundaries, lifecycle, monitoring
from tests.lifecycle_world import LifeWorld
from tests.test_boundaries import _boundary
from tests.test_gis import px, write_raster

AFF = registry.get("CCER-14-001-V01")
EXAMPLE = json.load(open("methodologies/ccer_14_001_v01/examples/chinese-fir-two-periods.json", encoding="utf-8"))
PER_M3 = D("3575.23422256") / 30  # tCO2e per m³/ha over 100 ha (see the module docstring)
PRECISE = [30, 32, 28, 31, 29, 30, 33, 27, 30, 30]  # precision 3.41 % → no deduction (the example's hand figures)
CAL_YEARS = {"start_date": "2021-01-01", "crediting_start": "2021-01-01", "crediting_end": "2040-12-31"}
LOOSE = [20, 40, 30, 25, 35]  # precision 25.12 % → 11 % deduction (the example's hand figures)


def _period(start, end, v1, v2, plots=PRECISE, name="杉木林", area=100):
    return {"start": start, "end": end, "strata": [{"name": name, "species": "杉木", "area_ha": area, "V_t1": v1, "V_t2": v2}],
            "plots": plots}


def _doc(*periods, **project):
    doc = copy.deepcopy(EXAMPLE)
    doc.pop("expected")
    doc["project"].update(project)
    doc["periods"] = list(periods)
    return doc


# ---- the methodology: a loss kept whole, precision from the strata used -----------------------------------


def test_a_loss_is_kept_negative_and_never_shrunk_by_the_deduction():
    calc = AFF.calculate(_doc(_period("2021-03-01", "2026-02-28", 60, 20, plots=LOOSE)))
    # ΔC = −4 766.978963413333…; with 25.12 % precision the deduction (11 %) would make it −4 242.61…: it must not
    assert calc.periods[0].ER == pytest.approx(-(40 * PER_M3), abs=D("1e-9"))
    assert calc.periods[0].ER == pytest.approx(D("-4766.978963413333"), abs=D("1e-9"))
    pe = next(s for s in calc.trace.steps if s.symbol == "PE")
    assert "no deduction" in pe.formula
    # a gain with the same plots still takes the 11 %: 4 766.978963… × 0.89 = 4 242.611277437866…
    gain = AFF.calculate(_doc(_period("2021-03-01", "2026-02-28", 20, 60, plots=LOOSE)))
    assert gain.periods[0].ER == pytest.approx(D("4242.611277437866"), abs=D("1e-9"))


def test_the_deduction_comes_from_the_plots_of_the_strata_used():
    two = _period("2021-03-01", "2026-02-28", 0, 30, name="A", area=60)
    two["strata"].append({"name": "B", "species": "杉木", "area_ha": 40, "V_t1": 0, "V_t2": 30})
    two["plots"] = LOOSE  # one flat list for two strata: whose plots are they?
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_doc(two))
    assert err.value.field == "periods[0].plots" and "2 strata" in err.value.message
    two["plots"] = {"A": PRECISE, "C": LOOSE}  # C is not a stratum of the period
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_doc(two))
    assert err.value.field == "periods[0].plots.C"
    two["plots"] = {"A": PRECISE}  # B has no plots
    with pytest.raises(MethodologyError) as err:
        AFF.calculate(_doc(two))
    assert err.value.field == "periods[0].plots.B"
    two["plots"] = {"A": PRECISE, "B": LOOSE}
    calc = AFF.calculate(_doc(two))
    # stratified (AR-TOOL03): w = 0.6, 0.4; means 30, 30 → 30; s² = 28/9 and 250/4;
    # SE² = 0.36 × (28/9)/10 + 0.16 × 62.5/5 = 0.112 + 2.0 = 2.112, SE = 1.453272…; df = 9 + 4 = 13, t = 1.770933…;
    # precision = 1.770933 × 1.453272 / 30 = 2.573647 / 30 = 8.5788 % ≤ 10 % → no deduction (B's plots alone would give 11 %)
    steps = {s.symbol: s for s in calc.trace.steps}
    precision = next(v for k, v in steps["deduction"].inputs.items() if k == "precision")
    assert D(precision["value"]) == pytest.approx(D("0.085788"), abs=D("0.000002"))
    assert steps["deduction"].value == 0
    assert calc.periods[0].ER == pytest.approx(30 * PER_M3, abs=D("1e-9"))  # both strata at 30 m³/ha: 60 + 40 ha = 100 ha


def test_reversal_netting_by_hand():
    from ccer.projects import reversals

    calc = AFF.calculate(_doc(_period("2021-01-01", "2021-12-31", 0, 60), _period("2022-01-01", "2022-12-31", 60, 20),
                              _period("2023-01-01", "2023-12-31", 20, 60), **CAL_YEARS))
    netting = reversals.net(calc.to_dict(), D(0), D(0))
    credited = [D(c) for c in netting["credited"]]
    assert credited[0] == pytest.approx(60 * PER_M3, abs=D("1e-9")) and credited[1] == 0 and credited[2] == 0
    assert D(netting["loss"]) == pytest.approx(40 * PER_M3, abs=D("1e-9"))
    assert D(netting["after"]["outstanding_loss"]) == 0
    assert D(netting["after"]["highest_net_stock"]) == pytest.approx(60 * PER_M3, abs=D("1e-9"))
    # regrowth beyond the highest stock is credited again from there: 60 → 20 → 70 credits 10 × PER_M3 in period 3
    calc = AFF.calculate(_doc(_period("2021-01-01", "2021-12-31", 0, 60), _period("2022-01-01", "2022-12-31", 60, 20),
                              _period("2023-01-01", "2023-12-31", 20, 70), **CAL_YEARS))
    assert D(reversals.net(calc.to_dict(), D(0), D(0))["credited"][2]) == pytest.approx(10 * PER_M3, abs=D("1e-9"))


# ---- through the registry: three batches 0 → 60 → 20 → 60 m³/ha ------------------------------------------


def _forest_rasters(tmp_path):
    before = np.ones((100, 100), np.uint8)  # cropland: eligible for afforestation
    after = before.copy()
    after[20:25, 60:65] = 2  # the parcel became forest
    return write_raster(tmp_path / "clcd-2018.tif", before), write_raster(tmp_path / "clcd-forest.tif", after)


def _registered_sink(w, tmp_path, session):
    bare, forest = _forest_rasters(tmp_path)
    project = {**EXAMPLE["project"], "start_date": "2021-01-01", "crediting_start": "2021-01-01", "crediting_end": "2040-12-31"}
    p = lifecycle.create(session, w.owner, title="杉木造林碳汇（逆转测试）", methodology_code="CCER-14-001-V01", province="福建省",
                         construction_start="2021-01-01", facts=project, periods=[_period("2021-01-01", "2021-12-31", 0, 60)])
    w.engage(p, w.vvb_a_org, w.vvb_a)
    with pytest.raises(ValidationError) as err:  # no boundary checked, no publicity
        lifecycle.fire(session, w.owner, p.id, "publicise")
    assert err.value.field == "boundary" and "no boundary checked" in str(err.value)
    boundaries.attach(session, w.owner, p.id, _boundary(tmp_path, "fir", [("A1", px(60, 20, 5, 5))]), [bare])
    lifecycle.fire(session, w.owner, p.id, "publicise")
    w.advance(40)
    lifecycle.fire(session, w.vvb_a, p.id, "validate", comment_handling="无")
    lifecycle.fire(session, w.owner, p.id, "apply")
    lifecycle.fire(session, w.registry, p.id, "register")
    return p, bare, forest


def _walk(w, session, p, period, landcover, verifier, register=True):
    mp = monitoring.create(session, w.owner, p.id, [period], landcover=landcover)
    w.engage(mp, verifier[0], verifier[1], role="verification")
    monitoring.fire(session, w.owner, mp.id, "publicise")
    w.advance(40)
    monitoring.fire(session, verifier[1], mp.id, "verify", comment_handling="无")
    monitoring.fire(session, w.owner, mp.id, "apply", quantity=mp.verified_quantity)
    if register:
        monitoring.fire(session, w.registry, mp.id, "register")
    return mp


def test_stock_0_60_20_60_credits_exactly_the_net_stock(session, parties, tmp_path):
    w = LifeWorld(session, parties)
    forestry_org = parties.org(["vvb"], name="林业核查机构丙", sectors=["14"])
    verifier = (forestry_org, parties.actor(parties.user(forestry_org)))
    p, bare, forest = _registered_sink(w, tmp_path, session)

    # batch 1 stops at the application: its issuance is the registry's maker–checker act (ccer/issuance), not netting's
    one = _walk(w, session, p, _period("2021-01-01", "2021-12-31", 0, 60), (bare, forest), verifier, register=False)
    assert json.loads(one.vintages_json) == {"2021": 7150}  # ⌊7 150.46844512⌋
    two = _walk(w, session, p, _period("2022-01-01", "2022-12-31", 60, 20), (forest, bare), verifier)
    netting = json.loads(two.calculation_json)["netting"]
    assert D(netting["net_change"]) == pytest.approx(-(40 * PER_M3), abs=D("1e-9"))
    assert D(netting["after"]["outstanding_loss"]) == pytest.approx(40 * PER_M3, abs=D("1e-9"))
    assert json.loads(two.vintages_json) == {"2022": 0} and two.status == "registered"
    flagged = json.loads(two.calculation_json)["gis_change"]["flagged"]
    assert flagged == ["A1"]  # forest share 1 → 0 on the parcel: a loss flagged with the batch
    actions = set(session.execute(select(Event.action).where(Event.subject_type == "monitoring_period",
                                                             Event.subject_id == str(two.id))).scalars())
    assert {"monitoring_period.loss_recorded", "monitoring_period.gis_loss_flagged"} <= actions
    three = _walk(w, session, p, _period("2023-01-01", "2023-12-31", 20, 60), (bare, forest), verifier)
    assert json.loads(three.vintages_json) == {"2023": 0}  # regrowth makes the loss good: nothing more credited
    assert session.execute(select(func.count(Issuance.id)).where(Issuance.project_id == p.id)).scalar_one() == 0  # 0-batches issue nothing
    # the net stock 60 m³/ha = 7 150.468… t: 7 150 applied for in all, not 7 150 + 4 766 (the floored loss re-credited)
    assert sum(b.applied_quantity for b in (one, two, three)) == 7150

    with pytest.raises(ValidationError) as err:  # a sink batch without its GIS change check
        monitoring.create(session, w.owner, p.id, [_period("2024-01-01", "2024-12-31", 60, 61)])
    assert err.value.field == "landcover"


def test_a_sink_batch_over_rest_names_the_registry_rasters(client, session, parties, tmp_path, monkeypatch):
    monkeypatch.setenv("CCER_LANDCOVER_DIR", str(tmp_path))
    w = LifeWorld(session, parties)
    p, bare, forest = _registered_sink(w, tmp_path, session)
    token = client.post("/api/v1/auth/tokens", json={"username": w.owner.label, "password": "correct-horse-battery"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"periods": [_period("2021-01-01", "2021-12-31", 0, 60)]}
    missing = client.post(f"/api/v1/projects/{p.id}/monitoring-periods", headers=headers, json=body)
    assert missing.status_code == 422 and missing.json["field"] == "landcover"
    ok = client.post(f"/api/v1/projects/{p.id}/monitoring-periods", headers=headers,
                     json={**body, "landcover": [bare.name, forest.name]})
    assert ok.status_code == 201, ok.json
    assert ok.json["vintages"] == {"2021": 7150}  # ⌊60 × 119.174474…⌋, the GIS change kept with the batch


def test_a_mangrove_stand_that_lost_biomass_accrues_no_default_sediment_carbon():
    m = registry.get("CCER-14-002-V01")
    doc = json.load(open("methodologies/ccer_14_002_v01/examples/kandelia-four-years.json", encoding="utf-8"))
    doc.pop("expected")
    doc["periods"][0]["strata"][0].update(AGB_t1=32, AGB_t2=20)
    calc = m.calculate(doc)
    # vegetation: 50 ha × (20 − 32) t/ha × 1.49 × 0.47 × 44/12 = −894 × 0.47 = −420.18 tC × 11/3 = −1 540.66 tCO2e;
    # sediment: 0 (the stand lost biomass) instead of 50 × 1.62 × 4 × 44/12 = 1 188; ex-ante, no deduction
    assert calc.periods[0].ER == pytest.approx(D("-1540.66"), abs=D("1e-9"))


# ---- the netting kept right when a batch leaves the count (monitoring.renet, NETTING_CURRENT) -------------


def _publicised(w, session, p, period, landcover, verifier):
    mp = monitoring.create(session, w.owner, p.id, [period], landcover=landcover)
    w.engage(mp, verifier[0], verifier[1], role="verification")
    monitoring.fire(session, w.owner, mp.id, "publicise")
    return mp


def _recomputed(session, mp):
    return session.execute(select(Event).where(Event.action == "monitoring_period.netting_recomputed", Event.subject_id == str(mp.id))
                           .order_by(Event.id)).scalars().all()


def _forestry_vvb(parties):
    org = parties.org(["vvb"], name="林业核查机构丙", sectors=["14"])
    return org, parties.actor(parties.user(org))


def test_a_rejected_loss_no_longer_withholds_the_later_regrowth(session, parties, tmp_path):
    w = LifeWorld(session, parties)
    verifier = _forestry_vvb(parties)
    p, bare, forest = _registered_sink(w, tmp_path, session)
    one = _walk(w, session, p, _period("2021-01-01", "2021-12-31", 0, 60), (bare, forest), verifier, register=False)
    two = _publicised(w, session, p, _period("2022-01-01", "2022-12-31", 60, 20), (forest, bare), verifier)
    three = _publicised(w, session, p, _period("2023-01-01", "2023-12-31", 20, 60), (bare, forest), verifier)
    # counted after batches 1 and 2 (N = 60 − 40 = 20, H = 60 m³/ha): the regrowth to 60 makes the loss good, credits 0
    assert json.loads(three.vintages_json) == {"2023": 0}
    first_report = monitoring.records.latest(session, "accounting_report", "monitoring_period", three.id).id
    w.advance(40)
    monitoring.fire(session, verifier[1], two.id, "reject", reason="样地复测数据与遥感不符，损失无法核实", comment_handling="无")

    # without batch 2: N = 60, H = 60 before batch 3; +40 m³/ha → N = 100, credited 40 × 119.174474085333… = 4 766.978963413333…
    netting = json.loads(three.calculation_json)["netting"]
    assert D(netting["credited"][0]) == pytest.approx(40 * PER_M3, abs=D("1e-9"))
    assert D(netting["before"]["highest_net_stock"]) == pytest.approx(60 * PER_M3, abs=D("1e-9"))
    assert D(netting["after"]["outstanding_loss"]) == 0
    assert json.loads(three.vintages_json) == {"2023": 4766}  # ⌊4 766.978963…⌋
    [event] = _recomputed(session, three)
    data = json.loads(event.payload_json)
    assert data["cause"] == "batch 2 rejected" and data["credited_before"] == ["0"]
    assert (data["vintages_before"], data["vintages_after"]) == ({"2023": 0}, {"2023": 4766})
    assert _recomputed(session, one) == []  # batch 1 starts before batch 2: its netting never counted it
    # batch 3's accounting report was in publicity with the old figure: published again, its 20 working days start over
    assert monitoring.records.latest(session, "accounting_report", "monitoring_period", three.id).id != first_report
    assert three.publicity_start == clock.today(session)
    with pytest.raises(ValidationError) as err:
        monitoring.fire(session, verifier[1], three.id, "verify", comment_handling="无")
    assert "publicity" in str(err.value).lower()
    w.advance(40)
    monitoring.fire(session, verifier[1], three.id, "verify", comment_handling="无")
    monitoring.fire(session, w.owner, three.id, "apply", quantity=three.verified_quantity)
    monitoring.fire(session, w.registry, three.id, "register")
    assert (three.verified_quantity, three.applied_quantity) == (4766, 4766)

    # batch 2 entered again now: batch 3's CCERs were issued on a netting without it and stand — refused, naming it
    with pytest.raises(ValidationError) as err:
        monitoring.create(session, w.owner, p.id, [_period("2022-01-01", "2022-12-31", 60, 20)], landcover=(forest, bare))
    assert err.value.field == "periods" and "batch 3 covers a later period and is registered" in str(err.value)


def test_a_batch_verified_on_a_stale_netting_is_not_registered_and_a_reentered_batch_renets_it(session, parties, tmp_path):
    w = LifeWorld(session, parties)
    verifier = _forestry_vvb(parties)
    p, bare, forest = _registered_sink(w, tmp_path, session)
    _walk(w, session, p, _period("2021-01-01", "2021-12-31", 0, 60), (bare, forest), verifier, register=False)
    two = _publicised(w, session, p, _period("2022-01-01", "2022-12-31", 60, 20), (forest, bare), verifier)
    three = _publicised(w, session, p, _period("2023-01-01", "2023-12-31", 20, 60), (bare, forest), verifier)
    w.advance(40)
    monitoring.fire(session, verifier[1], three.id, "verify", comment_handling="无")
    monitoring.fire(session, w.owner, three.id, "apply", quantity=three.verified_quantity)
    assert three.verified_quantity == 0  # the regrowth making batch 2's loss good
    assert monitoring.MONITORING.failures(session, w.registry, three, "register") == []
    # a change of the count that bypassed renet is still caught where it matters (NETTING_CURRENT)
    two.status = "rejected"
    session.flush()
    [guard] = monitoring.MONITORING.failures(session, w.registry, three, "register")
    assert guard is monitoring.NETTING_CURRENT
    assert "it credits 0 tCO2e; they now give 4766" in guard.check(session, three, {})
    two.status = "publicity"
    session.flush()
    monitoring.fire(session, verifier[1], two.id, "reject", reason="损失无法核实", comment_handling="无")
    # batch 3 is netted without batch 2 (credits 4 766, as in the test above) but its verification fixed 0: not registered
    assert json.loads(three.vintages_json) == {"2023": 4766}
    with pytest.raises(ValidationError) as err:
        monitoring.fire(session, w.registry, three.id, "register")
    assert err.value.field == "netting" and "now credits 4766 tCO2e, the verification report fixed 0" in str(err.value)

    # the owner enters batch 2 again with the loss (a batch for an earlier period than an open one): batch 3 is netted
    # again with it — N = 20, H = 60 before batch 3, +40 → 60: credits 0 again, as verified, and is registered
    again = monitoring.create(session, w.owner, p.id, [_period("2022-01-01", "2022-12-31", 60, 20)], landcover=(forest, bare))
    assert json.loads(again.vintages_json) == {"2022": 0} and again.number == 4
    assert json.loads(three.vintages_json) == {"2023": 0}
    events = _recomputed(session, three)
    assert [json.loads(e.payload_json)["cause"] for e in events] == [
        "batch 2 rejected", "batch 4 entered for the earlier period 2022-01-01–2022-12-31"]
    monitoring.fire(session, w.registry, three.id, "register")
    assert three.status == "registered" and json.loads(three.calculation_json)["netting"]["credited"] == ["0"]


def test_what_a_registered_batch_credited_stands_and_is_made_good_first():
    from types import SimpleNamespace

    from ccer.projects import reversals

    def batch(change, credited):
        return SimpleNamespace(calculation_json=json.dumps({"periods": [{"exact": {"ER": str(change)}}],
                                                            "netting": {"credited": [str(credited)]}}))

    # 0 → 60 → 20 → 60 → 80 m³/ha (tCO2e units here): batches 1, 2, 4 registered crediting 60, 0, 20 while batch 3
    # (+40, the loss made good) counted; batch 3 then rejected. Without it: N = 60 − 40 + 20 = 40, the highest N 60 —
    # but 60 + 0 + 20 = 80 were credited and stand, so H = 80 and 40 are outstanding
    n, h = reversals.standing([batch(60, 60), batch(-40, 0), batch(20, 20)])
    assert (n, h) == (D(40), D(80))
    # a batch growing +50 reaches N = 90: credited only 90 − 80 = 10 (not 90 − 60 = 30: 20 were issued already)
    calc = {"periods": [{"exact": {"ER": "50"}}]}
    netting = reversals.net(calc, n, h)
    assert netting["credited"] == ["10"] and netting["before"]["outstanding_loss"] == "40"
    # a consistent history: what was credited is the highest N, so H is unchanged (0 → 60 → 20 → 70: 60 + 0 + 10)
    assert reversals.standing([batch(60, 60), batch(-40, 0), batch(50, 10)]) == (D(70), D(70))
