"""ccer serve"""
from __future__ import annotations

import click

from . import main


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.pass_obj
def serve(obj, host: str, port: int, threads: int) -> None:
    """Run the web pages and the REST API on a production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    from .. import create_app

    app = create_app({"database_url": obj.settings.database_url})
    if obj.settings.database_url.startswith("postgresql"):  # seal events left pending by a burst's last writers
        from .. import ledger

        ledger.keep_sealing(app.extensions["ccer.sessions"])
    click.echo(f"ccer on http://{host}:{port}/  (API: /api/v1/openapi.json)")
    waitress_serve(app, host=host, port=port, threads=threads)
