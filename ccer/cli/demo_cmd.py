"""ccer demo"""
from __future__ import annotations

from datetime import timedelta

import click

from .. import demo, ledger
from ..infra import clock, migrate
from ..demo import lifecycle as demo_lifecycle, market as demo_market, registry as demo_registry
from . import main


@main.command("demo")
@click.option("--serve/--no-serve", default=False, help="start the server afterwards")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_obj
def demo_cmd(obj, serve: bool, host: str, port: int) -> None:
    """Migrate the database and load demo data (idempotent)."""
    migrate.upgrade(obj.settings.database_url)
    with obj.session() as session:
        # The story is told in time order, for the platform clock never goes back once events exist (NO_REWIND,
        # ccer.infra.clock): on a fresh database the clock starts before the lifecycle walk's first design document;
        # the walk (2025–2026), the registry's day and the exchange's six trading days follow, each before `today`,
        # and the clock is handed back to the wall clock at the end.
        today = clock.today(session)
        moved = clock.latest_event(session) is None
        if moved:
            clock.set_time(session, demo_lifecycle.START - timedelta(hours=1), freeze=True)
        parties = demo.seed_parties(session)
        demo.maker_checker_example(session, parties)
        demo_registry.open_accounts(session, parties)
        session.commit()
        walked = demo_lifecycle.walk(session, parties)
        session.commit()
        registry_day = demo_market.trading_days_before(today, demo_market.DAYS + 2)[0]  # the day before the exchange's first
        registry = demo_registry.seed_registry(session, parties, registry_day)
        session.commit()
        traded = demo_market.run(session, parties, today)
        session.commit()
        if moved or walked or registry or traded:
            clock.reset(session)
            session.commit()
        if walked:
            walked["open"] = demo_lifecycle.open_for_comments(session, parties)
            session.commit()
        click.echo(f"demo parties: registry, {len(parties.vvbs)} VVBs, {len(parties.owners)} project owners (from the registry listing)")
        if registry:
            click.echo(f"registry: {registry.get('issuances', 0)} issuances ({registry.get('issued', 0):,} tCO2e), a sale through the exchange, "
                       "a succession, a freeze and release, retirements for the national ETS, an event, an enterprise, the public good")
        if walked:
            click.echo(f"lifecycle: {walked['projects']} projects (one per methodology) from design document to registration, "
                       f"one batch each verified and issued ({walked['issued']:,} tCO2e); project {walked['open']} open for comments")
        if traded:
            click.echo(demo_market.summary(traded))
        click.echo(f"demo users (password {demo.DEMO_PASSWORD!r}): {', '.join(sorted(parties.users))}")
        report = ledger.verify(session)
        click.echo(f"ledger: {report.events} events, verify {'ok' if report.ok else 'FAILED'}")
    if serve:
        ctx = click.get_current_context()
        from .serve_cmd import serve as serve_cmd

        ctx.invoke(serve_cmd, host=host, port=port)
