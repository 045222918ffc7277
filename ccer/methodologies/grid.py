"""MEE regional grid baseline emission factors (中国区域电网基准线排放因子): OM and BM by grid and edition, and the
power methodologies' rule for choosing the edition.

Rule (CCER-01-002-V01 / CCER-01-001-V01 Tables 4–5, VERIFIED, methodologies.md §2): use the edition for year y; if
it is not yet published when the verification report is uploaded, the most recent edition before y; ex-ante
estimates use the latest edition available. The rule runs over every edition in force: those packaged in
ccer/reference/data/ and those the registry loaded (`ccer reference load`, installed here by ccer.reference), a
loaded edition replacing a packaged one of the same year. Explicit EF_grid_OM/EF_grid_BM inputs override."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ..reference import datasets
from .protocol import MethodologyError

PACKAGED = Path(__file__).resolve().parent.parent / "reference" / "data"
GRIDS = datasets.GRIDS_BEFORE_2024 + (datasets.SOUTHWEST,)
RULE = "methodology Tables 4–5: the edition of year y, else the latest earlier edition; ex-ante the latest"
LOAD_HINT = "load it with `ccer reference load FILE` (kind grid-factors) or give EF_grid_OM and EF_grid_BM"

#: province -> regional grid (CDM-era China DNA definitions; UNCONFIRMED, methodologies.md §4.6). 川、渝 (and 藏)
#: belong to 西南 in an edition that has a 西南 grid (from 2024), to 华中 (川、渝) before; 藏 has no grid before.
PROVINCE_GRID = {
    **dict.fromkeys(["北京", "天津", "河北", "山西", "山东", "内蒙古西部"], "华北"),
    **dict.fromkeys(["辽宁", "吉林", "黑龙江", "内蒙古东部"], "东北"),
    **dict.fromkeys(["上海", "江苏", "浙江", "安徽", "福建"], "华东"),
    **dict.fromkeys(["河南", "湖北", "湖南", "江西"], "华中"),
    **dict.fromkeys(["陕西", "甘肃", "青海", "宁夏", "新疆"], "西北"),
    **dict.fromkeys(["广东", "广西", "云南", "贵州", "海南"], "南方"),
}
SOUTHWEST_PROVINCES = ("四川", "重庆", "西藏")
CENTRAL_BEFORE_SPLIT = ("四川", "重庆")


@dataclass(frozen=True)
class Edition:
    year: int
    title: str
    published: date
    status: str
    provenance: str
    factors: dict[str, tuple[Decimal, Decimal]]
    #: where it comes from: "packaged" or "loaded #<dataset id> v<version>"
    origin: str = "packaged"
    derived: bool = False

    @property
    def source(self) -> str:
        flags = self.status + (", derived — not an MEE table" if self.derived else "")
        return f"{self.title} (edition {self.year}, {self.origin}, {flags})"

    def grid_of_province(self, province: str) -> str:
        """The province's regional grid in this edition (methodologies.md §4.6, UNCONFIRMED)."""
        name = (province or "").strip()
        for prefix in SOUTHWEST_PROVINCES:
            if name.startswith(prefix):
                if datasets.SOUTHWEST in self.factors or self.year >= datasets.SOUTHWEST_FROM:
                    return datasets.SOUTHWEST
                if prefix in CENTRAL_BEFORE_SPLIT:
                    return "华中"
                raise MethodologyError(f"{name} belongs to no regional grid of the {self.year} edition (西南 is a grid "
                                       f"from the {datasets.SOUTHWEST_FROM} edition); give project.grid or EF_grid_OM/EF_grid_BM",
                                       field="project.province", rule="methodologies.md §4.6 province → grid")
        return grid_of_province(name)


def from_dataset(ds: datasets.Dataset, origin: str = "packaged") -> Edition:
    c = ds.content
    return Edition(year=c["year"], title=ds.title, published=ds.published, status=ds.status, provenance=ds.source,
                   factors={g: (Decimal(v["OM"]), Decimal(v["BM"])) for g, v in c["grids"].items()}, origin=origin,
                   derived=ds.extra.get("derived", "").lower() in ("yes", "true"))


@lru_cache(maxsize=1)
def packaged() -> tuple[Edition, ...]:
    return tuple(from_dataset(datasets.parse(p.read_bytes(), "grid-factors"))
                 for p in sorted(PACKAGED.glob("grid-factors-*.csv")))


#: editions the registry loaded, installed by ccer.reference from the database
_loaded: tuple[Edition, ...] = ()


def install(loaded: tuple[Edition, ...] | list[Edition]) -> None:
    global _loaded
    _loaded = tuple(loaded)


def editions() -> tuple[Edition, ...]:
    """Every edition in force, by year: a loaded edition replaces the packaged one of its year."""
    by_year = {e.year: e for e in packaged()}
    by_year.update({e.year: e for e in _loaded})
    return tuple(by_year[y] for y in sorted(by_year))


def grid_of_province(province: str) -> str:
    for prefix, grid in PROVINCE_GRID.items():
        if province.startswith(prefix):
            return grid
    raise MethodologyError(f"no regional grid known for province {province!r}", field="project.province")


def select(grid: str, year: int, stage: str, as_of: date | None = None) -> Edition:
    """The edition to use for a period in `year` (see module doc). `as_of`: the date the verification report
    is uploaded (ex-post) or the estimate is made (ex-ante); editions published later are not yet known.

    The rule picks an edition, then its grid: an edition in force that does not give `grid` (a partial, derived
    edition) is not skipped for an older one — the older table is not what the rule asks for — but refused, naming
    the edition to load."""
    published = [e for e in editions() if as_of is None or e.published <= as_of]
    if stage == "ex-ante":
        candidates = published
    else:
        same = [e for e in published if e.year == year]
        candidates = same or [e for e in published if e.year < year]
    if not candidates:
        in_force = ", ".join(str(e.year) for e in editions()) or "none"
        raise MethodologyError(
            f"no MEE grid factor edition usable for {year} ({stage}; editions in force: {in_force}"
            f"{'' if as_of is None else f', published by {as_of}'}): load the {year} edition or an earlier one — {LOAD_HINT}",
            field="EF_grid_OM", rule=RULE)
    chosen = candidates[-1]
    if grid not in chosen.factors:
        raise MethodologyError(
            f"the {chosen.year} edition in force ({chosen.title}, {chosen.status}) gives no {grid} grid "
            f"({', '.join(chosen.factors)} only): load the full {chosen.year} edition — {LOAD_HINT}",
            field="EF_grid_OM", rule=RULE)
    return chosen


def choice(edition: Edition, grid: str, year: int, stage: str) -> str:
    """How the rule chose `edition` for `year`, for the trace."""
    if stage == "ex-ante":
        return "ex-ante: the latest edition in force"
    if edition.year == year:
        return f"ex-post: the edition of year {year}"
    return f"ex-post: no {year} edition in force, the latest earlier edition"
