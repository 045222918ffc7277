"""The methodology plug-in contract (protocol.py), the registry of plug-ins (registry.py) and the shared
tools every methodology uses: grid factors, fuel defaults, GWP, meter-error corrections, additionality,
sampling uncertainty."""
from .protocol import (Calculation, Methodology, Param, PeriodResult, ProjectFact, Trace,
                       MethodologyError, ApplicabilityError)

__all__ = ["Calculation", "Methodology", "Param", "PeriodResult", "ProjectFact", "Trace", "MethodologyError",
           "ApplicabilityError"]
