"""The registry's pending decisions with their deadlines (15 working days each): account applications and changes
(Registry Rules Art. 7, 8), project registrations (Measures Art. 15), reduction batches (Art. 22). One query for
`ccer registry due` and GET /api/v1/registry/due."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..infra import clock
from ..projects.models import MonitoringPeriod, Project
from .models import Account, AccountChange


def pending_decisions(session: Session) -> list[dict]:
    """Every decision awaiting the registry, earliest deadline first; `state` is overdue, today or open."""
    today = clock.today(session)
    rows = [dict(kind="account", ref=a.number, id=a.id, subject=a.organisation.name, due=a.review_due, rule="Registry Rules Art. 7")
            for a in session.execute(select(Account).where(Account.status == "pending")).scalars()]
    rows += [dict(kind="account change", ref=f"#{c.id}", id=c.id, subject=session.get(Account, c.account_id).number,
                  due=c.review_due, rule="Registry Rules Art. 8")
             for c in session.execute(select(AccountChange).where(AccountChange.status == "pending")).scalars()]
    rows += [dict(kind="project", ref=f"#{p.id}", id=p.id, subject=p.title, due=p.review_due, rule="Measures Art. 15")
             for p in session.execute(select(Project).where(Project.status == "applied")).scalars()]
    rows += [dict(kind="reductions", ref=f"#{m.id} batch {m.number}", id=m.id, subject=m.project.title, due=m.review_due,
                  rule="Measures Art. 22")
             for m in session.execute(select(MonitoringPeriod).where(MonitoringPeriod.status == "applied")).scalars()]
    for row in rows:
        row["state"] = "overdue" if row["due"] < today else ("today" if row["due"] == today else "open")
    return sorted(rows, key=lambda r: r["due"])
