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
    ProjectFact("province", "1", "province of the site: gives the regional grid of the edition used when `grid` is not given",
                kind="text", required=False),
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
        if ctx.start.year != ctx.end.year and ctx.stage == "ex-post":
            raise MethodologyError("the MEE factors are per year y: split the period at 31 December or give EF_grid_OM/EF_grid_BM",
                                   field=f"periods[{ctx.index}].end")
        as_of = ctx.project.get("ef_as_of")
        region = ctx.project.get("grid") or _region_of_province(ctx, as_of)
        edition = grid.select(region, ctx.start.year, ctx.stage, as_of)
        om, bm = edition.factors[region]
        src = (f"{edition.source}, {region} grid, edition {edition.year} for year {ctx.start.year} "
               f"({grid.choice(edition, region, ctx.start.year, ctx.stage)})")
        ctx.set("EF_grid_OM", om, "tCO2/MWh", src)
        ctx.set("EF_grid_BM", bm, "tCO2/MWh", src)
    if ctx["w_OM"] + ctx["w_BM"] != 1:
        raise MethodologyError("ω_OM + ω_BM must be 1", field=f"periods[{ctx.index}].w_BM")
    return ctx.apply("EF_grid_CM", "EF_grid,CM,y = EF_grid,OM,y × ω_OM + EF_grid,BM,y × ω_BM",
                     ctx["EF_grid_OM"] * ctx["w_OM"] + ctx["EF_grid_BM"] * ctx["w_BM"], "tCO2/MWh",
                     ["EF_grid_OM", "w_OM", "EF_grid_BM", "w_BM"], cites)


#: CCER-01-001-V01 formula (3) and CCER-01-002-V01 Tables 2–3: ω_OM = ω_BM = 0.5, fixed by the text (CDM Tool07's
#: 0.75/0.25 for wind and solar is not the CCER rule; methodologies.md §2)
FIXED_WEIGHT = D("0.5")


def _fixed_weights(ctx: PeriodContext, cites: str) -> None:
    for symbol in ("w_OM", "w_BM"):
        given = ctx.raw.get(symbol)
        if given not in (None, "") and D(str(given)) != FIXED_WEIGHT:
            raise MethodologyError(f"{given} refused: the weights are fixed at 0.5/0.5 by the methodology",
                                   field=f"periods[{ctx.index}].{symbol}",
                                   rule=f"{cites.split(' formula')[0]} formula (3), Tables 2–3: ω_OM = ω_BM = 0.5")


def _region_of_province(ctx: PeriodContext, as_of) -> str:
    province = ctx.project.get("province")
    if not province:
        raise MethodologyError("needed to look up the MEE grid factors (or give project.province, or EF_grid_OM and EF_grid_BM)",
                               field="project.grid")
    year = None if ctx.stage == "ex-ante" else ctx.start.year
    inforce = [e for e in grid.editions() if (as_of is None or e.published <= as_of) and (year is None or e.year <= year)]
    if not inforce:
        raise MethodologyError(f"no grid-factor edition in force for {ctx.start.year}: {grid.LOAD_HINT}", field="EF_grid_OM",
                               rule=grid.RULE)
    return inforce[-1].grid_of_province(province)


def baseline(ctx: PeriodContext, cites: str) -> Decimal:
    """BE_y = EG_PJ,y × EF_grid,CM,y (formula (1)), with the weights fixed at 0.5/0.5."""
    _fixed_weights(ctx, cites)
    net_generation(ctx, cites.replace("(1)", "(2)"))
    combined_margin(ctx, cites.replace("(1)", "(3)"))
    return ctx.apply("BE", "BE_y = EG_PJ,y × EF_grid,CM,y", ctx["EG_PJ"] * ctx["EF_grid_CM"], "tCO2e",
                     ["EG_PJ", "EF_grid_CM"], cites)


def zero(ctx: PeriodContext, symbol: str, why: str, cites: str) -> Decimal:
    ctx.set(f"{symbol}_rule", D(0), "tCO2e", why)
    return ctx.apply(symbol, f"{symbol}_y = 0", D(0), "tCO2e", [f"{symbol}_rule"], cites)


#: the PDD's project boundary table gives the corner coordinates of the site (sea area, plant) to 6 decimals or more
#: (≈ 0.1 m); the platform keeps them as given, as text, so no decimal is lost
BOUNDARY_DECIMALS = 6
BOUNDARY_FACT = ProjectFact("boundary_corners", "°", "corner coordinates of the project boundary: [[longitude, latitude], …] "
                            f"in WGS 84, each with at least {BOUNDARY_DECIMALS} decimals (give them as text, e.g. \"121.123450\")",
                            kind="list", required=False)


def check_boundary(project: dict) -> None:
    """Corner coordinates, when given: at least 3 [longitude, latitude] pairs inside China's land and sea areas,
    each written with ≥ 6 decimals."""
    corners = project.get("boundary_corners")
    if corners is None:
        return
    if len(corners) < 3:
        raise MethodologyError("give at least 3 corners", field="project.boundary_corners")
    for i, pair in enumerate(corners):
        where = f"project.boundary_corners[{i}]"
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise MethodologyError("must be [longitude, latitude]", field=where)
        for value, name, lo, hi in ((pair[0], "longitude", 73, 136), (pair[1], "latitude", 3, 54)):
            text = str(value).strip()
            try:
                number = D(text)
            except Exception:  # noqa: BLE001 — decimal.InvalidOperation and friends
                raise MethodologyError(f"{name} {text!r} is not a number", field=where) from None
            if not number.is_finite() or not lo <= number <= hi:
                raise MethodologyError(f"{name} {text} is outside {lo}–{hi}° (China)", field=where)
            decimals = -number.as_tuple().exponent if number.as_tuple().exponent < 0 else 0
            if decimals < BOUNDARY_DECIMALS:
                raise MethodologyError(f"{name} {text} has {decimals} decimals; the boundary needs at least {BOUNDARY_DECIMALS} "
                                       "(give it as text to keep trailing zeros)", field=where, rule="PDD project boundary coordinates")


def check_lifetime(project: dict, periods: list[tuple[date, date]]) -> None:
    """Crediting lies within the project lifetime, which starts at grid connection (§5.2)."""
    connected = project.get("grid_connection")
    if connected:
        for i, (s, _e) in enumerate(periods):
            if s < connected:
                raise MethodologyError(f"starts {s}, before grid connection on {connected}", field=f"periods[{i}].start",
                                       rule="§5.2: the lifetime starts at grid connection")
