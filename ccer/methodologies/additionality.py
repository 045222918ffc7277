"""Additionality tools: exemption rules, investment analysis (IRR/NPV against a benchmark with ±10 %
sensitivity), barrier analysis and common-practice records.

Background (methodologies.md §9, UNCONFIRMED where marked): CDM Tool01 steps — alternatives, investment
analysis (benchmark, sensitivity on capex, opex, tariff, output), barriers, common practice (Tool24:
F = 1 − N_diff/N_all; common practice when F > 0.2 and N_all − N_diff > 3). Chinese power CDM PDDs used an
8 % post-tax project IRR benchmark (UNCONFIRMED). Measures Art. 48 defines additionality as not being the
best option on IRR or other financial indicators, or facing financing/key-technology barriers."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .protocol import MethodologyError

D = Decimal
POWER_BENCHMARK_IRR = D("0.08")


def npv(rate: Decimal, cash_flows: list[Decimal]) -> Decimal:
    """Σ CF_t / (1 + r)^t, t = 0 for the first flow (the investment year)."""
    return sum((D(cf) / (1 + rate) ** t for t, cf in enumerate(cash_flows)), D(0))


def irr(cash_flows: list[Decimal], lo: Decimal = D("-0.99"), hi: Decimal = D("10")) -> Decimal:
    """The rate where NPV = 0, by bisection (cash flows with one sign change have exactly one). Raises when
    the flows never change sign."""
    flows = [D(c) for c in cash_flows]
    if not (any(c < 0 for c in flows) and any(c > 0 for c in flows)):
        raise MethodologyError("an IRR needs both negative (investment) and positive cash flows", field="cash_flows")
    f_lo, f_hi = npv(lo, flows), npv(hi, flows)
    if f_lo * f_hi > 0:
        raise MethodologyError("no IRR between −99 % and 1000 %", field="cash_flows")
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = npv(mid, flows)
        if abs(hi - lo) < D("1e-12"):
            break
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass
class CashFlowModel:
    """A project's annual cash flows from its drivers, so that each driver can be varied by ±10 %.
    Year 0 carries the investment; years 1..n: output × price − O&M (− tax, as given)."""

    investment: Decimal
    annual_output: Decimal
    price: Decimal
    annual_om: Decimal
    years: int
    residual_value: Decimal = D(0)
    annual_tax: Decimal = D(0)

    def flows(self, investment=1, output=1, price=1, om=1) -> list[Decimal]:
        inv = self.investment * D(investment)
        yearly = self.annual_output * D(output) * self.price * D(price) - self.annual_om * D(om) - self.annual_tax
        cfs = [-inv] + [yearly] * self.years
        cfs[-1] += self.residual_value
        return cfs


@dataclass
class InvestmentAnalysis:
    irr: Decimal
    npv_at_benchmark: Decimal
    benchmark: Decimal
    additional: bool
    sensitivity: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    robust: bool = True

    def conclusion(self) -> str:
        verdict = "below" if self.additional else "at or above"
        holds = "holds" if self.robust else "does NOT hold"
        return (f"project IRR {self.irr:.2%} is {verdict} the {self.benchmark:.0%} benchmark; the conclusion "
                f"{holds} under ±10 % variation of investment, output, price and O&M")


def investment_analysis(model: CashFlowModel, benchmark: Decimal = POWER_BENCHMARK_IRR, swing: Decimal = D("0.10")) -> InvestmentAnalysis:
    """Benchmark analysis: additional when the IRR without CCER revenue is below the benchmark; the
    conclusion is robust when it holds for every driver at ±swing."""
    base = irr(model.flows())
    result = InvestmentAnalysis(irr=base, npv_at_benchmark=npv(benchmark, model.flows()), benchmark=benchmark,
                                additional=base < benchmark)
    for driver in ("investment", "output", "price", "om"):
        row = {}
        for label, f in (("-10%", 1 - swing), ("+10%", 1 + swing)):
            r = irr(model.flows(**{driver: f}))
            row[label] = r
            if (r < benchmark) != result.additional:
                result.robust = False
        result.sensitivity[driver] = row
    return result


@dataclass
class Barrier:
    kind: str  # "investment" | "technology" | "institutional" | "prevailing practice" | "financing"
    description: str
    evidence: list[str]


def barrier_analysis(barriers: list[Barrier]) -> tuple[bool, str]:
    """A barrier counts when it is described and evidenced (Tool01 Step 3)."""
    counted = [b for b in barriers if b.description.strip() and b.evidence]
    if not counted:
        return False, "no evidenced barrier"
    return True, "; ".join(f"{b.kind}: {b.description} ({len(b.evidence)} evidence)" for b in counted)


def common_practice(n_all: int, n_diff: int) -> tuple[bool, Decimal]:
    """Tool24: F = 1 − N_diff/N_all; common practice when F > 0.2 and N_all − N_diff > 3 (UNCONFIRMED)."""
    if n_all <= 0 or not 0 <= n_diff <= n_all:
        raise MethodologyError("need 0 ≤ N_diff ≤ N_all and N_all > 0", field="n_all")
    f = 1 - D(n_diff) / D(n_all)
    return (f > D("0.2") and n_all - n_diff > 3), f


# ---- demonstration from recorded inputs (Tool01 / AR-TOOL02 steps; methodologies.md §5.4, §9) ---------------

ADDITIONALITY_FACT_HELP = ("additionality demonstration inputs: {investment: {investment, annual_output, price, annual_om, years, "
                           "benchmark, optional residual_value, annual_tax}, barriers: [{kind, description, evidence: [...]}], "
                           "common_practice: {n_all, n_diff}} — investment and/or barrier analysis, then common practice")


def _num(given: dict, key: str, where: str) -> Decimal:
    from .inputs import number

    if key not in given:
        raise MethodologyError("is required", field=f"{where}.{key}", rule="Tool01 Step 2")
    return number(given[key], f"{where}.{key}")


def demonstrate(code: str, given) -> dict:
    """Run the tools on the project's recorded inputs: the investment analysis (IRR below the benchmark under ±10 %
    sensitivity) and/or the barrier analysis (a described, evidenced barrier), then the common-practice test
    (Tool24), which must show the activity is not common practice. A bare label passes nothing. Returns
    {exempt: False, reason, steps: [(symbol, formula, value, unit, inputs, cites)]} for the trace."""
    where = "project.additionality"
    rule = f"{code} additionality (Measures Art. 48; Tool01 / AR-TOOL02, methodologies.md §5.4, §9)"
    if not isinstance(given, dict) or not ("investment" in given or "barriers" in given):
        raise MethodologyError("additionality must be demonstrated with the tools' inputs: an investment analysis and/or a "
                               "barrier analysis, and the common-practice analysis", field=where, rule=rule)
    steps, grounds = [], []
    if "investment" in given:
        inv, w = given["investment"], f"{where}.investment"
        if not isinstance(inv, dict):
            raise MethodologyError("must be an object", field=w)
        model = CashFlowModel(investment=_num(inv, "investment", w), annual_output=_num(inv, "annual_output", w),
                              price=_num(inv, "price", w), annual_om=_num(inv, "annual_om", w), years=int(_num(inv, "years", w)),
                              residual_value=D(str(inv.get("residual_value", 0))), annual_tax=D(str(inv.get("annual_tax", 0))))
        benchmark = _num(inv, "benchmark", w)  # no default: a forestry or lighting benchmark is the project's to justify
        result = investment_analysis(model, benchmark)
        steps.append(("IRR", "IRR: NPV(IRR) = 0 over the project's cash flows without CCER revenue", result.irr, "1",
                      {k: str(v) for k, v in inv.items()}, "Tool01 Step 2 (benchmark analysis)"))
        steps.append(("NPV_benchmark", "NPV at the benchmark rate", result.npv_at_benchmark, "CNY", {"benchmark": str(benchmark)},
                      "Tool01 Step 2"))
        if result.additional and result.robust:
            grounds.append(result.conclusion())
    if "barriers" in given:
        raw = given["barriers"]
        if not isinstance(raw, list):
            raise MethodologyError("must be a list of {kind, description, evidence}", field=f"{where}.barriers")
        barriers = [Barrier(str(b.get("kind", "")), str(b.get("description", "")), list(b.get("evidence") or []))
                    for b in raw if isinstance(b, dict)]
        ok, text = barrier_analysis(barriers)
        steps.append(("barriers", "barriers counted: described and evidenced", D(sum(1 for b in barriers if b.description.strip() and b.evidence)),
                      "1", {"barriers": text}, "Tool01 Step 3"))
        if ok:
            grounds.append(f"barrier analysis: {text}")
    cp = given.get("common_practice")
    if not isinstance(cp, dict):
        raise MethodologyError("the common-practice analysis is required: {n_all, n_diff}", field=f"{where}.common_practice", rule=rule)
    n_all, n_diff = int(_num(cp, "n_all", f"{where}.common_practice")), int(_num(cp, "n_diff", f"{where}.common_practice"))
    common, f = common_practice(n_all, n_diff)
    steps.append(("F_common_practice", "F = 1 − N_diff / N_all", f, "1", {"N_all": str(n_all), "N_diff": str(n_diff)},
                  "Tool01 Step 4 / Tool24 (common practice when F > 0.2 and N_all − N_diff > 3, UNCONFIRMED)"))
    if common:
        raise MethodologyError(f"the activity is common practice (F = {f:.2f} > 0.2 and N_all − N_diff = {n_all - n_diff} > 3)",
                               field=f"{where}.common_practice", rule=rule)
    if not grounds:
        raise MethodologyError("neither analysis demonstrates additionality: the IRR is not robustly below the benchmark and no "
                               "barrier is described and evidenced", field=where, rule=rule)
    return {"exempt": False, "reason": "demonstrated — " + "; ".join(grounds) + f"; not common practice (F = {f:.2f})",
            "steps": steps}
