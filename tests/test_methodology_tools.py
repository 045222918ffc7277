"""Shared tools checked against numbers computed by hand or published tables."""
from decimal import Decimal as D

import pytest

from ccer.methodologies import additionality, uncertainty
from ccer.methodologies.protocol import MethodologyError


def test_irr_and_npv_by_hand():
    # 60/(1+r) + 60/(1+r)² = 100 → x = 1/(1+r) solves 60x² + 60x − 100 = 0 → x = (−60 + √27600)/120 = 0.8844373
    # → r = 0.1306624 (quadratic formula by hand)
    assert abs(additionality.irr([D(-100), D(60), D(60)]) - D("0.1306624")) < D("1e-6")
    # NPV at 10 %: −100 + 60/1.1 + 60/1.21 = −100 + 54.545454… + 49.586776… = 4.132231…
    assert abs(additionality.npv(D("0.1"), [D(-100), D(60), D(60)]) - D("4.1322314")) < D("1e-6")
    with pytest.raises(MethodologyError):
        additionality.irr([D(10), D(20)])


def test_investment_analysis_and_sensitivity():
    # 1000 invested, 20 years of 10,000 MWh × 0.0095 − 0 → 95/yr: IRR ≈ 7.19 % < 8 % (additional)
    model = additionality.CashFlowModel(investment=D(1000), annual_output=D(10000), price=D("0.0095"), annual_om=D(0), years=20)
    result = additionality.investment_analysis(model)
    assert result.additional and D("0.07") < result.irr < D("0.075")
    # +10 % price → 104.5/yr: IRR ≈ 8.4 % crosses the benchmark, so the conclusion is not robust
    assert result.sensitivity["price"]["+10%"] > D("0.08") and not result.robust
    assert "does NOT hold" in result.conclusion()


def test_common_practice():
    assert additionality.common_practice(10, 5) == (True, D("0.5"))   # F = 0.5 > 0.2 and 10 − 5 > 3
    assert additionality.common_practice(10, 9)[0] is False           # F = 0.1
    assert additionality.common_practice(5, 2)[0] is False            # N_all − N_diff = 3, not > 3


def test_student_t_against_published_tables():
    # two-sided 90 % (one-sided 0.95) critical values: df 1 → 6.314, 4 → 2.132, 9 → 1.833, 10 → 1.812, ∞ → 1.645
    for df, t in ((1, 6.3138), (4, 2.1318), (9, 1.8331), (10, 1.8125), (10**7, 1.6449)):
        assert abs(uncertainty.t_quantile(0.95, df) - t) < 1e-4


def test_plot_statistics_by_hand():
    # [30,32,28,31,29,30,33,27,30,30]: mean 30, Σd² = 28, s = √(28/9) = 1.763834, SE = 0.557773,
    # precision = 1.833113 × 0.557773 / 30 = 0.034082
    s = uncertainty.plot_statistics([30, 32, 28, 31, 29, 30, 33, 27, 30, 30])
    assert s.n == 10 and s.mean == 30
    assert abs(float(s.sd) - 1.763834) < 1e-6 and abs(float(s.precision) - 0.034082) < 1e-6
    assert s.plots_for_10pct == 3  # n = (t s / 3)²: t(0.95, 2) = 2.92 → 2.95 → 3 plots (checked by iteration)


@pytest.mark.parametrize("precision, expected", [("0.10", "0"), ("0.1001", "0.06"), ("0.20", "0.06"), ("0.30", "0.11")])
def test_deduction_table(precision, expected):
    assert uncertainty.deduction(D(precision)) == D(expected)


def test_deduction_refuses_beyond_30_percent():
    with pytest.raises(MethodologyError):
        uncertainty.deduction(D("0.31"))
