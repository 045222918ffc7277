"""ccer worker"""
from __future__ import annotations

import click

from . import main


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst: bool) -> None:
    """Run long jobs from the RQ queue on CCER_REDIS_URL (set CCER_JOBS=rq on the server), each in a forked work
    horse with a time (CCER_JOB_TIMEOUT s) and memory (CCER_JOB_MEMORY_MB) budget."""
    from ..jobs.worker import work

    work(burst=burst)
