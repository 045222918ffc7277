"""The contract every methodology plug-in fulfils.

A plug-in subclasses `Methodology`, declares its identity, sector, crediting-period bounds, project facts
and parameters (`ProjectFact`, `Param`: unit, range, stage, default and its source), its additionality
rule and monitoring requirements, and implements `applicability(project)` and `period(ctx)`: the formulas
for one period, each applied through `ctx.apply(...)` so that it lands in the trace with its inputs,
units and sources.

Quantities are Decimal throughout. Removal (sink) methodologies report removals as negative emissions so
that ER = BE − PE − LE holds for every methodology: BE = −(baseline net removals), PE = −(actual net
removals), LE = leakage.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from typing import Any, ClassVar

from . import inputs
from .declarations import ApplicabilityError, MethodologyError, Monitoring, Param, ProjectFact

D = Decimal

__all__ = ["ApplicabilityError", "Calculation", "Methodology", "MethodologyError", "Monitoring", "Param", "PeriodContext",
           "PeriodResult", "ProjectFact", "Step", "Trace", "Value"]


# ---- the trace ------------------------------------------------------------------------------------------


@dataclass
class Step:
    period: int | None
    symbol: str
    formula: str
    value: Decimal
    unit: str
    inputs: dict[str, dict]
    cites: str
    status: str

    def to_dict(self) -> dict:
        return {"period": self.period, "symbol": self.symbol, "formula": self.formula, "value": str(self.value),
                "unit": self.unit, "inputs": self.inputs, "cites": self.cites, "status": self.status}


@dataclass
class Trace:
    steps: list[Step] = field(default_factory=list)

    def to_list(self) -> list[dict]:
        return [s.to_dict() for s in self.steps]


@dataclass
class Value:
    """A number with its unit and where it came from (input, default of a document, or a formula)."""

    value: Decimal
    unit: str
    source: str


class PeriodContext:
    """What a methodology's `period` sees: the period's inputs, the project facts, and `apply`."""

    def __init__(self, methodology: "Methodology", index: int, start: date, end: date, values: dict[str, Any],
                 project: dict[str, Any], stage: str, trace: Trace):
        self.methodology = methodology
        self.index = index
        self.start = start
        self.end = end
        self.stage = stage
        self.project = project
        self.trace = trace
        self.values: dict[str, Value] = {}
        self.raw = values
        for p in methodology.params:
            if p.symbol in values and p.kind == "number":
                self.values[p.symbol] = Value(values[p.symbol], p.unit, "input")
            elif p.symbol not in values and p.default is not None:
                self.values[p.symbol] = Value(p.default, p.unit, p.source or "default")

    def __getitem__(self, symbol: str) -> Decimal:
        return self.values[symbol].value

    def get(self, symbol: str, default=None):
        v = self.values.get(symbol)
        return v.value if v is not None else default

    def has(self, symbol: str) -> bool:
        return symbol in self.values

    def set(self, symbol: str, value: Decimal, unit: str, source: str) -> Decimal:
        """Record a value that comes from a table or rule (not from a formula of the methodology)."""
        self.values[symbol] = Value(value, unit, source)
        return value

    def apply(self, symbol: str, formula: str, value: Decimal, unit: str, uses: list[str], cites: str,
              status: str = "VERIFIED") -> Decimal:
        """Record one formula application: the symbol it defines, the formula as written in the methodology,
        the inputs it used (with units and sources) and the result."""
        inputs = {}
        for u in uses:
            v = self.values[u]
            inputs[u] = {"value": str(v.value), "unit": v.unit, "source": v.source}
        self.values[symbol] = Value(value, unit, f"formula {formula.split('=')[0].strip()}")
        self.trace.steps.append(Step(self.index, symbol, formula, value, unit, inputs, cites, status))
        return value


@dataclass
class PeriodResult:
    start: date
    end: date
    BE: Decimal
    PE: Decimal
    LE: Decimal
    ER: Decimal
    values: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "BE": float(self.BE), "PE": float(self.PE),
                "LE": float(self.LE), "ER": float(self.ER), "exact": {k: str(getattr(self, k)) for k in ("BE", "PE", "LE", "ER")}}


@dataclass
class Calculation:
    code: str
    stage: str
    periods: list[PeriodResult]
    trace: Trace
    notes: list[str] = field(default_factory=list)

    def total(self, symbol: str) -> Decimal:
        return sum((getattr(p, symbol) for p in self.periods), D(0))

    @property
    def ER_credited(self) -> int:
        """Whole tonnes, rounded down: the conservative choice (Measures Art. 48; methodologies.md §11)."""
        return int(self.total("ER").to_integral_value(rounding=ROUND_FLOOR))

    def to_dict(self) -> dict:
        total = {k: float(self.total(k)) for k in ("BE", "PE", "LE", "ER")}
        total["ER_credited"] = self.ER_credited
        total["exact"] = {k: str(self.total(k)) for k in ("BE", "PE", "LE", "ER")}
        return {"methodology": self.code, "stage": self.stage, "periods": [p.to_dict() for p in self.periods],
                "total": total, "trace": self.trace.to_list(), "notes": self.notes}


# ---- the base class ------------------------------------------------------------------------------------


class Methodology:
    code: ClassVar[str]
    name_zh: ClassVar[str]
    name_en: ClassVar[str]
    #: sector number (first digits of the code), matched against VVB accreditation fields
    sector: ClassVar[str]
    issued: ClassVar[date]
    #: VERIFIED / PARTLY VERIFIED / LARGELY UNVERIFIED, as in methodologies.md §0
    status: ClassVar[str]
    #: crediting period bounds in years (min, max)
    crediting_years: ClassVar[tuple[int, int]]
    #: True when applicable projects need not demonstrate additionality (免予论证)
    additionality_exempt: ClassVar[bool | str]
    additionality_rule: ClassVar[str]
    project_facts: ClassVar[list[ProjectFact]] = []
    params: ClassVar[list[Param]] = []
    monitoring: ClassVar[list[Monitoring]] = []
    #: the folder of the plug-in (README, data/, examples/)
    package_dir: ClassVar[Any] = None

    # -- to implement ------------------------------------------------------------------------------------

    def applicability(self, project: dict) -> None:
        """Raise ApplicabilityError naming the fact and the rule when the project is not applicable."""

    def additionality(self, project: dict) -> dict:
        """{exempt: bool, reason: str} or raise MethodologyError when it must be, and is not, demonstrated."""
        return {"exempt": bool(self.additionality_exempt), "reason": self.additionality_rule}

    def period(self, ctx: PeriodContext) -> tuple[Decimal, Decimal, Decimal]:
        """Return (BE, PE, LE) for one period; ER = BE − PE − LE is applied by the base class."""
        raise NotImplementedError

    def check_periods(self, project: dict, periods: list[tuple[date, date]], stage: str) -> None:
        """Extra rules on the set of periods (e.g. a data link that must be live)."""

    # -- provided ----------------------------------------------------------------------------------------

    def describe(self) -> dict:
        return {
            "code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "sector": self.sector,
            "issued": self.issued.isoformat(), "status": self.status,
            "crediting_years": {"min": self.crediting_years[0], "max": self.crediting_years[1]},
            "additionality": {"exempt": self.additionality_exempt, "rule": self.additionality_rule},
            "project_facts": [f.describe() for f in self.project_facts],
            "parameters": [p.describe() for p in self.params],
            "monitoring": [m.__dict__ for m in self.monitoring],
        }

    def calculate(self, data: dict) -> Calculation:
        """Validate the input document and run the formulas for each period."""
        stage, project, periods = inputs.parse(self, data)
        self.applicability(project)
        additionality = self.additionality(project)
        trace = Trace()
        for symbol, formula, value, unit, used, cites in additionality.get("steps", ()):  # the tools' inputs, in the trace
            trace.steps.append(Step(None, symbol, formula, value, unit, {k: {"value": v, "unit": "as given", "source": "input project.additionality"}
                                                                        for k, v in used.items()}, cites, "UNCONFIRMED (Tool01)"))
        results = []
        for i, (start, end, values) in enumerate(periods):
            with localcontext() as dctx:
                dctx.prec = 34
                ctx = PeriodContext(self, i, start, end, values, project, stage, trace)
                try:
                    be, pe, le = self.period(ctx)
                except (InvalidOperation, ZeroDivisionError) as exc:
                    raise MethodologyError(f"arithmetic failed ({exc.__class__.__name__}); check the inputs of this period", field=f"periods[{i}]")
                er = ctx.apply("ER", "ER_y = BE_y − PE_y − LE_y", be - pe - le, "tCO2e", ["BE", "PE", "LE"],
                               cites=self.er_cites)
            results.append(PeriodResult(start, end, be, pe, le, er))
        notes = [f"additionality: {'exempt' if additionality['exempt'] else 'demonstrated'} — {additionality['reason']}"]
        return Calculation(self.code, stage, results, trace, notes)

    er_cites: ClassVar[str] = "ER = BE − PE − LE"

