"""Reading and checking a calculation input: `{"stage", "project", "periods"}` from JSON, or period rows
from CSV/XLSX. Every refusal names the parameter and the rule."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..infra.errors import DomainError
from .declarations import MethodologyError, Param

STAGES = ("ex-ante", "ex-post")

#: facts every methodology understands: the crediting period the periods must lie in
COMMON_FACTS = ("crediting_start", "crediting_end")


def number(value: Any, field: str, lo: Decimal | None = None, hi: Decimal | None = None, unit: str = "") -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise MethodologyError("must be a number", field=field)
    try:
        x = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise MethodologyError(f"must be a number, got {value!r}", field=field)
    if not x.is_finite():
        raise MethodologyError("must be a finite number", field=field)
    u = f" {unit}" if unit and unit != "1" else ""
    if lo is not None and x < lo:
        raise MethodologyError(f"{x}{u} is below the allowed range (min {lo}{u})", field=field, rule="parameter range")
    if hi is not None and x > hi:
        raise MethodologyError(f"{x}{u} is above the allowed range (max {hi}{u})", field=field, rule="parameter range")
    return x


def a_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise MethodologyError(f"must be a date YYYY-MM-DD, got {value!r}", field=field)


def boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "是"):
        return True
    if text in ("false", "no", "0", "否"):
        return False
    raise MethodologyError(f"must be true or false, got {value!r}", field=field)


def convert(p: Param, value: Any, field: str) -> Any:
    if p.kind == "number":
        return number(value, field, p.min, p.max, p.unit)
    if p.kind == "date":
        return a_date(value, field)
    if p.kind == "bool":
        return boolean(value, field)
    if p.kind == "choice":
        if value not in p.choices:
            raise MethodologyError(f"must be one of {', '.join(p.choices)}, got {value!r}", field=field)
        return value
    if p.kind == "by_fuel":
        if not isinstance(value, dict) or not value:
            raise MethodologyError("must map fuel names to quantities, e.g. {\"natural_gas\": 12.5}", field=field)
        return {str(k): number(v, f"{field}.{k}", p.min, p.max, p.unit) for k, v in value.items()}
    if p.kind == "list":
        if not isinstance(value, list) or not value:
            raise MethodologyError("must be a non-empty list", field=field)
        return value
    if p.kind == "object":  # structured inputs recorded as given, checked by the tool that uses them
        if not isinstance(value, dict) or not value:
            raise MethodologyError("must be a non-empty object", field=field)
        return value
    if p.kind == "by_stratum":  # a list (one stratum) or {stratum name: list}, e.g. a sink's sample plots
        if not isinstance(value, (list, dict)) or not value:
            raise MethodologyError("must be a non-empty list or {stratum name: [values]}", field=field)
        return value
    if p.kind == "text":
        return str(value)
    raise AssertionError(p.kind)


def _values(params: list[Param], raw: dict, where: str, allowed_extra: tuple[str, ...] = ()) -> dict:
    known = {p.symbol: p for p in params}
    for key in raw:
        if key not in known and key not in allowed_extra:
            raise MethodologyError(f"unknown parameter; this methodology knows {', '.join(sorted(known))}", field=f"{where}{key}")
    out: dict[str, Any] = {}
    for p in params:
        if p.symbol in raw and raw[p.symbol] is not None and raw[p.symbol] != "":
            out[p.symbol] = convert(p, raw[p.symbol], f"{where}{p.symbol}")
        elif p.required and p.default is None:
            raise MethodologyError(f"is required ({p.description}, {p.unit})", field=f"{where}{p.symbol}")
    return out


def parse(methodology, data: Any) -> tuple[str, dict, list[tuple[date, date, dict]]]:
    if not isinstance(data, dict):
        raise MethodologyError("the input must be an object with stage, project and periods", field="input")
    unknown = set(data) - {"stage", "project", "periods", "comment", "expected"}
    if unknown:
        raise MethodologyError("unknown top-level key; expected stage, project, periods", field=sorted(unknown)[0])
    stage = data.get("stage", "ex-post")
    if stage not in STAGES:
        raise MethodologyError(f"must be one of {', '.join(STAGES)}", field="stage")
    project_raw = data.get("project") or {}
    if not isinstance(project_raw, dict):
        raise MethodologyError("must be an object of project facts", field="project")
    project = _values(methodology.project_facts, {k: v for k, v in project_raw.items() if k not in COMMON_FACTS},
                      "project.")
    for key in COMMON_FACTS:
        if project_raw.get(key):
            project[key] = a_date(project_raw[key], f"project.{key}")
    _check_crediting(methodology, project)

    periods_raw = data.get("periods")
    if not isinstance(periods_raw, list) or not periods_raw:
        raise MethodologyError("at least one period is required", field="periods")
    periods = []
    for i, raw in enumerate(periods_raw):
        where = f"periods[{i}]."
        if not isinstance(raw, dict):
            raise MethodologyError("must be an object", field=f"periods[{i}]")
        start = a_date(raw.get("start"), where + "start")
        end = a_date(raw.get("end"), where + "end")
        if end < start:
            raise MethodologyError(f"ends ({end}) before it starts ({start})", field=where + "end")
        values = _values(methodology.params, {k: v for k, v in raw.items() if k not in ("start", "end")}, where)
        periods.append((start, end, values))
    _check_periods(project, periods)
    methodology.check_periods(project, [(s, e) for s, e, _ in periods], stage)
    return stage, project, periods


def _years_between(a: date, b: date) -> float:
    return ((b - a).days + 1) / 365.25


def crediting_bounds(methodology) -> tuple[int, int, str]:
    """(min, max, where from) of a methodology's crediting period in years. A bound the reference marks
    UNCONFIRMED (`crediting_status`) is the registry's to configure: CCER_CREDITING_YEARS="CODE=LO-HI;CODE=LO-HI"
    (ccer-rules.md conventions: UNCONFIRMED → configurable, not hard-coded); a VERIFIED bound (the power
    methodologies' ≤ 10 years, §5.2 of their texts) is not overridable."""
    import os

    lo, hi = methodology.crediting_years
    status = getattr(methodology, "crediting_status", "VERIFIED")
    if not status.startswith("UNCONFIRMED"):
        return lo, hi, f"{methodology.code}: crediting period {lo}–{hi} years"
    for item in os.environ.get("CCER_CREDITING_YEARS", "").split(";"):
        code, _, span = item.partition("=")
        if code.strip() == methodology.code:
            try:
                a, b = (int(x) for x in span.split("-"))
            except ValueError:
                raise MethodologyError(f"{item!r} is not CODE=LO-HI", field="CCER_CREDITING_YEARS") from None
            return a, b, f"{methodology.code}: crediting period {a}–{b} years (configured by the registry, CCER_CREDITING_YEARS)"
    return lo, hi, f"{methodology.code}: crediting period {lo}–{hi} years ({status})"


def _check_crediting(methodology, project: dict) -> None:
    start, end = project.get("crediting_start"), project.get("crediting_end")
    if start and end:
        if end < start:
            raise MethodologyError("ends before crediting_start", field="project.crediting_end")
        lo, hi, rule = crediting_bounds(methodology)
        years = _years_between(start, end)
        if years > hi + 0.01:
            raise MethodologyError(f"a crediting period of {years:.1f} years exceeds the maximum of {hi} years",
                                   field="project.crediting_end", rule=rule)
        if years < lo - 0.01:
            raise MethodologyError(f"a crediting period of {years:.1f} years is shorter than the minimum of {lo} years",
                                   field="project.crediting_end", rule=rule)


def _check_periods(project: dict, periods: list) -> None:
    start, end = project.get("crediting_start"), project.get("crediting_end")
    ordered = sorted(enumerate(periods), key=lambda t: t[1][0])
    for (i, (s, e, _)) in ordered:
        if start and s < start:
            raise MethodologyError(f"starts {s}, before the crediting period starts ({start})", field=f"periods[{i}].start",
                                   rule="reductions only inside the crediting period (Measures Art. 17)")
        if end and e > end:
            raise MethodologyError(f"ends {e}, after the crediting period ends ({end})", field=f"periods[{i}].end",
                                   rule="reductions only inside the crediting period (Measures Art. 17)")
    for (i, (s1, e1, _)), (j, (s2, e2, _)) in zip(ordered, ordered[1:]):
        if s2 <= e1:
            raise MethodologyError(f"overlaps periods[{i}] ({s1}–{e1})", field=f"periods[{j}].start",
                                   rule="periods never overlap: the same output is never counted twice")


# ---- files -----------------------------------------------------------------------------------------------


def _row_to_period(row: dict) -> dict:
    """CSV/XLSX columns: start, end, SYMBOL, or SYMBOL.key for mappings such as FC.natural_gas."""
    period: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None or str(value).strip() == "":
            continue
        key = str(key).strip()
        if "." in key:
            head, _, sub = key.partition(".")
            period.setdefault(head, {})[sub] = value
        else:
            period[key] = value.isoformat() if isinstance(value, date) else value
    return period


def load(path: Path, stage: str | None = None, project: dict | None = None, limits=None, field: str = "input") -> dict:
    """A calculation input from JSON, or period rows from CSV/XLSX. Bounded (`limits`, ccer.infra.config.Limits, from the
    environment by default): an XLSX is a zip, vetted from its central directory before openpyxl inflates any
    of it, and at most `upload_rows` rows are read."""
    from ..infra import archives
    from ..infra.config import Limits

    limits = limits or Limits.from_env()
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if stage:
                data["stage"] = stage
            if project:
                data.setdefault("project", {}).update(project)
            return data
        if suffix == ".csv":
            rows = _bounded(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))), limits.upload_rows, path, field)
        elif suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            archives.vet(path, field=field, max_bytes=min(limits.archive_bytes, limits.spreadsheet_bytes),
                         max_members=limits.archive_members, rule="uncompressed size of a spreadsheet (CCER_MAX_SPREADSHEET_BYTES)")
            sheet = load_workbook(path, read_only=True, data_only=True).active
            it = sheet.iter_rows(values_only=True)
            header = [str(h).strip() if h is not None else None for h in next(it)]
            rows = _bounded((dict(zip(header, r)) for r in it if any(c is not None for c in r)), limits.upload_rows, path, field)
        else:
            raise MethodologyError("use .json, .csv or .xlsx", field=field)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, StopIteration, KeyError) as exc:
        raise MethodologyError(f"cannot read {path.name}: {exc}", field=field)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
        if isinstance(exc, DomainError):
            raise
        raise MethodologyError(f"cannot read {path.name}: {exc.__class__.__name__}: {exc}", field=field)
    return {"stage": stage or "ex-post", "project": project or {}, "periods": [_row_to_period(r) for r in rows]}


def _bounded(rows, limit: int, path: Path, field: str) -> list:
    out = []
    for row in rows:
        if len(out) == limit:
            raise MethodologyError(f"{path.name} has more than {limit:,} rows", field=field,
                                   rule="rows per upload (CCER_MAX_UPLOAD_ROWS)")
        out.append(row)
    return out
