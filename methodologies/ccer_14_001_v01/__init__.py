"""CCER-14-001-V01 造林碳汇 — afforestation. PARTLY VERIFIED (methodologies.md §5): applicability a)–e) and
the additionality exemptions are verified via secondary copies of the official text; the carbon-stock
accounting is RECONSTRUCTED from CDM AR-ACM0003 / old AR-CM-001-V01 and labelled so in the trace."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from ccer.methodologies import additionality, sinks
from ccer.methodologies.inputs import number
from ccer.methodologies.defaults import Defaults
from ccer.methodologies.protocol import ApplicabilityError, MethodologyError, Methodology, Monitoring, Param, ProjectFact

D = Decimal
_d = Defaults(__file__)
RECON = "RECONSTRUCTED (AR-ACM0003 / AR-CM-001-V01)"


class Afforestation(Methodology):
    code = "CCER-14-001-V01"
    package_dir = Path(__file__).parent
    name_zh = "造林碳汇"
    name_en = "Afforestation carbon sinks"
    sector = "14"
    issued = date(2023, 10, 24)
    status = "PARTLY VERIFIED"
    #: the envelope of the registry's own registrations (methodologies.md §5.3: 20, 30 and 40 years and one of 18,
    #: 广东省怀集县造林碳汇项目 2022-03-18→2040-03-17): the 20-year minimum is UNCONFIRMED and the registry registered
    #: 18 years, so the default does not refuse what the registry accepted; CCER_CREDITING_YEARS narrows it
    crediting_years = (18, 40)
    crediting_status = "UNCONFIRMED: registry evidence 18–40 years (methodologies.md §5.3 suggests 20–40)"
    additionality_exempt = "conditional"
    additionality_rule = ("§6.2: exempt if annual precipitation ≤ 400 mm, or in a national key ecological function zone, or "
                          "生态公益林; otherwise demonstrated with the tools (investment and/or barrier analysis, then common practice)")
    project_facts = [
        ProjectFact("start_date", "date", "project start (afforestation begins)", kind="date"),
        ProjectFact("non_forest_years", "a", "years the land did not meet the forest definition before the start", min=D(0), max=D(200)),
        ProjectFact("wetland", "1", "the land is wetland", kind="bool"),
        ProjectFact("min_parcel_area_m2", "m2", "area of the smallest contiguous parcel", min=D(0), max=D("1e9")),
        ProjectFact("shrub_removal_share", "1", "share of the project area where existing shrubs/bamboo (DBH < 2 cm) are removed",
                    min=D(0), max=D(1), default=D(0), source="no removal"),
        ProjectFact("tenure_documented", "1", "clear tenure (title, contract or forest-right certificate)", kind="bool"),
        ProjectFact("annual_precipitation_mm", "mm", "mean annual precipitation", min=D(0), max=D(5000)),
        ProjectFact("key_ecological_function_zone", "1", "inside a national key ecological function zone", kind="bool", default=None, required=False),
        ProjectFact("public_welfare_forest", "1", "the afforestation is 生态公益林", kind="bool", required=False),
        ProjectFact("additionality", "—", additionality.ADDITIONALITY_FACT_HELP + " (when not exempt)", kind="object", required=False),
        ProjectFact("forest_use", "1", "what is planted: protection, special-purpose or timber forest, bamboo, shrub — or the excluded "
                    "economic (orchard-type) forest, urban/village/industrial greening, corridor greening", kind="choice",
                    choices=("protection", "special_purpose", "timber", "bamboo", "shrub", "economic", "urban_greening", "corridor_greening")),
        ProjectFact("area_ha", "ha", "project area", min=D(0), max=D("1e7"), required=False),
    ]
    params = [
        Param("strata", "—", "strata, either by volume {name, species, area_ha, V_t1, V_t2 (m3/ha), optional WD, BEF, R, CF} "
              "or by allometry {name, species, area_ha, plot_area_ha, a, b, optional c, trees_t1, trees_t2 "
              "([{D cm, optional H m, optional n}]), optional R, CF}: tree biomass B = a × D^b × H^c kg", kind="list",
              status=RECON),
        *sinks.SINK_PARAMS,
    ]
    monitoring = [
        Monitoring("V", "each verification", "sample plots (AR-TOOL03), or airborne/terrestrial LiDAR", "±10 % at 90 % confidence",
                   "", "methodologies.md §5.6–5.7 (UNCONFIRMED)"),
        Monitoring("area_ha", "each verification", "GNSS survey or high-resolution imagery; ≥ 6 decimal degrees", "", "", "§5.2"),
    ]

    def applicability(self, project: dict) -> None:
        start = project["start_date"]
        # §2 scope (VERIFIED via [M4]): economic (orchard-type) forest and greening of non-forest land are excluded
        if project["forest_use"] in EXCLUDED_USES:
            raise ApplicabilityError(f"not applicable: {EXCLUDED_USES[project['forest_use']]} is excluded from afforestation carbon sinks",
                                     field="project.forest_use", rule="CCER-14-001-V01 §2 scope")
        rules = [
            (project["non_forest_years"] >= 3, "non_forest_years", "a) the land did not meet the forest definition for at least 3 years before the start"),
            (not project["wetland"], "wetland", "d) the land is not wetland"),
            (project["tenure_documented"], "tenure_documented", "b) clear tenure"),
            (project.get("shrub_removal_share", D(0)) <= D("0.2"), "shrub_removal_share", "e) shrub/bamboo removal ≤ 20 % of the project area"),
        ]
        minimum = D(667) if start.year <= 2019 else D(400)  # c) ≥ 400 m²; ≥ 667 m² (1 mu) if started in or before 2019
        rules.append((project["min_parcel_area_m2"] >= minimum, "min_parcel_area_m2",
                      f"c) every parcel ≥ {minimum} m² for a project started in {start.year}"))
        for ok, fact, rule in rules:
            if not ok:
                raise ApplicabilityError(f"not applicable: {rule}", field=f"project.{fact}", rule=f"CCER-14-001-V01 §2 {rule[:2]}")

    def additionality(self, project: dict) -> dict:
        reasons = []
        if project["annual_precipitation_mm"] <= 400:
            reasons.append(f"annual precipitation {project['annual_precipitation_mm']} mm ≤ 400 mm")
        if project.get("key_ecological_function_zone"):
            reasons.append("national key ecological function zone")
        if project.get("public_welfare_forest"):
            reasons.append("生态公益林")
        if reasons:
            return {"exempt": True, "reason": "exempt (§6.2): " + "; ".join(reasons)}
        if not project.get("additionality"):
            raise MethodologyError("not exempt (precipitation > 400 mm, not a key ecological function zone, not 生态公益林): "
                                   "additionality must be demonstrated with the tools' inputs — " + additionality.ADDITIONALITY_FACT_HELP,
                                   field="project.additionality", rule="CCER-14-001-V01 §6.2")
        # the procedure is UNCONFIRMED; old AR-CM-001 used AR-TOOL02: barrier and/or investment, then common practice (§5.4)
        return additionality.demonstrate(self.code, project["additionality"])

    def period(self, ctx):
        ctx.set("44/12", sinks.C_TO_CO2, "tCO2/tC", "molecular weights")
        raw = ctx.raw.get("strata") or []
        by_volume = [r for r in raw if not (isinstance(r, dict) and "trees_t2" in r)]
        by_allometry = [r for r in raw if isinstance(r, dict) and "trees_t2" in r]
        terms = []
        volume_rows = sinks.strata(ctx, ("area_ha", "V_t1", "V_t2"), ("WD", "BEF", "R", "CF"), rows=by_volume)
        allometry_rows = sinks.strata(ctx, ("area_ha", "plot_area_ha", "a", "b"), ("c", "R", "CF"), rows=by_allometry,
                                      passthrough=("trees_t1", "trees_t2"))
        for s in volume_rows:
            key = s["name"]
            self._species_parameters(ctx, s, ("WD", "BEF", "R", "CF"))
            ctx.set(f"A[{key}]", s["area_ha"], "ha", "input")
            for t in ("V_t1", "V_t2"):
                ctx.set(f"{t}[{key}]", s[t], "m3/ha", "input")
                ctx.apply(f"C_{t[-2:]}[{key}]", "C = A × V × WD × BEF × (1 + R) × CF × 44/12",
                          s["area_ha"] * s[t] * ctx[f"WD[{key}]"] * ctx[f"BEF[{key}]"] * (1 + ctx[f"R[{key}]"]) * ctx[f"CF[{key}]"] * sinks.C_TO_CO2,
                          "tCO2e", [f"A[{key}]", f"{t}[{key}]", f"WD[{key}]", f"BEF[{key}]", f"R[{key}]", f"CF[{key}]", "44/12"],
                          "CCER-14-001-V01 carbon stock (AR-CM-001 B = V × WD × BEF × (1 + R))", status=RECON)
            terms.append(ctx.apply(f"delta_C[{key}]", "ΔC = C_t2 − C_t1", ctx[f"C_t2[{key}]"] - ctx[f"C_t1[{key}]"], "tCO2e",
                                   [f"C_t2[{key}]", f"C_t1[{key}]"], "stock change over the period", status=RECON))
        for s in allometry_rows:
            terms.append(self._allometric_stratum(ctx, s))
        ctx.apply("delta_C_P", "ΔC_P = Σ_strata (C_P,t2 − C_P,t1)", sum(terms, D(0)), "tCO2e",
                  [k for k in ctx.values if k.startswith("delta_C[")], "CCER-14-001-V01", status=RECON)
        return sinks.removals_as_emissions(ctx, "delta_C_P", "CCER-14-001-V01", sinks.strata_used(volume_rows + allometry_rows))

    def _species_parameters(self, ctx, s: dict, names: tuple[str, ...]) -> None:
        """Per-stratum WD/BEF/R/CF: given in the stratum, else the species table, else (CF only) the IPCC default."""
        key, known = s["name"], _d.table("species").get(s["species"] or "", {})
        for p in names:
            if p in s:
                ctx.set(f"{p}[{key}]", s[p], _UNITS[p], "input")
            elif p in known:
                ctx.set(f"{p}[{key}]", D(known[p]), _UNITS[p], _d.source("species_source").replace(", species", f" {s['species']}, species"))
            elif p == "CF":
                ctx.set(f"CF[{key}]", _d.value("CF"), "tC/t", _d.source("CF"))
            else:
                raise MethodologyError(f"no default {p} for species {s['species']!r}: give it in the stratum",
                                       field=f"periods[{ctx.index}].strata.{key}.{p}")

    def _allometric_stratum(self, ctx, s: dict):
        """B_TREE by a species allometric equation f(D[, H]) (AR-TOOL14 method (a); methodologies.md §5.5): the
        measured trees of the sample plots give the mean above-ground biomass per hectare, roots by R."""
        key = s["name"]
        self._species_parameters(ctx, s, ("R", "CF"))
        ctx.set(f"A[{key}]", s["area_ha"], "ha", "input")
        ctx.set(f"plot_area[{key}]", s["plot_area_ha"], "ha", "input: total area of the sample plots")
        if s["plot_area_ha"] <= 0:
            raise MethodologyError("must be > 0", field=f"periods[{ctx.index}].strata.{key}.plot_area_ha")
        ctx.set(f"a[{key}]", s["a"], "kg", "input: allometric coefficient")
        ctx.set(f"b[{key}]", s["b"], "1", "input: exponent of D")
        ctx.set(f"c[{key}]", s.get("c", D(0)), "1", "input: exponent of H" if "c" in s else "no height term")
        for t in ("t1", "t2"):
            trees = s.get(f"trees_{t}") or []
            total = D(0)
            for j, tree in enumerate(trees):
                where = f"periods[{ctx.index}].strata.{key}.trees_{t}[{j}]"
                if not isinstance(tree, dict) or "D" not in tree:
                    raise MethodologyError("each tree is {D (cm), optional H (m), optional n}", field=where)
                d = number(tree["D"], f"{where}.D", lo=D(0), hi=D(500))
                h = number(tree.get("H", 1), f"{where}.H", lo=D(0), hi=D(150))
                n = number(tree.get("n", 1), f"{where}.n", lo=D(0), hi=D("1e7"))
                total += n * s["a"] * d ** s["b"] * (h ** ctx[f"c[{key}]"] if ctx[f"c[{key}]"] else D(1))
            ctx.set(f"B_plots_{t}[{key}]", total / 1000, "t", f"Σ a × D^b × H^c over {len(trees)} measured tree record(s), kg → t")
            ctx.apply(f"B_{t}[{key}]", "B = Σ_trees B_TREE / plot area", ctx[f"B_plots_{t}[{key}]"] / s["plot_area_ha"], "t/ha",
                      [f"B_plots_{t}[{key}]", f"plot_area[{key}]"], "AR-TOOL14 method (a): allometric equations", status=RECON)
            ctx.apply(f"C_{t}[{key}]", "C = A × B × (1 + R) × CF × 44/12",
                      s["area_ha"] * ctx[f"B_{t}[{key}]"] * (1 + ctx[f"R[{key}]"]) * ctx[f"CF[{key}]"] * sinks.C_TO_CO2, "tCO2e",
                      [f"A[{key}]", f"B_{t}[{key}]", f"R[{key}]", f"CF[{key}]", "44/12"], "AR-TOOL14 C_TREE = 44/12 × CF × B", status=RECON)
        return ctx.apply(f"delta_C[{key}]", "ΔC = C_t2 − C_t1", ctx[f"C_t2[{key}]"] - ctx[f"C_t1[{key}]"], "tCO2e",
                         [f"C_t2[{key}]", f"C_t1[{key}]"], "stock change over the period", status=RECON)

    er_cites = "ER = ΔC_ACTUAL − ΔC_BSL − LK (as BE − PE − LE)"


EXCLUDED_USES = {"economic": "economic (orchard-type) forest", "urban_greening": "urban, village or industrial land greening",
                 "corridor_greening": "greening of non-forest-land corridors"}
_UNITS = {"WD": "t/m3", "BEF": "1", "R": "1", "CF": "tC/t"}
