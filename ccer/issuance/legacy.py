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

import json
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..auth import policy
from ..infra import bounds, clock
from ..infra.actor import Actor
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, NotFound, ValidationError

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


#: what old CCERs may be used for, for holdings and issuance listings
USES = {"legacy": True, "national_ets_until": NATIONAL_ETS_UNTIL.isoformat(), "other_uses": "as provided (Measures Art. 49)",
        "rule": RULE_ETS}


def uses(project) -> dict | None:
    """What a legacy project's CCERs may be used for (None for other projects)."""
    return dict(USES) if is_legacy(project) else None


def uses_of_code(methodology_code: str) -> dict | None:
    """`uses` for a holdings row, known by its project's code (record_project writes the prefix)."""
    return dict(USES) if (methodology_code or "").startswith(CODE_PREFIX) else None


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
    from ..auth.models import Organisation
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
    # the columns' limits (bounds.py): the CLI reaches here without the API's schema
    for value, name, size in ((title, "title", 300), (filing_no, "filing_no", bounds.SHORT_LEN), (province or "", "province", 40),
                              (old_methodology or "", "old_methodology", bounds.SHORT_LEN)):
        bounds.check_text(value, name, size, multiline=False)
    if session.get(Organisation, owner_id) is None:
        raise NotFound(f"no organisation {owner_id}", field="owner_id")
    now = clock.now(session)
    ledger.lock_head(session)  # registry numbers are a registry-wide sequence; also serialises the duplicate check
    if by_filing_no(session, filing_no.strip()) is not None:
        raise Conflict(f"filing {filing_no.strip()} is already recorded", field="filing_no",
                       rule="Measures Art. 49: one record per old-regime project")
    project = Project(title=title.strip(), methodology_code=f"{CODE_PREFIX}{sector}-{(old_methodology or '').strip()}"[:20], owner_id=owner_id, province=province,
                      origin=ORIGIN, status="registered", registry_no=next_registry_no(session), registered_at=now, created_at=now,
                      facts_json=ledger.canonical({"filing_no": filing_no.strip(), "filed_on": filed.isoformat(),
                                                   "old_methodology": (old_methodology or "").strip()}))
    session.add(project)
    session.flush()
    ledger.record(session, actor, "project.legacy_recorded", "project", project.id,
                  {"filing_no": filing_no.strip(), "filed_on": filed.isoformat(), "rule": RULE_REAPPLY})
    return project


# ---- reading the old records ------------------------------------------------------------------------------------


def facts(project) -> dict:
    """The old filing as recorded: filing_no, filed_on, old_methodology."""
    return json.loads(project.facts_json or "{}")


def by_filing_no(session: Session, filing_no: str):
    """The old-regime project recorded under this filing number, or None (the number lives in facts_json; old
    projects are a few thousand at most, so reading them is cheap)."""
    from ..projects.models import Project

    for project in session.execute(select(Project).where(Project.origin == ORIGIN)).scalars():
        if facts(project).get("filing_no") == filing_no:
            return project
    return None


def get_project(session: Session, project_id: int):
    """An old-regime project; any other project is not one of them (404)."""
    from ..projects.models import Project

    project = fetch(session, Project, project_id, "project", "project_id")
    if not is_legacy(project):
        raise NotFound(f"project {project_id} is not an old-regime project (Measures Art. 49)", field="project_id")
    return project


def projects_query():
    from ..projects.models import Project

    return select(Project).where(Project.origin == ORIGIN)


def views(session: Session, projects: list) -> list[dict]:
    """Each old-regime project with its filing, its old batches (and what of them is issued) and its CCERs' uses."""
    from ..auth.models import Organisation
    from ..projects.models import MonitoringPeriod
    from .models import Issuance

    ids = [p.id for p in projects]
    batches: dict[int, list] = {i: [] for i in ids}
    for mp in session.execute(select(MonitoringPeriod).where(MonitoringPeriod.project_id.in_(ids))
                              .order_by(MonitoringPeriod.project_id, MonitoringPeriod.number)).scalars():
        batches[mp.project_id].append(mp)
    issued = dict(session.execute(select(Issuance.monitoring_period_id, func.sum(Issuance.quantity))
                                  .where(Issuance.project_id.in_(ids)).group_by(Issuance.monitoring_period_id)).all())
    owners = dict(session.execute(select(Organisation.id, Organisation.name)
                                  .where(Organisation.id.in_({p.owner_id for p in projects}))).all())
    out = []
    for p in projects:
        filing = facts(p)
        rows = [{"id": mp.id, "number": mp.number, "start": mp.start, "end": mp.end, "status": mp.status, "source": mp.source,
                 "vintages": json.loads(mp.vintages_json or "{}"), "quantity": mp.verified_quantity or 0,
                 "issued": int(issued.get(mp.id) or 0)} for mp in batches[p.id]]
        out.append({"id": p.id, "registry_no": p.registry_no, "title": p.title, "owner_id": p.owner_id, "owner": owners.get(p.owner_id),
                    "province": p.province, "sector": p.methodology_code[len(CODE_PREFIX):len(CODE_PREFIX) + 2],
                    "methodology_code": p.methodology_code, "old_methodology": filing.get("old_methodology"),
                    "filing_no": filing.get("filing_no"), "filed_on": date.fromisoformat(filing["filed_on"]) if filing.get("filed_on") else None,
                    "registered_at": p.registered_at, "batches": rows, "quantity": sum(r["quantity"] for r in rows),
                    "issued": sum(r["issued"] for r in rows), "uses": uses(p)})
    return out
