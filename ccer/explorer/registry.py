"""The registry in public: issuances and retirements as keyset-paged lists with their dates and links, the
certificate lookup (by number or by the verify URL a certificate's QR code carries), the publicity board and
the figures over time (issued and retired tCO2e by month) the charts draw."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..infra import clock
from ..infra.errors import NotFound
from ..issuance import retirements as retirement_records
from ..issuance.models import Issuance, Retirement
from ..issuance.serials import format_serial
from ..projects import visibility
from ..projects.models import MonitoringPeriod, Project
from .record import window_state
from .search import BadParameter

#: a certificate number as printed (Retirement.number), alone or at the end of the verify URL in its QR code
CERTIFICATE = re.compile(r"CCER-R-(\d{4})-(\d{6,10})", re.IGNORECASE)
LIST_PARAMETERS = ("cursor", "lang")
PAGE = 50


def check_parameters(args, known=LIST_PARAMETERS) -> None:
    for name in args:
        if name not in known:
            raise BadParameter(f"unknown parameter; this page takes {', '.join(known)}", field=name)


def _after(args) -> int | None:
    raw = (args.get("cursor") or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise BadParameter("not a cursor this list gave", field="cursor")
    return int(raw)


def issuances(session: Session, args) -> tuple[list[dict], int | None]:
    """Issuances, newest first, with their projects and serial ranges: one statement a page."""
    check_parameters(args)
    after = _after(args)
    stmt = (select(Issuance, Project).join(Project, Project.id == Issuance.project_id)
            .order_by(Issuance.id.desc()).limit(PAGE + 1))
    if after is not None:
        stmt = stmt.where(Issuance.id < after)
    rows = session.execute(stmt).all()
    out = [{"issuance": i, "project": p, "issued_at": clock.local(i.issued_at),
            "serial": format_serial(p.sector, p.registry_no, i.vintage, i.batch, i.first, i.last) if p.registry_no else None}
           for i, p in rows[:PAGE]]
    return out, (rows[PAGE - 1][0].id if len(rows) > PAGE else None)


def retirements(session: Session, args) -> tuple[list[dict], int | None]:
    """Retirements, newest first, with their projects, dates and certificate numbers: one statement a page."""
    check_parameters(args)
    after = _after(args)
    stmt = select(Retirement).options(joinedload(Retirement.project)).order_by(Retirement.id.desc()).limit(PAGE + 1)
    if after is not None:
        stmt = stmt.where(Retirement.id < after)
    rows = session.execute(stmt).scalars().all()
    out = [{"r": r, "retired_at": clock.local(r.retired_at)} for r in rows[:PAGE]]
    return out, (rows[PAGE - 1].id if len(rows) > PAGE else None)


def certificate_number(given: str) -> str:
    """The certificate number in what a visitor typed or scanned: the number itself, or the verify URL of the
    certificate's QR code (…/registry/retirements/CCER-R-2026-000042)."""
    text = (given or "").strip()
    if not text:
        raise BadParameter("type a certificate number such as CCER-R-2026-000001, or the address its QR code opens",
                           field="number")
    if len(text) > 300:
        raise BadParameter("at most 300 characters", field="number")
    found = CERTIFICATE.search(text)
    if found is None:
        raise NotFound(f"{text[:60]!r} is not a certificate number (CCER-R-YYYY-NNNNNN)", field="number")
    return found.group(0).upper()


def lookup(session: Session, given: str) -> Retirement:
    """The retirement a certificate number names — NotFound for a number the registry never gave (a forged
    one: a wrong year, an id that does not exist)."""
    number = certificate_number(given)
    if int(number.rsplit("-", 1)[1]) >= 2**31:
        raise NotFound(f"no retirement {number}", field="number")
    return retirement_records.get_retirement(session, number)


def publicity_board(session: Session) -> dict:
    """What is open for comment today (projects and reduction batches in publicity) and what closed lately:
    three statements."""
    today = clock.today(session)
    public = visibility.visible_to(None)
    projects = session.execute(select(Project).options(joinedload(Project.owner))
                               .where(public, Project.status == "publicity", Project.publicity_end >= today)
                               .order_by(Project.publicity_end, Project.id)).scalars().all()
    batches = session.execute(select(MonitoringPeriod, Project).join(Project, Project.id == MonitoringPeriod.project_id)
                              .where(visibility.batches_visible_to(None), MonitoringPeriod.status == "publicity",
                                     MonitoringPeriod.publicity_end >= today)
                              .order_by(MonitoringPeriod.publicity_end, MonitoringPeriod.id)).all()
    closed = session.execute(select(Project).where(public, Project.publicity_end < today,
                                                   Project.publicity_end >= today - timedelta(days=60))
                             .order_by(Project.publicity_end.desc(), Project.id.desc()).limit(20)).scalars().all()
    return {"today": today,
            "projects": [{"p": p, **window_state(today, p.publicity_start or today, p.publicity_end)} for p in projects],
            "batches": [{"b": b, "p": p, **window_state(today, b.publicity_start or today, b.publicity_end)} for b, p in batches],
            "closed": closed}


def _month(column, dialect: str):
    return func.to_char(column, "YYYY-MM") if dialect == "postgresql" else func.strftime("%Y-%m", column)


def monthly(session: Session) -> dict:
    """Issued and retired tCO2e by month (Beijing time), and the totals: two statements."""
    dialect = session.get_bind().dialect.name

    def series(model, at):  # stored in UTC; the month is Beijing's
        local = func.timezone("Asia/Shanghai", at) if dialect == "postgresql" else func.datetime(at, "+8 hours")
        month = _month(local, dialect)
        return {m: int(q) for m, q in session.execute(select(month, func.sum(model.quantity)).group_by(month).order_by(month))}

    issued, retired = series(Issuance, Issuance.issued_at), series(Retirement, Retirement.retired_at)
    months = sorted(set(issued) | set(retired))
    return {"months": months, "issued": [issued.get(m, 0) for m in months], "retired": [retired.get(m, 0) for m in months],
            "total_issued": sum(issued.values()), "total_retired": sum(retired.values())}


def market(session: Session, days: int = 30) -> list[dict]:
    """The exchange's daily figures over the last `days` (ccer.market.marketdata), oldest first."""
    from ..market import marketdata

    today = clock.today(session)
    return marketdata.history(session, today - timedelta(days=days), today)


__all__ = ["certificate_number", "check_parameters", "issuances", "lookup", "market", "monthly", "publicity_board", "retirements"]
