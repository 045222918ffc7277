"""CCER-14-002-V01 红树林营造 — mangrove creation. PARTLY VERIFIED (methodologies.md §6): applicability a)–b)
and the additionality exemption are verified via a secondary copy of the official text and the drafter's
interview; the accounting (vegetation biomass + default sediment carbon accumulation − baseline) is
RECONSTRUCTED from CDM AR-AM0014 and labelled so in the trace; every default is overridable."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import sinks
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.protocol import ApplicabilityError, Methodology, Monitoring, Param, ProjectFact

D = Decimal
_d = Defaults(__file__)
RECON = "RECONSTRUCTED (AR-AM0014)"


class Mangrove(Methodology):
    code = "CCER-14-002-V01"
    package_dir = Path(__file__).parent
    name_zh = "红树林营造"
    name_en = "Mangrove creation"
    sector = "14"
    issued = date(2023, 10, 24)
    status = "PARTLY VERIFIED"
    crediting_years = (20, 40)
    crediting_status = "UNCONFIRMED: registry evidence 20–40 years (methodologies.md §6)"
    additionality_exempt = True
    additionality_rule = "exempt (采取免于额外性的论证, drafter interview [M10])"
    project_facts = [
        ProjectFact("site_type", "1", "pre-project use of the site: unvegetated tidal flat or retired aquaculture pond",
                    kind="choice", choices=("tidal_flat", "retired_pond", "other")),
        ProjectFact("already_mangrove", "1", "the site already carries mangrove vegetation", kind="bool"),
        ProjectFact("tenure_documented", "1", "sea-area/land tenure certified by county-level government or the ocean authority", kind="bool"),
    ]
    params = [
        Param("strata", "—", "strata: {name, species, area_ha, AGB_t1, AGB_t2 (t d.m./ha), optional R, CF}", kind="list", status=RECON),
        Param("R", "1", "root:shoot ratio", min=D(0), max=D(5), status="RECONSTRUCTED", **_d("R")),
        Param("CF", "tC/t", "carbon fraction of dry matter", min=D(0), max=D(1), status="RECONSTRUCTED", **_d("CF")),
        Param("SOC_rate", "tC/ha/a", "sediment carbon accumulation of newly established mangrove", min=D(0), max=D(20),
              status="RECONSTRUCTED", **_d("SOC_rate")),
        *sinks.SINK_PARAMS,
    ]
    monitoring = [
        Monitoring("AGB", "each verification", "sample plots with species allometry (秋茄, 白骨壤, 桐花树, 红海榄, 木榄)",
                   "±10 % at 90 % confidence", "", "methodologies.md §6 (UNCONFIRMED)"),
        Monitoring("area_ha", "each verification", "GNSS survey or imagery; survival of planted area", "", "", "§6"),
    ]

    def applicability(self, project: dict) -> None:
        # a) creation on unvegetated tidal flats or retired aquaculture ponds; b) clear tenure (VERIFIED via [M9])
        if project["site_type"] == "other":
            raise ApplicabilityError("not applicable: a) planting must be on unvegetated tidal flats or retired aquaculture ponds",
                                     field="project.site_type", rule="CCER-14-002-V01 §2 a)")
        if project["already_mangrove"]:
            raise ApplicabilityError("not applicable: the methodology covers creation (营造), not sites already under mangrove",
                                     field="project.already_mangrove", rule="CCER-14-002-V01 §2 a)")
        if not project["tenure_documented"]:
            raise ApplicabilityError("not applicable: b) clear sea-area/land tenure is required", field="project.tenure_documented",
                                     rule="CCER-14-002-V01 §2 b)")

    def period(self, ctx):
        ctx.set("44/12", sinks.C_TO_CO2, "tCO2/tC", "molecular weights")
        years = ctx.set("years", sinks.period_years(ctx), "a", "period length in days / 365.25")
        veg, sed = [], []
        rows = sinks.strata(ctx, ("area_ha", "AGB_t1", "AGB_t2"), ("R", "CF"))
        for s in rows:
            key = s["name"]
            for p in ("R", "CF"):
                if p in s:
                    ctx.set(f"{p}[{key}]", s[p], "1", "input")
                else:
                    ctx.values[f"{p}[{key}]"] = ctx.values[p]
            ctx.set(f"A[{key}]", s["area_ha"], "ha", "input")
            ctx.set(f"dAGB[{key}]", s["AGB_t2"] - s["AGB_t1"], "t/ha", f"input AGB_t2 {s['AGB_t2']} − AGB_t1 {s['AGB_t1']}")
            veg.append(ctx.apply(f"delta_C_veg[{key}]", "ΔC_veg = A × ΔAGB × (1 + R) × CF × 44/12",
                                 s["area_ha"] * (s["AGB_t2"] - s["AGB_t1"]) * (1 + ctx[f"R[{key}]"]) * ctx[f"CF[{key}]"] * sinks.C_TO_CO2,
                                 "tCO2e", [f"A[{key}]", f"dAGB[{key}]", f"R[{key}]", f"CF[{key}]", "44/12"], "CCER-14-002-V01", status=RECON))
            if s["AGB_t2"] < s["AGB_t1"]:  # a stand that lost biomass is not accruing the default sediment carbon (conservative)
                sed.append(ctx.set(f"delta_C_sed[{key}]", D(0), "tCO2e", "0: vegetation lost in the period, no default sediment accrual "
                                   "credited (conservativeness, Measures Art. 48)"))
                continue
            sed.append(ctx.apply(f"delta_C_sed[{key}]", "ΔC_sed = A × SOC_rate × years × 44/12",
                                 s["area_ha"] * ctx["SOC_rate"] * years * sinks.C_TO_CO2, "tCO2e",
                                 [f"A[{key}]", "SOC_rate", "years", "44/12"], "CCER-14-002-V01 default sediment accumulation", status=RECON))
        ctx.apply("delta_C_P", "ΔC_P = Σ (ΔC_veg + ΔC_sed)", sum(veg + sed, D(0)), "tCO2e",
                  [k for k in ctx.values if k.startswith(("delta_C_veg[", "delta_C_sed["))], "CCER-14-002-V01", status=RECON)
        return sinks.removals_as_emissions(ctx, "delta_C_P", "CCER-14-002-V01", sinks.strata_used(rows))

    er_cites = "ER = ΔC_ACTUAL − ΔC_BSL − LK (as BE − PE − LE)"
