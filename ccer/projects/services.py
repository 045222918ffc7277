"""Project records the registry keeps. The lifecycle services (design document → registration) grow here;
for now the registry can enter a project from the public listing with its published status."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..auth import policy
from ..auth.models import Organisation
from ..auth.roles import Role
from ..infra.db import mutating
from ..infra.errors import NotFound, ValidationError
from ..infra.actor import Actor
from ..methodologies import registry as methodology_registry
from .models import Project


PROJECT_FIELDS = ("registry_no", "title", "methodology_code", "owner_id", "province", "status", "crediting_start", "crediting_end",
                  "origin", "construction_start", "validator_id", "publicity_start", "publicity_end", "review_due",
                  "other_mechanism", "ets_covered", "reason")


def next_registry_no(session: Session) -> int:
    return (session.execute(select(func.max(Project.registry_no))).scalar_one() or 0) + 1


@mutating
def import_listed(session: Session, actor: Actor, *, title: str, methodology_code: str, owner_id: int,
                  province: str | None, crediting_start: date | None, crediting_end: date | None,
                  registered: bool) -> Project:
    """Enter a project from the public registry listing; a registered one gets the next registry number, any
    other is kept as "listed" (its publicity is over; the listing does not say more)."""
    policy.require(actor, "project.import")
    if not (title or "").strip():
        raise ValidationError("is required", field="title")
    methodology_registry.get(methodology_code)  # refuses an unknown code, naming it
    if session.get(Organisation, owner_id) is None:
        raise NotFound(f"no organisation {owner_id}", field="owner_id")
    if crediting_start and crediting_end and crediting_end < crediting_start:
        raise ValidationError("ends before it starts", field="crediting_end")
    now = clock.now(session)
    project = Project(title=title.strip(), methodology_code=methodology_code, owner_id=owner_id, province=province,
                      crediting_start=crediting_start, crediting_end=crediting_end, origin="listing", created_at=now,
                      status="registered" if registered else "listed")
    if registered:
        ledger.lock_head(session)  # registry numbers are a registry-wide sequence
        project.registry_no, project.registered_at = next_registry_no(session), now
    session.add(project)
    session.flush()
    ledger.record(session, actor, "project.imported", "project", project.id)
    return project


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    policy.allow("project.import", Role.REGISTRY_OPERATOR, cites="Measures Art. 15: the registry registers projects")
    policy.allow("project.read", Role.PUBLIC)
    ledger.register_fields("project", Project, PROJECT_FIELDS)
