"""ccer clock show | advance | set"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import click

from .. import ledger
from ..infra import clock
from ..infra.db import mutating
from ..infra.errors import ValidationError
from ..infra.actor import Actor
from . import main


@main.group("clock")
def clock_group() -> None:
    """The platform clock (demos and rehearsals move it; publicity lasts weeks)."""


@clock_group.command("show")
@click.pass_obj
def show(obj) -> None:
    with obj.session() as session:
        click.echo(clock.now(session).isoformat())


def _delta(text: str) -> timedelta:
    m = re.fullmatch(r"(\d+)([dhm])", text)
    if not m:
        raise ValidationError("use a number and d, h or m, e.g. 30d", field="by")
    n, unit = int(m.group(1)), m.group(2)
    return {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]


@mutating
def _move(session, how: str, value):
    before = clock.now(session)
    after = clock.advance(session, value) if how == "advance" else clock.set_time(session, value)  # forward only: NO_REWIND
    ledger.record(session, Actor.system("cli"), "clock.moved", "clock", 1, {"from": before, "to": after})
    return after


@clock_group.command("advance")
@click.argument("by")
@click.pass_obj
def advance(obj, by: str) -> None:
    """Move the platform clock forward, e.g. `ccer clock advance 30d`."""
    with obj.session() as session:
        click.echo(_move(session, "advance", _delta(by)).isoformat())


@clock_group.command("set")
@click.argument("when")
@click.pass_obj
def set_(obj, when: str) -> None:
    """Set the platform time (ISO date or datetime, Asia/Shanghai)."""
    try:
        instant = datetime.fromisoformat(when)
    except ValueError:
        raise ValidationError("not an ISO date or datetime", field="when")
    with obj.session() as session:
        click.echo(_move(session, "set", instant).isoformat())
