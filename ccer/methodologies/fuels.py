"""Fossil fuel defaults (NCV, carbon content per unit heat, oxidation factor) by edition of the MEE enterprise
accounting guidelines, and COEF = NCV × CC × OF × 44/12 (CCER-01-001-V01 formula (5)).

The edition in force is the latest published of those packaged in ccer/reference/data/ and those the registry
loaded (`ccer reference load`, installed here by ccer.reference); a loaded edition replaces a packaged one of the
same key. Each Fuel's `source` names the edition and its status, so the trace says which edition a figure used."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ..reference import datasets
from .protocol import MethodologyError

PACKAGED = Path(__file__).resolve().parent.parent / "reference" / "data"
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


@dataclass(frozen=True)
class FuelEdition:
    edition: str
    published: object
    status: str
    fuels: dict[str, Fuel]


def from_dataset(ds: datasets.Dataset, origin: str = "packaged") -> FuelEdition:
    src = f"{ds.title} (edition {ds.edition}, {origin}, {ds.status})"
    fuels = {k: Fuel(k, v["name_zh"], v["unit"], Decimal(v["NCV"]), v["NCV_unit"], Decimal(v["CC"]), Decimal(v["OF"]), src)
             for k, v in ds.content["fuels"].items()}
    return FuelEdition(ds.edition, ds.published, ds.status, fuels)


@lru_cache(maxsize=1)
def packaged() -> tuple[FuelEdition, ...]:
    return tuple(from_dataset(datasets.parse(p.read_bytes(), "fuels")) for p in sorted(PACKAGED.glob("fuels-*.csv")))


_loaded: tuple[FuelEdition, ...] = ()


def install(loaded) -> None:
    global _loaded
    _loaded = tuple(loaded)


def editions() -> tuple[FuelEdition, ...]:
    """Every edition in force, oldest publication first; a loaded edition replaces a packaged one of its key."""
    by_key = {e.edition: e for e in packaged()}
    by_key.update({e.edition: e for e in _loaded})
    return tuple(sorted(by_key.values(), key=lambda e: (e.published, e.edition)))


def table(edition: str | None = None) -> dict[str, Fuel]:
    """The defaults of `edition`, or of the edition in force (the latest published) when None."""
    eds = editions()
    if not eds:
        raise MethodologyError("no fuel-default edition in force: load one with `ccer reference load FILE` (kind fuels) "
                               "or give NCV, CC and OF", field="fuel_edition")
    if edition is None:
        return eds[-1].fuels
    for e in eds:
        if e.edition == edition:
            return e.fuels
    raise MethodologyError(f"unknown fuel table edition {edition!r} (in force: {', '.join(e.edition for e in eds)})",
                           field="fuel_edition")


def fuel(key: str, edition: str | None = None) -> Fuel:
    fuels = table(edition)
    if key not in fuels:
        raise MethodologyError(f"unknown fuel {key!r}; defaults exist for {', '.join(sorted(fuels))} "
                               "(or give NCV, CC and OF for it)", field=f"FC.{key}")
    return fuels[key]
