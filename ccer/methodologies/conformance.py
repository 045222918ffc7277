"""`ccer methodology check`: the conformance suite any methodology module must pass — contract complete,
units and ranges declared, examples reproduce their documented results, results deterministic, trace
complete, out-of-range input refused naming the parameter."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..auth.roles import SECTORS
from .protocol import MethodologyError, Methodology

CODE = re.compile(r"^CCER-\d{2}-\d{3}-V\d{2}$")
TOLERANCE = Decimal("1e-9")  # relative; examples carry ≥ 10 significant digits


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    code: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def examples_of(m: Methodology) -> list[Path]:
    folder = Path(m.package_dir) / "examples"
    return sorted(folder.glob("*.json"))


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(b), Decimal(1))


def run(m: Methodology) -> Report:
    r = Report(getattr(m, "code", "?"))
    # contract
    missing = [a for a in ("code", "name_zh", "name_en", "sector", "issued", "status", "crediting_years", "additionality_rule")
               if not getattr(m, a, None)]
    r.add("contract: identity, sector, crediting period, additionality declared", not missing, f"missing {missing}" if missing else "")
    r.add("contract: code has the form CCER-NN-NNN-VNN", bool(CODE.match(getattr(m, "code", ""))), getattr(m, "code", ""))
    r.add("contract: sector is an accreditation field", getattr(m, "sector", None) in SECTORS, str(getattr(m, "sector", None)))
    lo, hi = getattr(m, "crediting_years", (0, 0))
    r.add("contract: crediting-period bounds 1 ≤ min ≤ max", 1 <= lo <= hi, f"{lo}–{hi} years")
    r.add("contract: ex-post formulas implemented", type(m).period is not Methodology.period)
    r.add("contract: monitoring requirements declared", bool(m.monitoring))
    bad_units = [p.symbol for p in m.params + m.project_facts if not p.unit or not p.description]
    r.add("schema: every parameter has a unit and a description", not bad_units, ", ".join(bad_units))
    unranged = [p.symbol for p in m.params + m.project_facts if p.kind in ("number", "by_fuel") and (p.min is None or p.max is None)]
    r.add("schema: every numeric parameter has a range", not unranged, ", ".join(unranged))
    unsourced = [p.symbol for p in m.params + m.project_facts if p.default is not None and not p.source]
    r.add("schema: every default names its source", not unsourced, ", ".join(unsourced))
    if m.package_dir is not None:
        r.add("package: README.md present", (Path(m.package_dir) / "README.md").exists())
        r.add("package: data/defaults.json present", (Path(m.package_dir) / "data" / "defaults.json").exists())

    examples = examples_of(m) if m.package_dir is not None else []
    r.add("examples: at least one worked example", bool(examples), f"{len(examples)} found")
    for path in examples:
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = path.name
        r.add(f"examples/{name}: documents its hand computation", bool(doc.get("comment")))
        try:
            first = m.calculate(copy.deepcopy(doc))
            second = m.calculate(copy.deepcopy(doc))
        except MethodologyError as exc:
            r.add(f"examples/{name}: reproduces its documented result", False, f"refused: {exc}")
            continue
        exp = doc.get("expected", {})
        diffs = [f"{k}: got {first.total(k)}, documented {exp[k]}" for k in ("BE", "PE", "LE", "ER")
                 if k in exp and not _close(first.total(k), Decimal(exp[k]))]
        if "ER_credited" in exp and first.ER_credited != exp["ER_credited"]:
            diffs.append(f"ER_credited: got {first.ER_credited}, documented {exp['ER_credited']}")
        if not exp:
            diffs.append("no expected block")
        r.add(f"examples/{name}: reproduces its documented result", not diffs, "; ".join(diffs))
        r.add(f"examples/{name}: deterministic", json.dumps(first.to_dict(), sort_keys=True) == json.dumps(second.to_dict(), sort_keys=True))
        r.add(f"examples/{name}: trace complete", *_trace_complete(first))
        r.add(f"examples/{name}: out-of-range input refused naming the parameter", *_refusals(m, doc))
    return r


def _trace_complete(calc) -> tuple[bool, str]:
    problems = []
    for i, _p in enumerate(calc.periods):
        symbols = {s.symbol for s in calc.trace.steps if s.period == i}
        for needed in ("BE", "PE", "LE", "ER"):
            if needed not in symbols:
                problems.append(f"period {i}: no trace step for {needed}")
    for s in calc.trace.steps:
        if not s.formula or not s.unit or not s.cites:
            problems.append(f"{s.symbol}: formula, unit or citation missing")
        for name, inp in s.inputs.items():
            if not inp.get("source") or not inp.get("unit"):
                problems.append(f"{s.symbol}: input {name} lacks unit or source")
    return not problems, "; ".join(problems[:5])


def _refusals(m: Methodology, doc: dict) -> tuple[bool, str]:
    """For each numeric parameter present in the first period, a value past its range must be refused with
    that parameter named."""
    failures, tried = [], 0
    period0 = doc["periods"][0]
    for p in m.params:
        if p.kind != "number" or p.symbol not in period0:
            continue
        for bad in ([p.min - 1] if p.min is not None else []) + ([p.max * 2 + 1] if p.max is not None else []):
            tried += 1
            broken = copy.deepcopy(doc)
            broken["periods"][0][p.symbol] = str(bad)
            try:
                m.calculate(broken)
                failures.append(f"{p.symbol}={bad} accepted")
            except MethodologyError as exc:
                if p.symbol not in (exc.field or ""):
                    failures.append(f"{p.symbol}={bad} refused naming {exc.field!r}")
    return not failures, f"{tried} out-of-range values tried" + (": " + "; ".join(failures) if failures else "")
