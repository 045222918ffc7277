"""ccer calendar add-workdays | is-workday"""
from __future__ import annotations

from datetime import date

import click

from ..infra import calendar
from ..infra.errors import ValidationError
from . import main


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"not a date YYYY-MM-DD: {text!r}", field="DATE")


@main.group("calendar")
def calendar_group() -> None:
    """PRC working days (holidays and make-up days)."""


@calendar_group.command("add-workdays")
@click.argument("start")
@click.argument("n", type=int)
def add_workdays(start: str, n: int) -> None:
    """Print the date N working days after START (START itself not counted: Civil Code Art. 201)."""
    click.echo(calendar.add_workdays(_date(start), n).isoformat())


@calendar_group.command("is-workday")
@click.argument("day")
def is_workday(day: str) -> None:
    click.echo("yes" if calendar.is_workday(_date(day)) else "no")


@calendar_group.command("add-trading-days")
@click.argument("start")
@click.argument("n", type=int)
def add_trading_days(start: str, n: int) -> None:
    """Print the Nth trading day after START (Mon–Fri less statutory holidays; a make-up Saturday is not one)."""
    click.echo(calendar.add_trading_days(_date(start), n).isoformat())


@calendar_group.command("is-trading-day")
@click.argument("day")
def is_trading_day(day: str) -> None:
    click.echo("yes" if calendar.is_trading_day(_date(day)) else "no")
