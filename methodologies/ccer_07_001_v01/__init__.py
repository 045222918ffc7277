"""CCER-07-001-V01 公路隧道照明系统节能 — highway tunnel lighting energy saving. LARGELY UNVERIFIED
(methodologies.md §8): only the code, title and issue date are verified. The calculation is RECONSTRUCTED from
CDM AMS-II.L (efficient outdoor and street lighting), every step labelled so, every default overridable; the
electricity factor defaults to the regional combined margin (which factor the official text prescribes is
UNCONFIRMED) and can be given directly as EF_elec."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import additionality, power
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.inputs import number
from ccer.methodologies.protocol import Methodology, MethodologyError, Monitoring, Param, ProjectFact

D = Decimal
_d = Defaults(__file__)
RECON = "RECONSTRUCTED (AMS-II.L)"


class TunnelLighting(Methodology):
    code = "CCER-07-001-V01"
    package_dir = Path(__file__).parent
    name_zh = "公路隧道照明系统节能"
    name_en = "Highway tunnel lighting energy saving"
    sector = "07"
    issued = date(2025, 1, 3)
    status = "LARGELY UNVERIFIED"
    crediting_years = (1, 10)  # registry evidence: all 3 projects 10 years
    crediting_status = "UNCONFIRMED: registry evidence, every listed project 10 years (methodologies.md §7–8)"
    additionality_exempt = False
    additionality_rule = ("UNCONFIRMED (methodologies.md §8): demonstrated with the tools unless the registry configures an "
                          "exemption (CCER_ADDITIONALITY_EXEMPT) — the conservative default where the text is silent (Measures Art. 48)")
    project_facts = [*power.GRID_FACTS,
                     ProjectFact("additionality", "—", additionality.ADDITIONALITY_FACT_HELP, kind="object", required=False)]

    def additionality(self, project: dict) -> dict:
        import os

        if self.code in {c.strip() for c in os.environ.get("CCER_ADDITIONALITY_EXEMPT", "").split(",")}:
            return {"exempt": True, "reason": "exempt: configured by the registry (CCER_ADDITIONALITY_EXEMPT)"}
        if not project.get("additionality"):
            raise MethodologyError("additionality must be demonstrated (the text is UNCONFIRMED; no exemption is configured): "
                                   + additionality.ADDITIONALITY_FACT_HELP, field="project.additionality",
                                   rule="CCER-07-001-V01 (methodologies.md §8); Measures Art. 48")
        return additionality.demonstrate(self.code, project["additionality"])
    params = [
        Param("lamps_BL", "—", "pre-retrofit lamp inventory: [{N, P_kW, h}] (count, rated power, operating hours in the period)",
              kind="list", required=False, status=RECON),
        Param("EC_BL", "MWh", "metered pre-retrofit consumption for the same period length (alternative to the inventory)",
              min=D(0), max=D("1e6"), required=False, status=RECON),
        Param("EC_PJ", "MWh", "electricity metered on the dedicated lighting circuits after the retrofit", min=D(0), max=D("1e6"), status=RECON),
        Param("service_ratio", "1", "lighting service of the project relative to the baseline (≤ 1 scales the baseline down)",
              min=D("0.1"), max=D(1), status=RECON, **_d("service_ratio")),
        Param("EF_elec", "tCO2/MWh", "electricity emission factor; overrides the grid combined margin", min=D(0), max=D(2), required=False,
              status="UNCONFIRMED"),
        *power.grid_factor_params(_d),
    ]
    monitoring = [
        Monitoring("EC_PJ", "continuous, recorded monthly", "energy meters on dedicated lighting circuits", "class 1.0 or better", "annual", RECON),
    ]

    def period(self, ctx):
        i = ctx.index
        lamps = ctx.raw.get("lamps_BL")
        if lamps and ctx.has("EC_BL"):
            raise MethodologyError("give either the lamp inventory or the metered baseline, not both", field=f"periods[{i}].EC_BL")
        if lamps:
            total = D(0)
            for j, lamp in enumerate(lamps):
                where = f"periods[{i}].lamps_BL[{j}]"
                if not isinstance(lamp, dict):
                    raise MethodologyError("must be {N, P_kW, h}", field=where)
                n = number(lamp.get("N"), f"{where}.N", lo=D(0))
                p = number(lamp.get("P_kW"), f"{where}.P_kW", lo=D(0), hi=D(10))
                h = number(lamp.get("h"), f"{where}.h", lo=D(0), hi=D((ctx.end - ctx.start).days + 1) * 24)
                total += n * p * h
            ctx.set("sum_NPh", total, "kWh", "input lamp inventory")
            ctx.apply("EC_BL", "EC_BL,y = Σ N_i × P_i × h_i / 1000", total / 1000, "MWh", ["sum_NPh"], RECON, status=RECON)
        elif not ctx.has("EC_BL"):
            raise MethodologyError("give the pre-retrofit lamp inventory (lamps_BL) or the metered baseline (EC_BL)", field=f"periods[{i}].EC_BL")
        ctx.apply("EC_BL_adj", "EC_BL,adj = EC_BL × service_ratio", ctx["EC_BL"] * ctx["service_ratio"], "MWh",
                  ["EC_BL", "service_ratio"], "normalised to the same lighting service", status=RECON)
        if ctx.has("EF_elec"):
            ef = "EF_elec"
        else:
            power.combined_margin(ctx, "assumed regional combined margin (UNCONFIRMED)")
            ef = "EF_grid_CM"
        be = ctx.apply("BE", f"BE_y = EC_BL,adj × {ef}", ctx["EC_BL_adj"] * ctx[ef], "tCO2e", ["EC_BL_adj", ef], RECON, status=RECON)
        pe = ctx.apply("PE", f"PE_y = EC_PJ × {ef}", ctx["EC_PJ"] * ctx[ef], "tCO2e", ["EC_PJ", ef], RECON, status=RECON)
        le = power.zero(ctx, "LE", "scrapped lamps not re-used (UNCONFIRMED)", RECON)
        return be, pe, le

    er_cites = "ER_y = BE_y − PE_y (RECONSTRUCTED, AMS-II.L)"
