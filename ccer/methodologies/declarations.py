"""What a methodology declares about itself — its parameters and project facts (unit, range, stage, default
and its source), its monitoring requirements — and the errors a bad input raises. The ground floor of the
plug-in contract: input parsing (`inputs.py`) and the contract itself (`protocol.py`, which re-exports these
names for plug-ins) both build on it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..infra.errors import ValidationError


class MethodologyError(ValidationError):
    """Bad input to a methodology: names the parameter and the rule."""


class ApplicabilityError(MethodologyError):
    code = "not_applicable"


# ---- declarations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A parameter of a period (or of the project, when `stage='validation'`)."""

    symbol: str
    unit: str
    description: str
    #: "monitored" (ex-post, per period) or "validation" (fixed when the PDD is validated)
    stage: str = "monitored"
    min: Decimal | None = None
    max: Decimal | None = None
    #: default value (Decimal) and the document it comes from; None = required
    default: Decimal | None = None
    source: str | None = None
    #: "number" | "by_fuel" (a mapping fuel -> quantity) | "choice" | "list"
    kind: str = "number"
    choices: tuple[str, ...] = ()
    required: bool = True
    #: VERIFIED / RECONSTRUCTED (…) / UNCONFIRMED
    status: str = "VERIFIED"

    def describe(self) -> dict:
        out = {"symbol": self.symbol, "unit": self.unit, "description": self.description, "stage": self.stage,
               "kind": self.kind, "required": self.required and self.default is None, "status": self.status}
        if self.min is not None:
            out["min"] = str(self.min)
        if self.max is not None:
            out["max"] = str(self.max)
        if self.default is not None:
            out["default"] = str(self.default)
            out["source"] = self.source
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class ProjectFact(Param):
    """An applicability or design fact about the project (distance offshore, start date, …)."""

    stage: str = "validation"


@dataclass(frozen=True)
class Monitoring:
    symbol: str
    frequency: str
    instrument: str = ""
    accuracy: str = ""
    calibration: str = ""
    cites: str = ""
