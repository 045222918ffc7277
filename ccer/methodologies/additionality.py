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
