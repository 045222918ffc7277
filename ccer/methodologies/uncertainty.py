"""Sampling and uncertainty for carbon-sink projects (methodologies.md §5.7, UNCONFIRMED for CCER-14-001-V01;
from CDM AR-TOOL03 and the earlier Chinese forestry methodologies).

- precision (relative half-width of the 90 % confidence interval) u = t(0.95, n−1) × SE / mean
- plots needed for ±10 % at 90 %: the smallest n with n ≥ (t(n−1) × s / (0.10 × mean))² (t depends on n)
- deduction for the achieved precision: u ≤ 10 % → 0; ≤ 20 % → 6 %; ≤ 30 % → 11 %; > 30 % → more plots
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .protocol import MethodologyError

D = Decimal

#: (upper bound of precision, deduction) — configurable: pass your own table
DEDUCTION_TABLE = ((D("0.10"), D("0")), (D("0.20"), D("0.06")), (D("0.30"), D("0.11")))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    bt = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return bt * _betacf(a, b, x) / a
    return 1.0 - bt * _betacf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _betai(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile by bisection on the CDF."""
    lo, hi = -1e3, 1e3
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass
class PlotStatistics:
    n: int
    mean: Decimal
    sd: Decimal
    se: Decimal
    t: Decimal
    precision: Decimal  # relative half-width of the 90 % CI
    plots_for_10pct: int


def plot_statistics(values: list, confidence: float = 0.90, target: float = 0.10) -> PlotStatistics:
    xs = [float(v) for v in values]
    n = len(xs)
    if n < 2:
        raise MethodologyError("at least 2 sample plots are needed for a precision estimate", field="plots")
    mean = sum(xs) / n
    if mean <= 0:
        raise MethodologyError("the mean of the plots must be positive", field="plots")
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    se = sd / math.sqrt(n)
    p = 1 - (1 - confidence) / 2
    t = t_quantile(p, n - 1)
    # the smallest n with n ≥ (t(n − 1) × s / (E × mean))²: t shrinks as n grows, so search upwards
    needed = 2
    while needed < 100000 and needed < (t_quantile(p, needed - 1) * sd / (target * mean)) ** 2:
        needed += 1
    return PlotStatistics(n, D(repr(mean)), D(repr(sd)), D(repr(se)), D(repr(t)), D(repr(t * se / mean)), needed)


def stratified_statistics(strata: list[tuple[Decimal, list]], confidence: float = 0.90) -> PlotStatistics:
    """Precision of a stratified estimate (CDM AR-TOOL03; methodologies.md §5.7): each stratum (area, its own
    plots), weights w_i = A_i / A; mean = Σ w_i x̄_i, SE = √(Σ w_i² s_i² / n_i), t at Σ(n_i − 1) degrees of
    freedom. One stratum gives exactly `plot_statistics` of its plots."""
    if len(strata) == 1:
        return plot_statistics(strata[0][1], confidence)
    total = sum(float(a) for a, _ in strata)
    if total <= 0:
        raise MethodologyError("the strata used have no area", field="strata")
    mean = var = 0.0
    df = 0
    for area, values in strata:
        one = plot_statistics(values, confidence)
        w = float(area) / total
        mean += w * float(one.mean)
        var += w * w * float(one.sd) ** 2 / one.n
        df += one.n - 1
    se = math.sqrt(var)
    t = t_quantile(1 - (1 - confidence) / 2, df)
    n = sum(len(v) for _, v in strata)
    return PlotStatistics(n, D(repr(mean)), D(repr(math.sqrt(var * n))), D(repr(se)), D(repr(t)), D(repr(t * se / mean)), 0)


def deduction(precision: Decimal, table=DEDUCTION_TABLE) -> Decimal:
    for bound, ded in table:
        if precision <= bound:
            return ded
    raise MethodologyError(f"sampling precision {precision:.1%} exceeds {table[-1][0]:.0%}: add sample plots before issuance",
                           field="plots", rule="uncertainty deduction table (methodologies.md §5.7)")
