"""The eligibility rules of the Measures, each once, as workflow guards with their citation. A guard's
check returns None when the rule is met, else what is wrong (workflow.py names the guard and the rule)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..infra import clock
from ..auth.models import Organisation
from ..workflow import Guard
from .models import MonitoringPeriod, OwnerBar, Project

#: construction must have started after this day (Measures Art. 10)
CONSTRUCTION_AFTER = date(2012, 11, 8)
#: reductions must be generated after this day (Measures Art. 17)
REDUCTIONS_AFTER = date(2020, 9, 22)
#: each batch generated within this many years before its application (Measures Art. 17)
BATCH_YEARS = 5
#: an owner whose registration was revoked for fraud may not apply for this many years (Measures Art. 43)
BAR_YEARS = 3
#: methodologies whose electricity can be sold as green certificates instead (MEE/NEA notice 2024-09-11)
GREEN_CERTIFICATE_METHODOLOGIES = ("CCER-01-001-V01", "CCER-01-002-V01")


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# ---- projects ----------------------------------------------------------------------------------------------


def _construction(session: Session, p: Project, ctx: dict) -> str | None:
    if p.construction_start is None:
        return "the construction start date (开工建设) is not given"
    if p.construction_start <= CONSTRUCTION_AFTER:
        return f"construction started {p.construction_start}, not after {CONSTRUCTION_AFTER}"
    return None


def _unique(session: Session, p: Project, ctx: dict) -> str | None:
    return "the project is registered under another GHG reduction mechanism" if p.other_mechanism else None


def _not_ets(session: Session, p: Project, ctx: dict) -> str | None:
    return "the project's emissions are under ETS allowance management" if p.ets_covered else None


def owner_bar(session: Session, owner_id: int, today: date) -> OwnerBar | None:
    """The bar in force on `today`, the longest first: a permanent one (until None) before any dated one."""
    return session.execute(select(OwnerBar).where(OwnerBar.organisation_id == owner_id,
                                                  or_(OwnerBar.until.is_(None), OwnerBar.until >= today))
                           .order_by(OwnerBar.until.is_(None).desc(), OwnerBar.until.desc())).scalars().first()


def _owner_free(session: Session, record, ctx: dict) -> str | None:
    owner_id = record.owner_id if isinstance(record, Project) else record.project.owner_id
    bar = owner_bar(session, owner_id, clock.today(session))
    if bar is None:
        return None
    return f"the owner is barred from applying {'permanently' if bar.until is None else f'until {bar.until}'} ({bar.reason})"


CONSTRUCTION = Guard("construction started after 2012-11-08", _construction, "Measures Art. 10", "construction_start")
UNIQUE = Guard("not registered under another mechanism (uniqueness)", _unique, "Measures Art. 9, 48", "other_mechanism")
NOT_ETS = Guard("not under ETS allowance management", _not_ets, "Measures Art. 9", "ets_covered")
OWNER_FREE = Guard("owner not barred after fraud", _owner_free, "Measures Art. 43", "owner")
PROJECT_GATES = (CONSTRUCTION, UNIQUE, NOT_ETS, OWNER_FREE)


# ---- validation and verification bodies --------------------------------------------------------------------


def _related(session: Session, a: Organisation, b: Organisation) -> bool:
    """Shared ownership or control: one is the other's parent, or they share a parent."""
    return a.id == b.id or a.parent_id == b.id or b.parent_id == a.id or (a.parent_id is not None and a.parent_id == b.parent_id)


def vvb_problem(session: Session, vvb_id: int, project: Project) -> tuple[str, str] | None:
    """(what is wrong, rule) when this VVB may not validate or verify the project, else None."""
    vvb = session.get(Organisation, vvb_id)
    if vvb is None or "vvb" not in vvb.role_names:
        return "the organisation is not a validation and verification body", "Measures Art. 30"
    if project.sector not in vvb.accredited_sectors:
        return (f"{vvb.name} is not accredited for field {project.sector} (accredited: {', '.join(vvb.accredited_sectors) or 'none'})",
                "Measures Art. 30")
    if _related(session, vvb, project.owner):
        return f"{vvb.name} shares ownership or control with the owner", "Measures Art. 18, 37"
    if project.pdd_author_id == vvb.id:
        return f"{vvb.name} wrote the design document", "Measures Art. 37"
    return None


# ---- monitoring periods ------------------------------------------------------------------------------------


def period_problem(session: Session, mp: MonitoringPeriod) -> tuple[str, str, str] | None:
    """(what is wrong, rule, field) for a monitoring period's dates, else None."""
    p = mp.project
    if mp.end < mp.start:
        return f"ends {mp.end} before it starts {mp.start}", "monitoring period", "end"
    if mp.end >= clock.today(session):
        return f"the period ends {mp.end}; reductions are monitored for periods that are over", "Measures Art. 17", "end"
    if mp.start <= REDUCTIONS_AFTER:
        return f"starts {mp.start}: reductions must be generated after {REDUCTIONS_AFTER}", "Measures Art. 17", "start"
    if p.crediting_start and mp.start < p.crediting_start or p.crediting_end and mp.end > p.crediting_end:
        return f"{mp.start}–{mp.end} is not inside the crediting period {p.crediting_start}–{p.crediting_end}", "Measures Art. 17", "start"
    others = session.execute(select(MonitoringPeriod).where(
        MonitoringPeriod.project_id == p.id, MonitoringPeriod.id != (mp.id or 0),
        MonitoringPeriod.status.not_in(("refused", "rejected")))).scalars()
    for o in others:
        if o.start <= mp.end and mp.start <= o.end:
            return (f"overlaps monitoring period {o.number} ({o.start}–{o.end}); the same output is never counted twice",
                    "Measures Art. 17", "start")
    return None


def application_date(session: Session, mp: MonitoringPeriod, ctx: dict) -> date:
    """The owner's application date (Art. 17 counts the 5 years from it): today while the owner applies, the day
    of the application (applied_at) once it is with the registry — never the day of the registry's decision."""
    if ctx.get("application_date"):
        return ctx["application_date"]
    if mp.status == "applied" and mp.applied_at is not None:
        return clock.local(mp.applied_at).date()
    return clock.today(session)


def _within_five_years(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    applied = application_date(session, mp, ctx)
    earliest = years_before(applied, BATCH_YEARS)
    if mp.start < earliest:
        return f"the batch starts {mp.start}; applying on {applied} admits reductions generated from {earliest}"
    return None


def _verifier_differs(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    if mp.verifier_id is None:
        return "no verification body has accepted the engagement"
    if mp.verifier_id == mp.project.validator_id:
        return "the verification body validated this project"
    return None


def _quantity_equals_verified(session: Session, mp: MonitoringPeriod, ctx: dict) -> str | None:
    q = ctx.get("quantity")
    if q != mp.verified_quantity:
        return f"applied for {q} tCO2e; the verification report fixed {mp.verified_quantity}"
    return None


WITHIN_FIVE_YEARS = Guard("generated within 5 years before the application", _within_five_years, "Measures Art. 17", "start")
VERIFIER_DIFFERS = Guard("verifier is not the validator", _verifier_differs, "Measures Art. 18", "verifier")
QUANTITY_IS_VERIFIED = Guard("applied quantity equals the verified quantity", _quantity_equals_verified, "Measures Art. 21", "quantity")
