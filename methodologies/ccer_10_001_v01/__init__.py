"""CCER-10-001-V01 甲烷体积浓度低于8%的煤矿低浓度瓦斯和风排瓦斯利用 — coal-mine low-concentration gas (< 8 % CH4) and
ventilation-air methane utilisation. PARTLY VERIFIED (methodologies.md §7): applicability, flameless oxidation,
the data link (≥ 1 month trial, reductions only once live) and the revocation trigger are verified; the
calculation is RECONSTRUCTED from CDM ACM0008 and labelled so in the trace."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import power
from ccer.methodologies.gwp import GWP, gwp
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.protocol import ApplicabilityError, Methodology, MethodologyError, Monitoring, Param, ProjectFact

D = Decimal
_d = Defaults(__file__)
RECON = "RECONSTRUCTED (ACM0008)"
CH4_TO_CO2 = D(44) / D(16)


class CoalMineMethane(Methodology):
    code = "CCER-10-001-V01"
    package_dir = Path(__file__).parent
    name_zh = "甲烷体积浓度低于8%的煤矿低浓度瓦斯和风排瓦斯利用"
    name_en = "Utilisation of coal-mine low-concentration gas (CH4 < 8 %) and ventilation-air methane"
    sector = "10"
    issued = date(2025, 1, 3)
    status = "PARTLY VERIFIED"
    crediting_years = (1, 10)  # registry evidence: all 9 projects 10 years
    crediting_status = "UNCONFIRMED: registry evidence, every listed project 10 years (methodologies.md §7–8)"
    additionality_exempt = True
    additionality_rule = "believed exempt for applicable projects (UNCONFIRMED, methodologies.md §7)"
    project_facts = [
        ProjectFact("mine_type", "1", "underground (井工) coal mine in operation", kind="choice", choices=("underground", "open_pit", "abandoned")),
        ProjectFact("destruction", "1", "how methane is destroyed", kind="choice", choices=("flameless_oxidation", "flare", "engine")),
        ProjectFact("deliberately_diluted", "1", "gas of ≥ 8 % CH4 was diluted to enter the project", kind="bool"),
        ProjectFact("data_link_trial_start", "date", "start of the trial networking with the national carbon market platform", kind="date"),
        ProjectFact("data_link_complete", "date", "date the data link was accepted as complete", kind="date"),
        ProjectFact("drained_gas", "1", "drained gas from the drainage pump station is blended into the oxidiser feed (type b)",
                    kind="bool", default=False, required=False, source="VAM only (type a)"),
        ProjectFact("gwp_report", "1", "IPCC report whose GWP table applies (GWP_CH4 given per period overrides it)",
                    kind="choice", choices=tuple(GWP), required=False),
        *power.GRID_FACTS,
    ]
    params = [
        Param("Q", "10^4 Nm3", "gas (VAM and blended drained gas) fed to the oxidiser, normalised to 0 °C and 101.325 kPa", min=D(0), max=D("1e7")),
        Param("C_CH4", "1", "mean CH4 volume fraction at the oxidiser inlet", min=D(0), max=D(1)),
        Param("C_CH4_drained", "1", "mean CH4 volume fraction of the drained gas at the drainage pump station, before blending "
              "(the < 8 % test applies to it)", min=D(0), max=D(1), required=False, status="VERIFIED: scope < 8 % ([M11][M13])"),
        Param("C_CH4_out", "1", "mean CH4 volume fraction at the oxidiser outlet (monitored efficiency)", min=D(0), max=D(1), required=False),
        Param("eta_ox", "1", "oxidation efficiency declared for the oxidiser (e.g. its guaranteed efficiency, verified by the VVB) "
              "when the outlet is not monitored — no default: the reference gives none", min=D(0), max=D(1), required=False,
              status="RECONSTRUCTED"),
        Param("rho_CH4", "t/10^4 Nm3", "density of methane", min=D(7), max=D(8), stage="validation", status="RECONSTRUCTED", **_d("rho_CH4")),
        Param("GWP_CH4", "tCO2e/tCH4", "global warming potential of methane", min=D(1), max=D(100), stage="validation", status="UNCONFIRMED", **_d("GWP_CH4")),
        Param("EG_net", "MWh", "electricity supplied by the project (displaces grid power)", min=D(0), max=D("1e7"), default=D(0), source="no power use"),
        Param("HG_net", "GJ", "heat supplied (displaces an existing or planned heating facility)", min=D(0), max=D("1e8"), default=D(0), source="no heat use"),
        Param("eta_heat", "1", "efficiency of the displaced heat source", min=D("0.1"), max=D(1), required=False),
        Param("EF_heat", "tCO2/GJ", "emission factor of the fuel of the displaced heat source", min=D(0), max=D(1), required=False),
        Param("EC_aux", "MWh", "electricity used by fans, blowers and auxiliaries", min=D(0), max=D("1e7"), default=D(0), source="none"),
        Param("PE_fuel", "tCO2e", "CO2 from start-up/pre-heat fuel (Σ FC × COEF)", min=D(0), max=D("1e7"), default=D(0), source="none"),
        *power.grid_factor_params(_d),
        Param("Q_inlet", "m3/min", "gas flow at the inlet of the safe-conveyance system", min=D(0), max=D("1e6"), required=False),
        Param("Q_pump_outlet", "m3/min", "outlet flow of the connected drainage pump station", min=D(0), max=D("1e6"), required=False),
    ]
    monitoring = [
        Monitoring("Q, C_CH4", "key data uploaded every 1 second to the national carbon market platform", "flow meter and CH4 analyser",
                   "", "", "VERIFIED ([M11]): data link, 1-second upload"),
        Monitoring("Q_inlet, Q_pump_outlet", "continuous", "flow meters", "", "", "VERIFIED: revocation trigger"),
    ]

    def applicability(self, project: dict) -> None:
        if project["mine_type"] != "underground":
            raise ApplicabilityError("only operating underground (井工) coal mines; abandoned/closed mines and open pits are excluded",
                                     field="project.mine_type", rule="CCER-10-001-V01 §2")
        if project["destruction"] != "flameless_oxidation":
            raise ApplicabilityError("methane must be destroyed by flameless oxidation (无焰氧化)", field="project.destruction",
                                     rule="CCER-10-001-V01 §2")
        if project["deliberately_diluted"]:
            raise ApplicabilityError("gas of 8 % CH4 or more that was deliberately diluted is not applicable",
                                     field="project.deliberately_diluted", rule="CCER-10-001-V01 §2")
        trial, done = project["data_link_trial_start"], project["data_link_complete"]
        month_later = _add_month(trial)
        if done < month_later:
            raise ApplicabilityError(f"the data link trial must run at least one month (from {trial} to at least {month_later})",
                                     field="project.data_link_complete", rule="CCER-10-001-V01: trial networking ≥ 1 month")

    def check_periods(self, project, periods, stage) -> None:
        # reductions count only once the data link with the national platform is complete (VERIFIED)
        for i, (s, _e) in enumerate(periods):
            if s < project["data_link_complete"]:
                raise MethodologyError(f"starts {s}, before the data link was complete ({project['data_link_complete']}): "
                                       "reductions count only after it", field=f"periods[{i}].start",
                                       rule="CCER-10-001-V01 data networking")

    def period(self, ctx):
        i = ctx.index
        if ctx.has("Q_inlet") and ctx.has("Q_pump_outlet") and ctx["Q_inlet"] > ctx["Q_pump_outlet"]:
            raise ApplicabilityError(f"inlet flow {ctx['Q_inlet']} m3/min exceeds the drainage pump outlet flow {ctx['Q_pump_outlet']} m3/min: "
                                     "the project is to be revoked", field=f"periods[{i}].Q_inlet", rule="CCER-10-001-V01 revocation trigger")
        # §2 (VERIFIED [M11][M13]): the < 8 % limit is on the gas as drained — blended drained gas is tested at the pump
        # station before blending (at the oxidiser inlet it is always far below 8 %); VAM-only feeds are tested as fed
        if ctx.project.get("drained_gas"):
            if not ctx.has("C_CH4_drained"):
                raise MethodologyError("is required when drained gas is blended (the < 8 % test is on the drained gas)",
                                       field=f"periods[{i}].C_CH4_drained", rule="CCER-10-001-V01 §2: CH4 < 8 %")
            tested, symbol, what = ctx["C_CH4_drained"], "C_CH4_drained", "drained gas"
        else:
            tested, symbol, what = ctx["C_CH4"], "C_CH4", "ventilation air methane"
        if tested >= D("0.08"):
            raise ApplicabilityError(f"{what} at {tested:.2%} CH4 is not below 8 %", field=f"periods[{i}].{symbol}",
                                     rule="CCER-10-001-V01 §2: CH4 < 8 %")
        # the final text removed destruction without utilisation ([M12]): power or heat must be supplied
        if ctx["EG_net"] <= 0 and ctx["HG_net"] <= 0:
            raise ApplicabilityError("methane destroyed without any power or heat supplied is not credited: give EG_net or HG_net",
                                     field=f"periods[{i}].EG_net", rule="CCER-10-001-V01 §2 (final text: utilisation required, [M12])")
        if ctx.project.get("gwp_report") and "GWP_CH4" not in ctx.raw:
            report = ctx.project["gwp_report"]
            ctx.set("GWP_CH4", gwp("CH4", report), "tCO2e/tCH4", f"IPCC {report} GWP-100 (chosen by project.gwp_report)")
        md = ctx.apply("MD", "MD_y = Q × C_CH4 × ρ_CH4", ctx["Q"] * ctx["C_CH4"] * ctx["rho_CH4"], "tCH4",
                       ["Q", "C_CH4", "rho_CH4"], "methodologies.md §7", status=RECON)
        if ctx.has("C_CH4_out"):
            ctx.apply("eta_ox", "η_ox = 1 − C_CH4,out / C_CH4,in", 1 - ctx["C_CH4_out"] / ctx["C_CH4"], "1",
                      ["C_CH4_out", "C_CH4"], "ACM0008: monitored efficiency", status=RECON)
        elif not ctx.has("eta_ox"):
            raise MethodologyError("monitor the outlet concentration (C_CH4_out) or declare the oxidiser's efficiency (eta_ox): "
                                   "the reference gives no default", field=f"periods[{i}].eta_ox", rule="methodologies.md §7 (PE_CH4,slip)")
        ctx.apply("BE_CH4", "BE_CH4,y = MD_y × GWP_CH4", md * ctx["GWP_CH4"], "tCO2e", ["MD", "GWP_CH4"],
                           "methodologies.md §7", status=RECON)
        uses = ["BE_CH4"]
        if ctx["EG_net"] > 0:
            power.combined_margin(ctx, "methodologies.md §7 (regional OM/BM per §4)")
            ctx.apply("BE_elec", "BE_elec,y = EG_net,y × EF_grid,CM,y", ctx["EG_net"] * ctx["EF_grid_CM"], "tCO2e",
                      ["EG_net", "EF_grid_CM"], "methodologies.md §7", status=RECON)
            uses.append("BE_elec")
        if ctx["HG_net"] > 0:
            for needed in ("eta_heat", "EF_heat"):
                if not ctx.has(needed):
                    raise MethodologyError("is required when heat is supplied (HG_net > 0)", field=f"periods[{i}].{needed}")
            ctx.apply("BE_heat", "BE_heat,y = HG_net,y / η_heat × EF_heat", ctx["HG_net"] / ctx["eta_heat"] * ctx["EF_heat"], "tCO2e",
                      ["HG_net", "eta_heat", "EF_heat"], "methodologies.md §7 (heat term added in the final text, [M12])", status=RECON)
            uses.append("BE_heat")
        be = ctx.apply("BE", "BE_y = BE_CH4,y + BE_elec,y + BE_heat,y", sum((ctx[u] for u in uses), D(0)), "tCO2e", uses,
                       "methodologies.md §7", status=RECON)
        ctx.set("44/16", CH4_TO_CO2, "tCO2/tCH4", "molecular weights")
        ctx.apply("PE_ox", "PE_CO2,ox = MD × η_ox × 44/16", md * ctx["eta_ox"] * CH4_TO_CO2, "tCO2e", ["MD", "eta_ox", "44/16"],
                  "methodologies.md §7", status=RECON)
        ctx.apply("PE_slip", "PE_CH4,slip = MD × (1 − η_ox) × GWP_CH4", md * (1 - ctx["eta_ox"]) * ctx["GWP_CH4"], "tCO2e",
                  ["MD", "eta_ox", "GWP_CH4"], "methodologies.md §7", status=RECON)
        pe_uses = ["PE_ox", "PE_slip", "PE_fuel"]
        if ctx["EC_aux"] > 0:
            if not ctx.has("EF_grid_CM"):
                power.combined_margin(ctx, "methodologies.md §7")
            ctx.apply("PE_elec", "PE_elec = EC_aux × EF_grid,CM", ctx["EC_aux"] * ctx["EF_grid_CM"], "tCO2e", ["EC_aux", "EF_grid_CM"],
                      "methodologies.md §7", status=RECON)
            pe_uses.append("PE_elec")
        pe = ctx.apply("PE", "PE_y = PE_CO2,ox + PE_CH4,slip + PE_elec + PE_fuel", sum((ctx[u] for u in pe_uses), D(0)), "tCO2e",
                       pe_uses, "methodologies.md §7", status=RECON)
        le = power.zero(ctx, "LE", "leakage 0 (UNCONFIRMED)", "methodologies.md §7")
        return be, pe, le

    er_cites = "ER_y = BE_y − PE_y (methodologies.md §7, RECONSTRUCTED)"


def _add_month(d: date) -> date:
    month = d.month % 12 + 1
    year = d.year + (d.month == 12)
    import calendar

    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
