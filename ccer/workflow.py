"""Declarative state machines: states, transitions, who may fire each one, guards, and the event written.

A machine is declared once per kind of record (project, monitoring period, methodology proposal):

    machine = Machine("project", states=("draft", "publicity", …))
    machine.transition("publicise", "draft", "publicity", permission="project.publicise",
                       guards=[Guard("construction started after 2012-11-08", check, "Measures Art. 10")])

`fire` checks, in order: the record is in a source state, the actor holds the permission (policy.py), and
every guard passes; the first failure is refused naming the guard and its rule, and nothing changes.
Then the transition's `effect` runs (set dates, attach documents …), the state changes, and one event
records it. Services call `fire` inside their own transaction (db.mutating).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.orm import Session

from . import ledger
from .auth import policy
from .infra.errors import Conflict, ValidationError
from .infra.actor import Actor

#: a guard's check returns None when satisfied, else what is wrong
Check = Callable[[Session, Any, dict], str | None]


@dataclass(frozen=True)
class Guard:
    name: str
    check: Check
    rule: str = ""
    #: the field a failure points at, for API clients
    field: str = "status"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    permission: str
    guards: tuple[Guard, ...] = ()
    #: (session, actor, record, context) -> None; runs after the guards, before the state changes
    effect: Callable[[Session, Actor, Any, dict], None] | None = None
    label: str = ""
    #: context values the transition implies, e.g. a positive conclusion for "validate"
    defaults: dict = field(default_factory=dict)


@dataclass
class Machine:
    name: str
    states: tuple[str, ...]
    #: the attribute holding the state
    attribute: str = "status"
    transitions: dict[str, Transition] = field(default_factory=dict)
    #: context keys written into the transition's event when given
    recorded: tuple[str, ...] = ("reason",)

    def transition(self, name: str, sources: str | tuple[str, ...], target: str, *, permission: str,
                   guards: list[Guard] | tuple[Guard, ...] = (), effect=None, label: str = "",
                   defaults: dict | None = None) -> Transition:
        sources = (sources,) if isinstance(sources, str) else tuple(sources)
        for s in (*sources, target):
            if s not in self.states:
                raise ValueError(f"{self.name}: unknown state {s!r}")
        t = Transition(name, sources, target, permission, tuple(guards), effect, label or name, dict(defaults or {}))
        self.transitions[name] = t
        return t

    def get(self, name: str) -> Transition:
        if name not in self.transitions:
            raise ValidationError(f"{self.name} has no transition {name!r}; one of {', '.join(self.transitions)}", field="transition")
        return self.transitions[name]

    def failures(self, session: Session, actor: Actor, record: Any, name: str, context: dict | None = None) -> list[Guard | str]:
        """What stands in the way of firing `name` now: a message for state or permission, or the failed guards."""
        t = self.get(name)
        state = getattr(record, self.attribute)
        if state not in t.sources:
            return [f"{self.name} is {state}; {name} applies to {' or '.join(t.sources)}"]
        if not policy.can(actor, t.permission, record):
            return [f"not permitted: {t.permission}"]
        context = {**t.defaults, **(context or {})}
        return [g for g in t.guards if g.check(session, record, context) is not None]

    def available(self, session: Session, actor: Actor, record: Any) -> list[str]:
        """Transitions this actor could fire now (for pages and API clients)."""
        return [n for n in self.transitions if not self.failures(session, actor, record, n)]

    def fire(self, session: Session, actor: Actor, record: Any, name: str, context: dict | None = None) -> Any:
        t = self.get(name)
        context = {**t.defaults, **(context or {})}
        state = getattr(record, self.attribute)
        if state not in t.sources:
            raise Conflict(f"{self.name} is {state}; {name} applies to {' or '.join(t.sources)}", field="status",
                           rule=f"{self.name} workflow")
        policy.require(actor, t.permission, record)
        for g in t.guards:
            why = g.check(session, record, context)
            if why is not None:
                raise ValidationError(f"{name} refused: {g.name}: {why}", field=g.field, rule=g.rule or g.name)
        if t.effect is not None:
            t.effect(session, actor, record, context)
        setattr(record, self.attribute, t.target)
        session.flush()
        recorded = {k: context[k] for k in self.recorded if context.get(k) is not None}
        ledger.record(session, actor, f"{self.name}.{name}", self.name, record.id, {"from": state, "to": t.target, **recorded})
        return record
