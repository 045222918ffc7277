"""What a role module shows on the workspace home: items waiting (with their working-day deadlines), things owned,
things the user can start. Role modules register a provider per role; the home page asks every provider whose role
the actor holds."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.orm import Session

from ..infra.actor import Actor


@dataclass
class Item:
    title: str
    url: str
    #: the working-day deadline, if the item has one (Measures/Registry Rules deadlines)
    deadline: dt.date | None = None
    #: the deadline is computed on a calendar year not yet published (issue 18)
    provisional: bool = False
    note: str = ""

    def overdue(self, today: dt.date) -> bool:
        return self.deadline is not None and self.deadline < today


@dataclass
class Panel:
    role: str
    heading: str
    waiting: list[Item] = field(default_factory=list)
    owned: list[Item] = field(default_factory=list)
    start: list[Item] = field(default_factory=list)


Provider = Callable[[Session, Actor], Panel]
PROVIDERS: dict[str, Provider] = {}


def provides(role: str):
    """Decorator: the panel of `role` on the home page (one provider per role)."""
    def register(fn: Provider) -> Provider:
        if role in PROVIDERS:
            raise RuntimeError(f"two workspace panels for role {role!r}")
        PROVIDERS[role] = fn
        return fn
    return register


def panels_for(session: Session, actor: Actor) -> list[Panel]:
    return [PROVIDERS[r](session, actor) for r in sorted(actor.roles) if r in PROVIDERS]
