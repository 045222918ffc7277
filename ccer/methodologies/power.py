"""What the grid-connected power methodologies share (CCER-01-002-V01 offshore wind, CCER-01-001-V01 solar
thermal; VERIFIED, methodologies.md §2–3): net generation with the meter-error corrections, green-certificate
exclusion, and the combined-margin grid factor."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from . import grid, meters
from .protocol import MethodologyError, Param, PeriodContext, ProjectFact

D = Decimal


def meter_params(prefix: str, label: str) -> list[Param]:
    return [
        Param(f"{prefix}_meter_class", "1", f"accuracy class of the {label} meter", kind="choice", choices=meters.CLASSES,
              required=False),
        Param(f"{prefix}_calibration", "1", f"calibration status of the {label} meter in the period", kind="choice",
              choices=meters.CALIBRATION, required=False),
        Param(f"{prefix}_error", "1", f"actual basic error of the {label} meter at calibration (fraction)",
              min=D("-0.1"), max=D("0.1"), required=False),
    ]


GRID_FACTS = [
    ProjectFact("grid", "1", "regional grid the project feeds (for the MEE factor table)", kind="choice", choices=grid.GRIDS,
                required=False),
    ProjectFact("ef_as_of", "date", "date the verification report is uploaded / the estimate is made (which editions are published)",
                kind="date", required=False),
]


def grid_factor_params(d) -> list[Param]:
    """OM/BM overrides and the combined-margin weights; `d` is the package's Defaults (w_OM, w_BM)."""
    return [
        Param("EF_grid_OM", "tCO2/MWh", "operating margin factor; overrides the MEE table", min=D(0), max=D(2), required=False),
        Param("EF_grid_BM", "tCO2/MWh", "build margin factor; overrides the MEE table", min=D(0), max=D(2), required=False),
        Param("w_OM", "1", "weight of the operating margin", min=D(0), max=D(1), stage="validation", **d("w_OM")),
        Param("w_BM", "1", "weight of the build margin", min=D(0), max=D(1), stage="validation", **d("w_BM")),
    ]


def power_params(d) -> list[Param]:
    """The parameters of a grid-connected power methodology; `d` is the package's Defaults."""
    return [
        Param("EG_export", "MWh", "electricity exported to the grid at the export metering point", min=D(0), max=D("1e8")),
        Param("EG_import", "MWh", "electricity imported from the grid at the import metering point", min=D(0), max=D("1e8"),
              **d("EG_import")),
        Param("EG_GEC", "MWh", "electricity for which tradable green certificates (绿证) were issued or traded — excluded",
              min=D(0), max=D("1e8"), **d("EG_GEC")),
        *grid_factor_params(d),
        *meter_params("export", "export"),
        *meter_params("import", "import"),
    ]


def _corrected(ctx: PeriodContext, symbol: str, kind: str, cites: str) -> Decimal:
    status = ctx.raw.get(f"{kind}_calibration", "calibrated")
    f, why = meters.factor(kind, status, ctx.raw.get(f"{kind}_meter_class"), ctx.raw.get(f"{kind}_error"), kind)
    ctx.set(f"f_{kind}", f, "1", why)
    sign = "1 − e" if kind == "export" else "1 + e"
    return ctx.apply(f"{symbol}_corrected", f"{symbol},corrected = {symbol} × ({sign})", ctx[symbol] * f, "MWh",
                     [symbol, f"f_{kind}"], cites)


def net_generation(ctx: PeriodContext, cites: str) -> Decimal:
    """EG_PJ,y = EG_export,y − EG_import,y (formula (2)), after §7.3.4 corrections, less green-certificate MWh."""
    _corrected(ctx, "EG_export", "export", "§7.3.4 meter-error correction")
    _corrected(ctx, "EG_import", "import", "§7.3.4 meter-error correction")
    eg = ctx.apply("EG_PJ", "EG_PJ,y = EG_export,y − EG_import,y − EG_GEC,y",
                   ctx["EG_export_corrected"] - ctx["EG_import_corrected"] - ctx["EG_GEC"], "MWh",
                   ["EG_export_corrected", "EG_import_corrected", "EG_GEC"], cites + "; GEC exclusion per MEE/NEA 2024-09-11")
    if eg < 0:
        raise MethodologyError(f"net generation is negative ({eg} MWh): imports and green-certificate MWh exceed exports",
                               field=f"periods[{ctx.index}].EG_import")
    return eg


def combined_margin(ctx: PeriodContext, cites: str) -> Decimal:
    """EF_grid,CM,y = EF_grid,OM,y × ω_OM + EF_grid,BM,y × ω_BM (formula (3)); OM/BM from the inputs or the
    MEE table edition chosen by the year-y rule."""
    given = [s for s in ("EF_grid_OM", "EF_grid_BM") if ctx.has(s)]
    if len(given) == 1:
        raise MethodologyError("give both EF_grid_OM and EF_grid_BM, or neither (then the MEE table is used)",
                               field=f"periods[{ctx.index}].{'EF_grid_BM' if given[0] == 'EF_grid_OM' else 'EF_grid_OM'}")
    if not given:
        region = ctx.project.get("grid")
        if not region:
            raise MethodologyError("needed to look up the MEE grid factors (or give EF_grid_OM and EF_grid_BM)", field="project.grid")
        if ctx.start.year != ctx.end.year and ctx.stage == "ex-post":
            raise MethodologyError("the MEE factors are per year y: split the period at 31 December or give EF_grid_OM/EF_grid_BM",
                                   field=f"periods[{ctx.index}].end")
        edition = grid.select(region, ctx.start.year, ctx.stage, ctx.project.get("ef_as_of"))
        om, bm = edition.factors[region]
        src = f"{edition.source}, {region} grid, edition {edition.year} for year {ctx.start.year} ({ctx.stage})"
        ctx.set("EF_grid_OM", om, "tCO2/MWh", src)
        ctx.set("EF_grid_BM", bm, "tCO2/MWh", src)
    if ctx["w_OM"] + ctx["w_BM"] != 1:
        raise MethodologyError("ω_OM + ω_BM must be 1", field=f"periods[{ctx.index}].w_BM")
    return ctx.apply("EF_grid_CM", "EF_grid,CM,y = EF_grid,OM,y × ω_OM + EF_grid,BM,y × ω_BM",
                     ctx["EF_grid_OM"] * ctx["w_OM"] + ctx["EF_grid_BM"] * ctx["w_BM"], "tCO2/MWh",
                     ["EF_grid_OM", "w_OM", "EF_grid_BM", "w_BM"], cites)


def baseline(ctx: PeriodContext, cites: str) -> Decimal:
    """BE_y = EG_PJ,y × EF_grid,CM,y (formula (1))."""
    net_generation(ctx, cites.replace("(1)", "(2)"))
    combined_margin(ctx, cites.replace("(1)", "(3)"))
    return ctx.apply("BE", "BE_y = EG_PJ,y × EF_grid,CM,y", ctx["EG_PJ"] * ctx["EF_grid_CM"], "tCO2e",
                     ["EG_PJ", "EF_grid_CM"], cites)


def zero(ctx: PeriodContext, symbol: str, why: str, cites: str) -> Decimal:
    ctx.set(f"{symbol}_rule", D(0), "tCO2e", why)
    return ctx.apply(symbol, f"{symbol}_y = 0", D(0), "tCO2e", [f"{symbol}_rule"], cites)


def check_lifetime(project: dict, periods: list[tuple[date, date]]) -> None:
    """Crediting lies within the project lifetime, which starts at grid connection (§5.2)."""
    connected = project.get("grid_connection")
    if connected:
        for i, (s, _e) in enumerate(periods):
            if s < connected:
                raise MethodologyError(f"starts {s}, before grid connection on {connected}", field=f"periods[{i}].start",
                                       rule="§5.2: the lifetime starts at grid connection")
