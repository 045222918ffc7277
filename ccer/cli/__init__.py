"""The `ccer` command. Commands are thin: parse, call one service, print. A user's mistake prints one
line naming the field and the rule and exits non-zero; never a traceback."""
from __future__ import annotations

import sys
from functools import cached_property

import click

from ..infra.config import Settings
from ..infra.errors import DomainError


class Context:
    """Lazily opened database for the commands."""

    def __init__(self, database_url: str | None):
        self._url = database_url

    @cached_property
    def settings(self) -> Settings:
        return Settings.from_env({"database_url": self._url} if self._url else None)

    @cached_property
    def engine(self):
        from ..infra.db import make_engine

        return make_engine(self.settings.database_url)

    def session(self):
        from .. import load_models
        from ..infra.db import make_session_factory

        load_models()
        return make_session_factory(self.engine)()


#: command name → the module that defines it; imported only when the command runs (or for --help)
COMMANDS = {"calendar": "calendar_cmd", "clock": "clock_cmd", "db": "db_cmd", "demo": "demo_cmd", "gis": "gis_cmd",
            "ledger": "ledger_cmd", "market": "market_cmd", "methodology": "methodology_cmd", "orgs": "users_cmd", "project": "project_cmd",
            "legacy": "legacy_cmd", "reference": "reference_cmd",
            "registry": "registry_cmd", "serve": "serve_cmd", "users": "users_cmd", "worker": "worker_cmd"}


class CcerGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx, name):
        if name not in self.commands and name in COMMANDS:
            import importlib

            importlib.import_module(f"{__name__}.{COMMANDS[name]}")  # its decorators register it on `main`
        return self.commands.get(name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as err:
            click.echo(f"error: {err}" + (f" [{err.rule}]" if err.rule else ""), err=True)
            sys.exit(2 if err.status < 500 else 1)


@click.group(cls=CcerGroup)
@click.option("--database", envvar="CCER_DATABASE_URL", default=None, help="SQLAlchemy URL (default: SQLite under instance/)")
@click.version_option(package_name="ccer")
@click.pass_context
def main(ctx: click.Context, database: str | None) -> None:
    """ccer — China's voluntary carbon market (CCER), from design document to retirement."""
    ctx.obj = Context(database)

