"""Meter-error corrections (VERIFIED: CCER-01-002-V01 / CCER-01-001-V01 §7.3.4; methodologies.md §1).

| data                       | calibrated on time, outside accuracy | not calibrated / calibrated late       |
| export (上网) MWh           | × (1 − |actual basic error|)          | × (1 − max permissible error of class) |
| import (下网) MWh, fuel     | × (1 + |actual basic error|)          | × (1 + max permissible error of class) |
"""
from __future__ import annotations

from decimal import Decimal

from .protocol import MethodologyError

#: maximum permissible error by accuracy class (electricity meters: 0.2S/0.5S …; gas flow meters: 1.0, 1.5, 2.0)
MAX_PERMISSIBLE_ERROR = {
    "0.2S": Decimal("0.002"), "0.2": Decimal("0.002"), "0.5S": Decimal("0.005"), "0.5": Decimal("0.005"),
    "1.0": Decimal("0.01"), "1.5": Decimal("0.015"), "2.0": Decimal("0.02"),
}
CLASSES = tuple(MAX_PERMISSIBLE_ERROR)
CALIBRATION = ("calibrated", "out_of_tolerance", "uncalibrated", "late")
#: which way an error makes the figure conservative
DIRECTION = {"export": -1, "import": +1, "fuel": +1}


def factor(kind: str, status: str, meter_class: str | None, actual_error: Decimal | None, field: str) -> tuple[Decimal, str]:
    """The multiplier for a metered quantity, and why."""
    sign = DIRECTION[kind]
    if status == "calibrated":
        return Decimal(1), "calibrated on time and within its accuracy class"
    if status == "out_of_tolerance":
        if actual_error is None:
            raise MethodologyError("the actual basic error is required for a meter calibrated outside its accuracy",
                                   field=f"{field}_error", rule="§7.3.4")
        e = abs(actual_error)
        return Decimal(1) + sign * e, f"calibrated on time but outside accuracy: × (1 {'+' if sign > 0 else '−'} |{actual_error}|) (§7.3.4)"
    if meter_class not in MAX_PERMISSIBLE_ERROR:
        raise MethodologyError(f"the accuracy class is required for an {status} meter, one of {', '.join(CLASSES)}",
                               field=f"{field}_meter_class", rule="§7.3.4")
    e = MAX_PERMISSIBLE_ERROR[meter_class]
    why = "not calibrated" if status == "uncalibrated" else "calibrated late (delay treated as not calibrated)"
    return Decimal(1) + sign * e, f"{why}: × (1 {'+' if sign > 0 else '−'} {e}) for class {meter_class} (§7.3.4)"
