"""Global warming potentials (100-year) by IPCC assessment report. Each methodology chooses its table; it is
configurable per calculation through the GWP_CH4 / GWP_N2O parameters."""
from decimal import Decimal

GWP = {
    "AR2": {"CO2": Decimal(1), "CH4": Decimal(21), "N2O": Decimal(310)},   # IPCC SAR (1995)
    "AR4": {"CO2": Decimal(1), "CH4": Decimal(25), "N2O": Decimal(298)},   # IPCC AR4 (2007)
    "AR5": {"CO2": Decimal(1), "CH4": Decimal(28), "N2O": Decimal(265)},   # IPCC AR5 (2014), without feedbacks
}


def gwp(gas: str, report: str = "AR2") -> Decimal:
    return GWP[report][gas]
