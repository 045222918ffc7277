"""Methodology plug-ins: worked examples computed by hand reproduce, the conformance suite passes, and every
rule refuses bad input naming the parameter. Hand arithmetic is in each example's "comment"."""
import copy
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from ccer.methodologies import MethodologyError, conformance, registry
from ccer.methodologies.conformance import examples_of

ALL = registry.installed()
EXAMPLES = [(code, path) for code, m in ALL.items() for path in examples_of(m)]


def test_the_six_are_installed_as_entry_points():
    assert list(ALL) == ["CCER-01-001-V01", "CCER-01-002-V01", "CCER-07-001-V01", "CCER-10-001-V01", "CCER-14-001-V01", "CCER-14-002-V01"]


@pytest.mark.parametrize("code, path", EXAMPLES, ids=[p.name for _, p in EXAMPLES])
def test_worked_examples_reproduce_the_hand_computation(code, path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    calc = ALL[code].calculate(doc)
    for symbol in ("BE", "PE", "LE", "ER"):
        assert abs(calc.total(symbol) - D(doc["expected"][symbol])) < D("1e-6"), symbol
    assert calc.ER_credited == doc["expected"]["ER_credited"]


@pytest.mark.parametrize("code", list(ALL))
def test_conformance_suite_passes(code):
    report = conformance.run(ALL[code])
    assert report.ok, [(c.name, c.detail) for c in report.checks if not c.ok]


def _offshore(**project):
    base = {"distance_offshore_km": 34, "water_depth_m": 25, "grid": "华北"}
    base.update(project)
    return {"stage": "ex-post", "project": base,
            "periods": [{"start": "2023-01-01", "end": "2023-12-31", "EG_export": 1000, "EF_grid_OM": "0.9", "EF_grid_BM": "0.5"}]}


@pytest.mark.parametrize("distance, depth, ok", [(30, 30, False), (21, 14, False), ("30.01", 10, True), (10, "30.5", True), (31, 0, True)])
def test_offshore_applicability_is_strict(distance, depth, ok):
    # §2: "30公里以外" OR "大于30米": exactly 30 km and 30 m is not enough
    doc = _offshore(distance_offshore_km=distance, water_depth_m=depth)
    if ok:
        assert ALL["CCER-01-002-V01"].calculate(doc).total("ER") == D(1000) * D("0.7")
    else:
        with pytest.raises(MethodologyError) as err:
            ALL["CCER-01-002-V01"].calculate(doc)
        assert err.value.field == "project.distance_offshore_km" and "§2" in err.value.rule


def test_meter_correction_of_an_uncalibrated_02s_export_meter():
    # methodologies.md §10.3: class 0.2S, uncalibrated → EG_export × (1 − 0.002)
    doc = _offshore()
    doc["periods"][0].update(EG_export=803701, export_meter_class="0.2S", export_calibration="uncalibrated")
    calc = ALL["CCER-01-002-V01"].calculate(doc)
    eg = next(s for s in calc.trace.steps if s.symbol == "EG_PJ")
    assert eg.value == D(803701) * D("0.998")


def test_published_shandong_figure_is_reproduced_from_a_labelled_edition():
    # 山东半岛南3号: 803,701 MWh → 497,191 t/yr (新京报 2024-12-03; methodologies.md §4.4). No factors given: the ex-ante
    # estimate takes the latest edition in force giving 华北, the packaged 2023 edition DERIVED from that registration:
    # CM = 0.6186268277 × 0.5 + 0.6186268277 × 0.5 = 0.6186268277; BE = 803,701 × 0.6186268277 = 497,191.0000493177
    doc = _offshore()
    doc["stage"] = "ex-ante"
    doc["periods"][0] = {"start": "2023-01-01", "end": "2023-12-31", "EG_export": 803701}
    calc = ALL["CCER-01-002-V01"].calculate(doc)
    assert calc.total("ER") == D("497191.0000493177") and calc.ER_credited == 497191
    src = next(s for s in calc.trace.steps if s.symbol == "EF_grid_CM").inputs["EF_grid_OM"]["source"]
    assert "edition 2023" in src and "UNCONFIRMED" in src and "derived" in src  # the trace says what it is
    # with the 2019 edition (attributed, UNCONFIRMED) it was 803,701 × 0.7119 = 572,154.7419 (+15 %)
    doc["periods"][0].update(EF_grid_OM="0.9419", EF_grid_BM="0.4819")
    assert ALL["CCER-01-002-V01"].calculate(doc).total("ER") == D("572154.7419")


@pytest.mark.parametrize("code", ["CCER-01-002-V01", "CCER-01-001-V01"])
@pytest.mark.parametrize("w_om, w_bm, ok", [("0.5", "0.5", True), ("0.75", "0.25", False), ("0.5", "0.50", True), ("0.25", "0.75", False)])
def test_weights_are_fixed_at_one_half(code, w_om, w_bm, ok):
    # CCER-01-002-V01 Tables 2–3, CCER-01-001-V01 formula (3): ω_OM = ω_BM = 0.5 (CDM Tool07's 0.75/0.25 is not the rule)
    doc = _offshore() if code == "CCER-01-002-V01" else {
        "stage": "ex-post", "project": {"configuration": "standalone", "grid": "西北"},
        "periods": [{"start": "2023-01-01", "end": "2023-12-31", "EG_export": 1000, "EF_grid_OM": "0.9", "EF_grid_BM": "0.5"}]}
    doc["periods"][0].update(w_OM=w_om, w_BM=w_bm)
    if ok:  # 0.9 × 0.5 + 0.5 × 0.5 = 0.7
        assert ALL[code].calculate(doc).total("ER") == D(700)
    else:
        with pytest.raises(MethodologyError) as err:
            ALL[code].calculate(doc)
        assert err.value.field == "periods[0].w_OM" and "0.5" in err.value.rule


@pytest.mark.parametrize("corners, field, ok", [
    ([["121.123456", "36.512345"], ["121.234567", "36.512345"], ["121.234567", "36.401234"]], None, True),
    ([["121.123450", "36.500000"], ["121.2", "36.512345"], ["121.234567", "36.401234"]], "project.boundary_corners[1]", False),
    ([[121.1234567, 36.1234567], [121.2345678, 36.1234567], [121.2345678, 36.0123456]], None, True),  # numbers with 7 decimals
    ([["121.123456", "36.512345"], ["121.234567", "36.512345"]], "project.boundary_corners", False),  # 2 corners
    ([["12.123456", "36.512345"], ["121.234567", "36.512345"], ["121.234567", "36.401234"]], "project.boundary_corners[0]", False),
])
def test_boundary_corners_need_six_decimals(corners, field, ok):
    doc = _offshore(boundary_corners=corners)
    if ok:
        assert ALL["CCER-01-002-V01"].calculate(doc).total("ER") == D(700)
    else:
        with pytest.raises(MethodologyError) as err:
            ALL["CCER-01-002-V01"].calculate(doc)
        assert err.value.field == field


def test_grid_edition_rule():
    m = ALL["CCER-01-002-V01"]
    doc = _offshore(grid="华东")
    del doc["periods"][0]["EF_grid_OM"], doc["periods"][0]["EF_grid_BM"]
    with pytest.raises(MethodologyError) as err:  # 2023: the 2023 edition in force is the derived one, 华北 only
        m.calculate(doc)
    assert err.value.field == "EF_grid_OM" and "load the full 2023 edition" in err.value.message
    doc["periods"][0].update(start="2022-01-01", end="2022-12-31")
    calc = m.calculate(doc)  # 2022: no 2022 edition in force → the latest earlier (2019): CM 0.58955
    assert calc.total("ER") == D(1000) * D("0.58955")
    src = next(s for s in calc.trace.steps if s.symbol == "EF_grid_CM").inputs["EF_grid_OM"]["source"]
    assert "edition 2019 for year 2022" in src and "UNCONFIRMED" in src and "latest earlier" in src
    early = copy.deepcopy(doc)
    early["periods"][0].update(start="2018-01-01", end="2018-12-31")
    with pytest.raises(MethodologyError) as err:
        m.calculate(early)  # no edition for 2018 or before
    assert err.value.field == "EF_grid_OM"
    unpublished = copy.deepcopy(doc)
    unpublished["project"]["ef_as_of"] = "2020-06-30"  # before the 2019 edition was published
    with pytest.raises(MethodologyError):
        m.calculate(unpublished)
    spanning = copy.deepcopy(doc)
    spanning["periods"][0].update(start="2023-07-01", end="2024-06-30")
    with pytest.raises(MethodologyError) as err:
        m.calculate(spanning)
    assert "split the period" in err.value.message


@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: d["periods"].append({"start": "2023-12-01", "end": "2024-03-31", "EG_export": 1, "EF_grid_OM": "0.9", "EF_grid_BM": "0.5"}),
     "periods[1].start", "overlaps"),
    (lambda d: d["project"].update(crediting_start="2024-01-01", crediting_end="2033-12-31"), "periods[0].start", "before the crediting period"),
    (lambda d: d["project"].update(crediting_start="2020-01-01", crediting_end="2031-12-31"), "project.crediting_end", "exceeds the maximum of 10 years"),
    (lambda d: d["periods"][0].update(EG_exprot=5), "periods[0].EG_exprot", "unknown parameter"),
    (lambda d: d["periods"][0].pop("EG_export"), "periods[0].EG_export", "is required"),
    (lambda d: d["periods"][0].update(EG_export=-5), "periods[0].EG_export", "below the allowed range"),
    (lambda d: d["periods"][0].update(EG_export="lots"), "periods[0].EG_export", "must be a number"),
    (lambda d: d["periods"][0].update(EF_grid_BM=None), "periods[0].EF_grid_BM", "give both"),
    (lambda d: d["periods"][0].update(export_calibration="uncalibrated"), "export_meter_class", "accuracy class is required"),
])
def test_bad_input_names_the_parameter_and_rule(mutate, field, words):
    doc = _offshore()
    mutate(doc)
    with pytest.raises(MethodologyError) as err:
        ALL["CCER-01-002-V01"].calculate(doc)
    assert err.value.field == field and words in err.value.message


def _afforestation(**project):
    doc = json.loads((Path(ALL["CCER-14-001-V01"].package_dir) / "examples" / "chinese-fir-two-periods.json").read_text())
    doc["project"].update(project)
    doc["periods"] = doc["periods"][:1]
    return doc


@pytest.mark.parametrize("start, area, ok", [("2019-12-31", 666, False), ("2019-12-31", 667, True), ("2020-01-01", 400, True), ("2020-01-01", 399, False)])
def test_minimum_parcel_area_depends_on_the_start_year(start, area, ok):
    # §2 c): ≥ 400 m², ≥ 667 m² for projects started in or before 2019
    doc = _afforestation(start_date=start, min_parcel_area_m2=area)
    if ok:
        ALL["CCER-14-001-V01"].calculate(doc)
    else:
        with pytest.raises(MethodologyError) as err:
            ALL["CCER-14-001-V01"].calculate(doc)
        assert err.value.field == "project.min_parcel_area_m2"


def test_afforestation_additionality_and_land_rules():
    m = ALL["CCER-14-001-V01"]
    assert "exempt" in m.calculate(_afforestation(annual_precipitation_mm=400)).notes[0]  # ≤ 400 mm exempt
    with pytest.raises(MethodologyError) as err:
        m.calculate(_afforestation(annual_precipitation_mm=650))
    assert err.value.field == "project.additionality"
    # a self-declared label no longer passes (issue #18): the tools run on recorded inputs — see tests/test_fidelity_rules.py
    with pytest.raises(MethodologyError):
        m.calculate(_afforestation(annual_precipitation_mm=650, additionality_demonstration="barrier_analysis"))
    assert "exempt" in m.calculate(_afforestation(annual_precipitation_mm=650, public_welfare_forest=True)).notes[0]
    for fact, value in (("non_forest_years", "2.9"), ("wetland", True), ("shrub_removal_share", "0.21")):
        with pytest.raises(MethodologyError) as err:
            m.calculate(_afforestation(**{fact: value}))
        assert err.value.field == f"project.{fact}"
    short = _afforestation(crediting_end="2036-02-28")
    with pytest.raises(MethodologyError) as err:
        m.calculate(short)
    assert "shorter than the minimum of 18 years" in err.value.message  # 18–40 default (issue #18: UNCONFIRMED bound)


def test_ex_post_sinks_need_plots_and_imprecise_ones_are_refused():
    m = ALL["CCER-14-001-V01"]
    doc = _afforestation()
    del doc["periods"][0]["plots"]
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field == "periods[0].plots"
    doc["periods"][0]["plots"] = [5, 60, 10, 45]  # precision far beyond 30 %
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert "add sample plots" in err.value.message


def _cmm():
    return json.loads((Path(ALL["CCER-10-001-V01"].package_dir) / "examples" / "vam-power-and-heat.json").read_text())


def test_coal_mine_methane_rules():
    m = ALL["CCER-10-001-V01"]
    doc = _cmm()
    doc["periods"][0]["C_CH4"] = "0.08"  # must be below 8 %
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field == "periods[0].C_CH4"
    doc = _cmm()
    doc["periods"][0].update(Q_inlet=1700, Q_pump_outlet=1600)  # inlet > pump outlet → revoked
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert "revoked" in err.value.message
    doc = _cmm()
    doc["project"]["data_link_complete"] = "2025-02-09"  # trial from 2025-01-10 is one day short of a month
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field == "project.data_link_complete"
    doc = _cmm()
    doc["periods"][0]["start"] = "2025-02-14"  # before the link was complete
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field == "periods[0].start"
    doc = _cmm()
    doc["periods"][0]["C_CH4_out"] = "0.0003"  # monitored efficiency η = 1 − 0.0003/0.006 = 0.95
    calc = m.calculate(doc)
    assert next(s for s in calc.trace.steps if s.symbol == "eta_ox").value == D("0.95")


def test_trace_carries_formula_inputs_units_and_sources():
    doc = json.loads((Path(ALL["CCER-01-001-V01"].package_dir) / "examples" / "northwest-standalone-2023.json").read_text())
    calc = ALL["CCER-01-001-V01"].calculate(doc).to_dict()
    coef = next(s for s in calc["trace"] if s["symbol"] == "COEF_natural_gas")
    assert coef["formula"] == "COEF_natural_gas = NCV × CC × OF × 44/12" and coef["unit"] == "tCO2/unit"
    assert coef["inputs"]["NCV_natural_gas"]["value"] == "389.31"
    assert "中国发电企业温室气体排放核算方法与报告指南" in coef["inputs"]["NCV_natural_gas"]["source"]
    assert calc["total"]["ER_credited"] == 146296


def test_gwp_table_is_configurable():
    # MD = 1000 × 0.006 × 7.16 = 42.96 t CH4 (ρ 0.716 kg/Nm³, methodologies.md §7 — was 7.168); AR5 GWP 28 instead of 21:
    # BE_CH4 +7 × 42.96 = +300.72; PE_slip +7 × 42.96 × 0.03 = +9.0216
    base = ALL["CCER-10-001-V01"].calculate(_cmm()).total("ER")
    doc = _cmm()
    doc["project"]["gwp_report"] = "AR5"
    assert ALL["CCER-10-001-V01"].calculate(doc).total("ER") - base == D("300.72") - D("9.0216")


def test_parameter_schema_is_marshmallow_with_units_and_ranges():
    from marshmallow import ValidationError
    from ccer.methodologies.schema import period_schema

    schema = period_schema(ALL["CCER-01-002-V01"])()
    field = schema.fields["EG_export"]
    assert field.metadata["unit"] == "MWh" and field.metadata["stage"] == "monitored"
    assert schema.fields["w_OM"].metadata["default"] == "0.5" and "Table 2" in schema.fields["w_OM"].metadata["source"]
    with pytest.raises(ValidationError) as err:
        schema.load({"start": "2023-01-01", "end": "2023-12-31", "EG_export": "-1"})
    assert "EG_export" in err.value.messages


def test_afforestation_allometric_path_mixed_with_the_volume_path():
    """A volume stratum and an allometric stratum in one period add up; a tree without a diameter is refused."""
    m = registry.get("CCER-14-001-V01")
    allometric = json.loads((m.package_dir / "examples" / "chinese-fir-allometric.json").read_text(encoding="utf-8"))
    volume = json.loads((m.package_dir / "examples" / "chinese-fir-two-periods.json").read_text(encoding="utf-8"))
    period = copy.deepcopy(allometric["periods"][0])
    period["strata"].append(dict(volume["periods"][0]["strata"][0], name="杉木林（材积法）"))
    period.pop("plots")  # ex-ante: no sampling; the example's plots belong to its one stratum, not to both (sinks.precision_deduction)
    doc = {"stage": "ex-ante", "project": allometric["project"], "periods": [period]}
    total = m.calculate(doc).total("ER")
    # 5 519.5584888… (allometry, example's hand computation) + 3 575.23422256 (volume path, the other example's)
    assert total == pytest.approx(D("5519.558488888888888888888889") + D("3575.23422256"), rel=D("1e-12"))
    period["strata"][0]["trees_t2"].append({"H": 12})
    with pytest.raises(MethodologyError) as err:
        m.calculate(doc)
    assert err.value.field.endswith("trees_t2[3]")
