"""Fossil fuel defaults (NCV, carbon content per unit heat, oxidation factor) by edition of the MEE enterprise
accounting guidelines, and COEF = NCV × CC × OF × 44/12 (CCER-01-001-V01 formula (5))."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from .protocol import MethodologyError

DATA = Path(__file__).parent / "data" / "fuels"
DEFAULT_EDITION = "ndrc-2013"
C_TO_CO2 = Decimal(44) / Decimal(12)


@dataclass(frozen=True)
class Fuel:
    key: str
    name_zh: str
    unit: str
    NCV: Decimal
    NCV_unit: str
    CC: Decimal
    OF: Decimal
    source: str


@lru_cache(maxsize=None)
def table(edition: str = DEFAULT_EDITION) -> dict[str, Fuel]:
    path = DATA / f"{edition}.json"
    if not path.exists():
        raise MethodologyError(f"unknown fuel table edition {edition!r}", field="fuel_edition")
    doc = json.loads(path.read_text(encoding="utf-8"))
    src = f"{doc['title']} ({doc['status']})"
    return {k: Fuel(k, v["name_zh"], v["unit"], Decimal(v["NCV"]), v["NCV_unit"], Decimal(v["CC"]), Decimal(v["OF"]), src)
            for k, v in doc["fuels"].items()}


def fuel(key: str, edition: str = DEFAULT_EDITION) -> Fuel:
    fuels = table(edition)
    if key not in fuels:
        raise MethodologyError(f"unknown fuel {key!r}; defaults exist for {', '.join(sorted(fuels))} "
                               "(or give NCV, CC and OF for it)", field=f"FC.{key}")
    return fuels[key]
