"""Old-regime CCERs and Measures Art. 49 (ccer-rules.md §2.1, §8; the MEE notice of 2023-10-24 [S6]):

- projects filed (备案) under the old regime, before 2017-03-14, are not carried into the new one: to earn new
  CCERs they re-apply as new projects (Art. 49) — the old record takes no new batches;
- reductions already filed and issued then (old CCERs) may still be used as provided, but they offset national
  ETS compliance only until 2024-12-31, not from 2025-01-01 [S6].

An old-regime project is recorded with origin "legacy" and its filing number; its old batches are recorded
like listed ones (monitoring.import_listed_batch) and issued through the registry's usual path, so their
holdings carry the project and the ledger carries the origin. `use_problem` is enforced where CCERs are used
(retirements.retire_units)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from .. import ledger
from ..auth import policy
from ..infra import clock
from ..infra.actor import Actor
from ..infra.db import mutating
from ..infra.errors import ValidationError

#: the old regime's filings stopped on 2017-03-14 (Art. 49)
FILED_BEFORE = date(2017, 3, 14)
#: old CCERs offset national ETS compliance until this day (MEE notice 2023-10-24 [S6])
NATIONAL_ETS_UNTIL = date(2024, 12, 31)
ORIGIN = "legacy"
#: a legacy project's code: OLD-<field>-<old methodology>, so its serials carry the two-digit field
CODE_PREFIX = "OLD-"
RULE_ETS = "MEE notice 2023-10-24: old CCERs offset national ETS compliance only until 2024-12-31"
RULE_REAPPLY = "Measures Art. 49: projects filed before 2017-03-14 re-apply under the new regime"


def is_legacy(project) -> bool:
    return project is not None and project.origin == ORIGIN


def uses(project) -> dict | None:
    """What a legacy project's CCERs may be used for, for holdings and issuance listings."""
    if not is_legacy(project):
        return None
    return {"legacy": True, "national_ets_until": NATIONAL_ETS_UNTIL.isoformat(), "other_uses": "as provided (Measures Art. 49)",
            "rule": RULE_ETS}


def uses_of_code(methodology_code: str) -> dict | None:
    """`uses` for a holdings row, known by its project's code (record_project writes the prefix)."""
    if not (methodology_code or "").startswith(CODE_PREFIX):
        return None
    return {"legacy": True, "national_ets_until": NATIONAL_ETS_UNTIL.isoformat(), "other_uses": "as provided (Measures Art. 49)",
            "rule": RULE_ETS}


def use_problem(project, purpose: str, today: date) -> str | None:
    """Why CCERs of `project` may not be retired for `purpose` on `today`, else None."""
    if is_legacy(project) and purpose == "national_ets" and today > NATIONAL_ETS_UNTIL:
        return (f"{project.title}: old-regime CCERs offset national ETS compliance only until {NATIONAL_ETS_UNTIL}; "
                "other uses remain as provided")
    return None


@mutating
def record_project(session: Session, actor: Actor, *, title: str, old_methodology: str, sector: str, owner_id: int,
                   province: str | None, filing_no: str, filed_on) -> "Project":  # noqa: F821
    """Record an old-regime project (备案) so that its old CCERs can be recorded and used as provided; its code is
    OLD-<sector>-<old methodology> (e.g. OLD-01-CM-001-V01), the sector being the two-digit field its serials carry."""
    from ..methodologies import inputs
    from ..projects.models import Project
    from ..projects.services import next_registry_no

    policy.require(actor, "project.import")
    filed = inputs.a_date(filed_on, "filed_on")
    if filed >= FILED_BEFORE:
        raise ValidationError(f"filed {filed}: the old regime's filings end before {FILED_BEFORE}", field="filed_on", rule=RULE_REAPPLY)
    if not (len(str(sector)) == 2 and str(sector).isdigit()):
        raise ValidationError(f"the field must be two digits (01 energy, 14 forestry, …), got {sector!r}", field="sector")
    if not (title or "").strip() or not (filing_no or "").strip():
        raise ValidationError("the title and the old filing number are required", field="filing_no" if (title or "").strip() else "title")
    now = clock.now(session)
    ledger.lock_head(session)  # registry numbers are a registry-wide sequence
    project = Project(title=title.strip(), methodology_code=f"{CODE_PREFIX}{sector}-{(old_methodology or '').strip()}"[:20], owner_id=owner_id, province=province,
                      origin=ORIGIN, status="registered", registry_no=next_registry_no(session), registered_at=now, created_at=now,
                      facts_json=ledger.canonical({"filing_no": filing_no.strip(), "filed_on": filed.isoformat(),
                                                   "old_methodology": (old_methodology or "").strip()}))
    session.add(project)
    session.flush()
    ledger.record(session, actor, "project.legacy_recorded", "project", project.id,
                  {"filing_no": filing_no.strip(), "filed_on": filed.isoformat(), "rule": RULE_REAPPLY})
    return project
