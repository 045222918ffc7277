"""Reference data sets as files: parse and check one, without a database (the methodology tools read the packaged
ones through this module too, so a file is read by one implementation wherever it is used).

A file is UTF-8 CSV with a header of `# key: value` lines, then a header row and the rows:

    # kind: grid-factors            grid-factors | fuels | calendar | offset-ratio
    # edition: 2023                 the edition's key (a grid-factor edition and a calendar: the year)
    # title: 2023年减排项目中国区域电网基准线排放因子
    # source: who publishes it, where it was read (URL, notice number, page)
    # published: 2024-12-03         publication date (the year-y rule only uses editions published by then)
    # status: VERIFIED              VERIFIED (read from the official text) | UNCONFIRMED (anything else)
    # grids: 华北                   grid-factors only, optional: a partial edition names the grids it covers
    grid,OM,BM
    华北,0.9419,0.4819

Every problem is refused with the line number and the field, e.g. `line 9, BM: not a decimal number: 'abc'`."""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ..infra.errors import ValidationError

KINDS = ("grid-factors", "fuels", "calendar", "offset-ratio")
STATUSES = ("VERIFIED", "UNCONFIRMED")
META = ("kind", "edition", "title", "source", "published", "status")
#: the regional grids of the MEE tables; 西南 (川、渝、藏) is a grid of its own from the 2024 edition on
#: (methodologies.md §4.2, §4.6: secondary source, UNCONFIRMED), before it 川、渝 belong to 华中
GRIDS_BEFORE_2024 = ("华北", "东北", "华东", "华中", "西北", "南方")
SOUTHWEST = "西南"
SOUTHWEST_FROM = 2024
COLUMNS = {
    "grid-factors": ("grid", "OM", "BM"),
    "fuels": ("fuel", "name_zh", "unit", "NCV", "NCV_unit", "CC", "OF"),
    "calendar": ("date", "type", "name"),
    "offset-ratio": ("effective_from", "ratio"),
}


class DatasetError(ValidationError):
    """A reference file refused: the message names the line and the field."""


@dataclass(frozen=True)
class Dataset:
    kind: str
    edition: str
    title: str
    source: str
    published: date
    status: str
    #: kind-specific content, JSON-able (see the parse_* functions)
    content: dict
    sha256: str
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.title} ({self.status})"


def _err(line: int, fld: str, message: str) -> DatasetError:
    return DatasetError(f"line {line}: {message}", field=fld, rule="reference data file format (ccer.reference.datasets)")


def _decimal(text: str, line: int, fld: str, lo: Decimal, hi: Decimal) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise _err(line, fld, f"not a decimal number: {text!r}") from None
    if not value.is_finite() or not lo <= value <= hi:
        raise _err(line, fld, f"{text} is outside {lo}–{hi}")
    return value


def _date(text: str, line: int, fld: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise _err(line, fld, f"not a date YYYY-MM-DD: {text!r}") from None


def parse(text: str | bytes, kind: str | None = None) -> Dataset:
    """Parse and check a reference file; `kind`, when given, must match the file's."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _err(1, "file", "not UTF-8 text") from None
    for n, line in enumerate(body.splitlines(), start=1):
        bad = next((c for c in line if ord(c) < 32 and c != "\t"), None)
        if bad is not None:
            raise _err(n, "file", f"control character U+{ord(bad):04X} in the text")
    lines = body.splitlines()
    meta: dict[str, tuple[str, int]] = {}
    first = 0
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not line.startswith("#"):
            first = i
            break
        key, sep, value = line[1:].partition(":")
        if not sep:
            raise _err(i, "header", f"expected '# key: value', got {line!r}")
        meta[key.strip()] = (value.strip(), i)
    else:
        raise _err(len(lines) + 1, "rows", "no header row and no data")
    for key in META:
        if not meta.get(key, ("",))[0]:
            raise _err(first, key, f"the '# {key}: …' header line is missing")
    k, kline = meta["kind"]
    if k not in KINDS:
        raise _err(kline, "kind", f"{k!r} is not one of {', '.join(KINDS)}")
    if kind and k != kind:
        raise _err(kline, "kind", f"the file holds {k}, not {kind}")
    status, sline = meta["status"]
    if status not in STATUSES:
        raise _err(sline, "status", f"{status!r} is not VERIFIED or UNCONFIRMED")
    published = _date(meta["published"][0], meta["published"][1], "published")
    reader = csv.reader(io.StringIO("\n".join(lines[first - 1:])))
    try:
        header = [h.strip() for h in next(reader)]
        raw_rows = list(reader)
    except csv.Error as exc:
        raise _err(first, "rows", f"not CSV: {exc}") from None
    want = COLUMNS[k]
    if tuple(header) != want:
        raise _err(first, "columns", f"expected {','.join(want)}, got {','.join(header)}")
    rows = []
    for n, row in enumerate(raw_rows, start=first + 1):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(want):
            raise _err(n, "row", f"{len(row)} fields, expected {len(want)} ({','.join(want)})")
        rows.append((n, dict(zip(want, (c.strip() for c in row)))))
    if not rows:
        raise _err(first + 1, "rows", "no data rows")
    edition, eline = meta["edition"]
    parsers = {"grid-factors": _grid_factors, "fuels": _fuels, "calendar": _calendar, "offset-ratio": _offset_ratio}
    content = parsers[k](edition, eline, rows, meta)
    return Dataset(k, edition, meta["title"][0], meta["source"][0], published, status, content,
                   hashlib.sha256(raw).hexdigest(), {key: v for key, (v, _l) in meta.items() if key not in META})


def _year(edition: str, line: int) -> int:
    if not (edition.isascii() and edition.isdigit() and 1990 <= int(edition) <= 2100):
        raise _err(line, "edition", f"{edition!r} is not a year (the edition of a grid-factor table or calendar is its year)")
    return int(edition)


def _grid_factors(edition: str, eline: int, rows, meta) -> dict:
    """{"year": 2023, "grids": {"华北": {"OM": "0.9", "BM": "0.4"}}}; every grid of the edition's set must be there."""
    year = _year(edition, eline)
    allowed = GRIDS_BEFORE_2024 + (SOUTHWEST,)
    grids: dict[str, dict] = {}
    for n, row in rows:
        g = row["grid"]
        if g not in allowed:
            raise _err(n, "grid", f"{g!r} is not a regional grid ({', '.join(allowed)})")
        if g in grids:
            raise _err(n, "grid", f"{g} is listed twice")
        grids[g] = {s: str(_decimal(row[s], n, s, Decimal("0.01"), Decimal(2))) for s in ("OM", "BM")}
    if "grids" in meta:
        declared, gline = meta["grids"]
        required = tuple(x.strip() for x in declared.replace("，", ",").split(",") if x.strip())
        for g in required:
            if g not in allowed:
                raise _err(gline, "grids", f"{g!r} is not a regional grid")
    else:
        required = GRIDS_BEFORE_2024 + ((SOUTHWEST,) if year >= SOUTHWEST_FROM else ())
    missing = [g for g in required if g not in grids]
    if missing:
        raise _err(rows[-1][0] + 1, "grid", f"the {year} edition lacks the {', '.join(missing)} grid(s)"
                   + ("" if "grids" in meta else f" (an edition of {year} gives every regional grid, or names its own in '# grids:')"))
    extra = [g for g in grids if g not in required]
    if extra:
        line = next(n for n, r in rows if r["grid"] == extra[0])
        raise _err(line, "grid", f"{extra[0]} is not a grid of this edition ({', '.join(required)})")
    return {"year": year, "grids": grids}


def _fuels(edition: str, eline: int, rows, meta) -> dict:
    """{"fuels": {"natural_gas": {"name_zh", "unit", "NCV", "NCV_unit", "CC", "OF"}}}"""
    fuels: dict[str, dict] = {}
    for n, row in rows:
        key = row["fuel"]
        if not key.isascii() or not key.replace("_", "").isalnum():
            raise _err(n, "fuel", f"{key!r}: use a key of letters, digits and _")
        if key in fuels:
            raise _err(n, "fuel", f"{key} is listed twice")
        for s in ("name_zh", "unit", "NCV_unit"):
            if not row[s]:
                raise _err(n, s, "is required")
        fuels[key] = {"name_zh": row["name_zh"], "unit": row["unit"], "NCV_unit": row["NCV_unit"],
                      "NCV": str(_decimal(row["NCV"], n, "NCV", Decimal("0.001"), Decimal(1000))),
                      "CC": str(_decimal(row["CC"], n, "CC", Decimal("0.000001"), Decimal("0.1"))),
                      "OF": str(_decimal(row["OF"], n, "OF", Decimal("0.5"), Decimal(1)))}
    return {"fuels": fuels}


#: the statutory festivals a year's notice always gives (《全国年节及纪念日放假办法》 Art. 2), by name
FESTIVALS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")


def _calendar(edition: str, eline: int, rows, meta) -> dict:
    """{"year": 2027, "holidays": {"2027-01-01": "元旦"}, "workdays": {"2027-02-07": "春节调休"}}; holidays are the
    days off (weekdays or not), workdays the Saturdays and Sundays worked (调休). Every festival of Art. 2 appears."""
    from ..infra import lunar

    year = _year(edition, eline)
    holidays: dict[str, str] = {}
    workdays: dict[str, str] = {}
    for n, row in rows:
        d = _date(row["date"], n, "date")
        if d.year != year:
            raise _err(n, "date", f"{d} is not in {year}")
        if row["type"] not in ("holiday", "workday"):
            raise _err(n, "type", f"{row['type']!r} is not holiday or workday")
        if d.isoformat() in holidays or d.isoformat() in workdays:
            raise _err(n, "date", f"{d} is listed twice")
        if row["type"] == "workday" and d.weekday() < 5:
            raise _err(n, "date", f"{d} is a weekday: only a Saturday or Sunday can be a make-up working day")
        if not row["name"]:
            raise _err(n, "name", "is required (the holiday it belongs to)")
        (holidays if row["type"] == "holiday" else workdays)[d.isoformat()] = row["name"]
    # each statutory festival's own day is off (the notice can only add to it): 元旦, 春节 初一, 清明, 5-1, 端午, 中秋, 10-1
    fixed = {"元旦": date(year, 1, 1), "春节": lunar.spring_festival(year), "清明节": lunar.qingming(year),
             "劳动节": date(year, 5, 1), "端午节": lunar.dragon_boat(year), "中秋节": lunar.mid_autumn(year),
             "国庆节": date(year, 10, 1)}
    last = rows[-1][0] + 1
    for name, day in fixed.items():
        if day.isoformat() not in holidays:
            raise _err(last, "date", f"{name} ({day}) is missing from the {year} calendar's holidays")
    return {"year": year, "holidays": holidays, "workdays": workdays}


def _offset_ratio(edition: str, eline: int, rows, meta) -> dict:
    """{"ratios": [["2021-02-01", "0.05"]]}: the share of allowances to surrender that CCERs may offset, from a date."""
    out = []
    for n, row in rows:
        d = _date(row["effective_from"], n, "effective_from")
        r = _decimal(row["ratio"], n, "ratio", Decimal(0), Decimal(1))
        if out and d.isoformat() <= out[-1][0]:
            raise _err(n, "effective_from", "dates must increase")
        out.append([d.isoformat(), str(r)])
    return {"ratios": out}
