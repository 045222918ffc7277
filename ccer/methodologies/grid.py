"""MEE regional grid baseline emission factors (中国区域电网基准线排放因子): OM and BM by grid and edition,
one data file per edition in data/grid_factors/, and the power methodologies' rule for choosing the edition.

Rule (CCER-01-002-V01 / CCER-01-001-V01 Tables 4–5, VERIFIED, methodologies.md §2): use the edition for
year y; if it is not yet published when the verification report is uploaded, the most recent edition before
y; ex-ante estimates use the latest edition available. Explicit EF_grid_OM/EF_grid_BM inputs override."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from .protocol import MethodologyError

DATA = Path(__file__).parent / "data" / "grid_factors"
GRIDS = ("华北", "东北", "华东", "华中", "西北", "南方", "西南")

#: province -> regional grid (CDM-era China DNA definitions; UNCONFIRMED, methodologies.md §4.6).
#: 西南 (川、渝、藏) became its own grid in the 2024 edition; earlier editions put 川、渝 in 华中.
PROVINCE_GRID = {
    **dict.fromkeys(["北京", "天津", "河北", "山西", "山东", "内蒙古西部"], "华北"),
    **dict.fromkeys(["辽宁", "吉林", "黑龙江", "内蒙古东部"], "东北"),
    **dict.fromkeys(["上海", "江苏", "浙江", "安徽", "福建"], "华东"),
    **dict.fromkeys(["河南", "湖北", "湖南", "江西"], "华中"),
    **dict.fromkeys(["陕西", "甘肃", "青海", "宁夏", "新疆"], "西北"),
    **dict.fromkeys(["广东", "广西", "云南", "贵州", "海南"], "南方"),
    **dict.fromkeys(["四川", "重庆", "西藏"], "西南"),
}


@dataclass(frozen=True)
class Edition:
    year: int
    title: str
    published: date
    status: str
    provenance: str
    factors: dict[str, tuple[Decimal, Decimal]]

    @property
    def source(self) -> str:
        return f"{self.title} ({self.status})"


@lru_cache(maxsize=1)
def editions() -> tuple[Edition, ...]:
    out = []
    for path in sorted(DATA.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append(Edition(
            year=int(doc["edition"]), title=doc["title"], published=date.fromisoformat(doc["published"]),
            status=doc["status"], provenance=doc["provenance"],
            factors={g: (Decimal(v["OM"]), Decimal(v["BM"])) for g, v in doc["grids"].items()},
        ))
    return tuple(sorted(out, key=lambda e: e.year))


def grid_of_province(province: str) -> str:
    for prefix, grid in PROVINCE_GRID.items():
        if province.startswith(prefix):
            return grid
    raise MethodologyError(f"no regional grid known for province {province!r}", field="project.province")


def select(grid: str, year: int, stage: str, as_of: date | None = None) -> Edition:
    """The edition to use for a period in `year` (see module doc). `as_of`: the date the verification report
    is uploaded (ex-post) or the estimate is made (ex-ante); editions published later are not yet known."""
    known = [e for e in editions() if (as_of is None or e.published <= as_of) and grid in e.factors]
    if stage == "ex-ante":
        candidates = known
    else:
        same = [e for e in known if e.year == year]
        candidates = same or [e for e in known if e.year < year]
    if not candidates:
        raise MethodologyError(
            f"no MEE grid factor edition for the {grid} grid usable for {year} ({stage}); give EF_grid_OM and EF_grid_BM",
            field="EF_grid_OM", rule="methodology Tables 4–5: year y, else the latest earlier edition")
    return candidates[-1]
