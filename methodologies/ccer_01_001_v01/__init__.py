"""CCER-01-001-V01 并网光热发电 — grid-connected solar thermal (CSP). VERIFIED against the official text
(methodologies.md §3; text mirror [M2]). Formula (3) is read with "+" (the mirror's "×" is a transcription
typo; the offshore-wind text and CDM use "+")."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import fuels, meters, power
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.protocol import ApplicabilityError, Methodology, Monitoring, Param, ProjectFact

D = Decimal
_d = Defaults(__file__)


class SolarThermal(Methodology):
    code = "CCER-01-001-V01"
    package_dir = Path(__file__).parent
    name_zh = "并网光热发电"
    name_en = "Grid-connected solar thermal power"
    sector = "01"
    issued = date(2023, 10, 24)
    status = "VERIFIED"
    crediting_years = (1, 10)
    additionality_exempt = True
    additionality_rule = "§6.2: exempt (免予论证) for every project meeting the applicability conditions"
    project_facts = [
        ProjectFact("configuration", "1", "stand-alone CSP, or the CSP part of a 光热+ integrated project", kind="choice",
                    choices=("standalone", "csp_plus")),
        ProjectFact("csp_separately_metered", "1", "the CSP part's export is metered separately (required for 光热+)", kind="bool",
                    required=False),
        ProjectFact("grid_connection", "date", "grid-connection date (§5.2)", kind="date", required=False),
        *power.GRID_FACTS,
        power.BOUNDARY_FACT,
    ]
    params = power.power_params(_d) + [
        Param("FC", "t or 10^4 Nm3", "fossil fuel burnt for anti-solidification (防凝) heating, by fuel", kind="by_fuel", min=D(0),
              max=D("1e7"), required=False),
        Param("NCV", "GJ/unit", "net calorific value by fuel; overrides the MEE default", kind="by_fuel", min=D(0), max=D(1000), required=False),
        Param("CC", "tC/GJ", "carbon content per unit heat by fuel; overrides the MEE default", kind="by_fuel", min=D(0), max=D("0.1"), required=False),
        Param("OF", "1", "oxidation factor by fuel; overrides the MEE default", kind="by_fuel", min=D(0), max=D(1), required=False),
        *power.meter_params("fuel", "fuel flow"),
    ]
    monitoring = [
        Monitoring("EG_export", "continuous, recorded at least monthly", "CSP-part export meter", "class 0.5S or better",
                   "annual calibration by a CNAS/CMA third party", "§7.3"),
        Monitoring("FC", "continuous", "flow meter at the energy metering point entering the CSP plant", "gas flow meter class 2.0 or better (GB 17167)",
                   "annual (JJG 640 / GB/T 21446); uncalibrated data × (1 + error)", "§7.3"),
    ]

    def applicability(self, project: dict) -> None:
        # §2: stand-alone CSP, or the CSP part of 光热+ when its export is separately metered
        if project["configuration"] == "csp_plus" and not project.get("csp_separately_metered"):
            raise ApplicabilityError("the CSP part of a 光热+ project must have separately metered export",
                                     field="project.csp_separately_metered", rule="CCER-01-001-V01 §2 applicability")

    def check_periods(self, project, periods, stage) -> None:
        power.check_lifetime(project, periods)
        power.check_boundary(project)

    def period(self, ctx):
        be = power.baseline(ctx, "CCER-01-001-V01 formula (1)")
        pe = self._fuel_emissions(ctx)
        le = power.zero(ctx, "LE", "§6.5: leakage ignored", "CCER-01-001-V01 §6.5")
        return be, pe, le

    def _fuel_emissions(self, ctx):
        """PE_y = Σ_i FC_i,y × COEF_i,y; COEF_i,y = NCV_i,y × CC_i,y × OF_i,y × 44/12 (formulas (4), (5))."""
        burnt = ctx.raw.get("FC") or {}
        if not burnt:
            return power.zero(ctx, "PE", "no anti-solidification fuel burnt in the period", "CCER-01-001-V01 formula (4)")
        status = ctx.raw.get("fuel_calibration", "calibrated")
        f, why = meters.factor("fuel", status, ctx.raw.get("fuel_meter_class"), ctx.raw.get("fuel_error"), "fuel")
        ctx.set("f_fuel", f, "1", why)
        ctx.set("44/12", fuels.C_TO_CO2, "tCO2/tC", "molecular weights")
        terms = []
        for key, qty in sorted(burnt.items()):
            overrides = {s: (ctx.raw.get(s) or {}).get(key) for s in ("NCV", "CC", "OF")}
            default = None if all(v is not None for v in overrides.values()) else fuels.fuel(key)
            for s in ("NCV", "CC", "OF"):
                value = overrides[s] if overrides[s] is not None else getattr(default, s)
                ctx.set(f"{s}_{key}", value, {"NCV": "GJ/unit", "CC": "tC/GJ", "OF": "1"}[s], "input" if overrides[s] is not None else default.source)
            ctx.set(f"FC_{key}", qty, default.unit if default else "unit", "input")
            fc = ctx.apply(f"FC_{key}_corrected", f"FC_{key},corrected = FC_{key} × (1 + e)", qty * f, "unit",
                           [f"FC_{key}", "f_fuel"], "§7.3.4 meter-error correction")
            coef = ctx.apply(f"COEF_{key}", f"COEF_{key} = NCV × CC × OF × 44/12",
                             ctx[f"NCV_{key}"] * ctx[f"CC_{key}"] * ctx[f"OF_{key}"] * fuels.C_TO_CO2, "tCO2/unit",
                             [f"NCV_{key}", f"CC_{key}", f"OF_{key}", "44/12"], "CCER-01-001-V01 formula (5)")
            terms.append(ctx.apply(f"PE_{key}", f"PE_{key} = FC_{key} × COEF_{key}", fc * coef, "tCO2e",
                                   [f"FC_{key}_corrected", f"COEF_{key}"], "CCER-01-001-V01 formula (4)"))
        return ctx.apply("PE", "PE_y = Σ_i FC_i,y × COEF_i,y", sum(terms, D(0)), "tCO2e",
                         [f"PE_{k}" for k in sorted(burnt)], "CCER-01-001-V01 formula (4)")

    er_cites = "CCER-01-001-V01 formula (6)"
