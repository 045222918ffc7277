"""What the carbon-sink methodologies share (CCER-14-001-V01 afforestation, CCER-14-002-V01 mangrove):
strata input, the sampling-precision deduction, and reporting removals as negative emissions
(BE = −ΔC_BSL, PE = −ΔC_ACTUAL × (1 − deduction), LE = LK, so ER = BE − PE − LE)."""
from __future__ import annotations

from decimal import Decimal

from . import uncertainty
from .inputs import number
from .protocol import MethodologyError, Param, PeriodContext

D = Decimal
C_TO_CO2 = D(44) / D(12)

SINK_PARAMS = [
    Param("plots", "tC/ha", "carbon stock (or stock change) measured in the sample plots of each stratum used, "
          "{stratum name: [values]} (a plain list when the period has one stratum), for the precision check",
          kind="by_stratum", required=False, status="RECONSTRUCTED (AR-TOOL03)"),
    Param("delta_C_BSL", "tCO2e", "baseline net removals of pre-existing vegetation in the period", min=D(-1e7), max=D("1e7"),
          default=D(0), source="commonly 0 (methodologies.md §5.5, UNCONFIRMED)", status="UNCONFIRMED"),
    Param("GHG_E", "tCO2e", "non-CO2 emissions from biomass burning (fire) in the period", min=D(0), max=D("1e7"),
          default=D(0), source="no fire reported", status="UNCONFIRMED"),
    Param("LK", "tCO2e", "leakage", min=D(0), max=D("1e7"), default=D(0),
          source="0: applicability excludes displacement of agriculture (methodologies.md §5.5, UNCONFIRMED)", status="UNCONFIRMED"),
]


def strata(ctx: PeriodContext, required: tuple[str, ...], optional: tuple[str, ...] = (), rows: list | None = None,
           passthrough: tuple[str, ...] = ()) -> list[dict]:
    """Validate the period's strata (or the given rows of it): each a dict with the required numeric keys
    (non-negative); `passthrough` keys (lists such as measured trees) are kept as given for the caller."""
    rows = ctx.raw.get("strata") if rows is None else rows
    out = []
    for i, row in enumerate(rows):
        where = f"periods[{ctx.index}].strata[{i}]"
        if not isinstance(row, dict):
            raise MethodologyError("must be an object", field=where)
        unknown = set(row) - set(required) - set(optional) - set(passthrough) - {"name", "species"}
        if unknown:
            raise MethodologyError(f"unknown key; expected {', '.join(required + optional)}", field=f"{where}.{sorted(unknown)[0]}")
        clean = {"name": str(row.get("name") or row.get("species") or f"stratum {i + 1}"), "species": row.get("species"),
                 **{k: row[k] for k in passthrough if k in row}}
        for key in required:
            if key not in row:
                raise MethodologyError("is required", field=f"{where}.{key}")
            clean[key] = number(row[key], f"{where}.{key}", lo=D(0), hi=D("1e7"))
        for key in optional:
            if key in row:
                clean[key] = number(row[key], f"{where}.{key}", lo=D(0), hi=D("1e7"))
        out.append(clean)
    return out


def precision_deduction(ctx: PeriodContext, used: list[tuple[str, Decimal]]) -> Decimal:
    """Deduction for the achieved sampling precision at 90 % confidence (methodologies.md §5.7, UNCONFIRMED),
    computed from the plots of the strata actually used in the period (`used`: (name, area) of each): `plots`
    is {stratum name: [values]} — or a plain list when the period has exactly one stratum. A stratum without
    its plots, or plots of a stratum not used, is refused: the plot list that sets the deduction is the one
    the stock was estimated from (AR-TOOL03, stratified). Ex-ante has no plots and no deduction."""
    plots = ctx.raw.get("plots")
    where = f"periods[{ctx.index}].plots"
    if not plots:
        if ctx.stage == "ex-post":
            raise MethodologyError("sample plot measurements are required ex-post for the precision check",
                                   field=where, rule="±10 % at 90 % confidence (AR-TOOL03)")
        return ctx.set("deduction", D(0), "1", "ex-ante estimate: no sampling yet")
    names = [n for n, _ in used]
    if isinstance(plots, list):
        if len(used) != 1:
            raise MethodologyError(f"the period has {len(used)} strata ({', '.join(names)}): give the plots of each as "
                                   "{stratum name: [values]}", field=where, rule="plots tied to the strata used (AR-TOOL03)")
        plots = {names[0]: plots}
    if not isinstance(plots, dict):
        raise MethodologyError("must be a list of plot values or {stratum name: [values]}", field=where)
    for name in plots:
        if name not in names:
            raise MethodologyError(f"plots of stratum {name!r}, which the period does not use (strata: {', '.join(names)})",
                                   field=f"{where}.{name}", rule="plots tied to the strata used (AR-TOOL03)")
    rows = []
    for name, area in used:
        values = plots.get(name)
        if not isinstance(values, list) or not values:
            raise MethodologyError(f"no sample plots for stratum {name!r}", field=f"{where}.{name}",
                                   rule="plots tied to the strata used (AR-TOOL03)")
        rows.append((area, [number(v, f"{where}.{name}[{i}]", lo=D(0)) for i, v in enumerate(values)]))
    stats = uncertainty.stratified_statistics(rows)
    per = "; ".join(f"{n}: {len(v)} plots" for (n, _), (_, v) in zip(used, rows))
    extra = f"; plots for ±10 %: {stats.plots_for_10pct}" if len(rows) == 1 else f" (stratified by area: {per})"
    ctx.set("precision", stats.precision, "1", f"n={stats.n}, mean={stats.mean:.4f}, SE={stats.se:.4f}, t={stats.t:.4f}{extra}")
    return ctx.apply("deduction", "deduction = table(precision): ≤10 % → 0, ≤20 % → 6 %, ≤30 % → 11 %",
                     uncertainty.deduction(stats.precision), "1", ["precision"], "methodologies.md §5.7 (earlier Chinese forestry methodologies)",
                     status="UNCONFIRMED")


def removals_as_emissions(ctx: PeriodContext, delta_c_p: str, cites: str, used: list[tuple[str, Decimal]]) -> tuple[Decimal, Decimal, Decimal]:
    """ΔC_ACTUAL = ΔC_P − GHG_E; ER = ΔC_ACTUAL × (1 − deduction) − ΔC_BSL − LK, reported as BE/PE/LE. A loss
    (ΔC_ACTUAL < 0, a reversal) is kept whole: the deduction discounts removals, never a loss (conservative,
    Measures Art. 48); the batch netting (ccer.projects.monitoring) carries it until regrowth makes it good."""
    actual = ctx.apply("delta_C_ACTUAL", "ΔC_ACTUAL = ΔC_P − GHG_E", ctx[delta_c_p] - ctx["GHG_E"], "tCO2e",
                       [delta_c_p, "GHG_E"], cites, status="RECONSTRUCTED (AR-ACM0003)")
    precision_deduction(ctx, used)
    be = ctx.apply("BE", "BE = −ΔC_BSL (baseline removals as negative emissions)", -ctx["delta_C_BSL"], "tCO2e",
                   ["delta_C_BSL"], cites, status="RECONSTRUCTED (AR-ACM0003)")
    if actual < 0:
        pe = ctx.apply("PE", "PE = −ΔC_ACTUAL (a loss: counted in full, no deduction)", -actual, "tCO2e",
                       ["delta_C_ACTUAL"], cites + "; conservativeness (Measures Art. 48)", status="RECONSTRUCTED (AR-ACM0003)")
    else:
        pe = ctx.apply("PE", "PE = −ΔC_ACTUAL × (1 − deduction) (actual removals as negative emissions)",
                       -actual * (1 - ctx["deduction"]), "tCO2e", ["delta_C_ACTUAL", "deduction"], cites,
                       status="RECONSTRUCTED (AR-ACM0003)")
    le = ctx.apply("LE", "LE = LK", ctx["LK"], "tCO2e", ["LK"], cites, status="UNCONFIRMED")
    return be, pe, le


def strata_used(rows: list[dict]) -> list[tuple[str, Decimal]]:
    """(name, area) of each stratum a period used, for the precision check."""
    return [(r["name"], r["area_ha"]) for r in rows]


def period_years(ctx: PeriodContext) -> Decimal:
    return D((ctx.end - ctx.start).days + 1) / D("365.25")
