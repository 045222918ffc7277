"""What an RQ worker runs (`ccer worker`): one job in RQ's forked work horse, under a memory budget."""
from __future__ import annotations

import resource
from pathlib import Path


def perform(job_id: str, database_url: str, instance: str) -> None:
    from sqlalchemy.orm import sessionmaker

    from .. import load_models
    from ..infra.db import make_engine
    from .queue import JobSettings, run_job

    # the work horse is a fork of the worker: the limit ends with it (bounded work, issue 15 item 2)
    budget = JobSettings.from_env().memory
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    load_models()
    engine = make_engine(database_url)
    try:
        run_job(sessionmaker(bind=engine, expire_on_commit=False), job_id, Path(instance), None)
    finally:
        engine.dispose()


def work(burst: bool = False) -> None:
    """Serve the `ccer` queue (RQ on CCER_REDIS_URL) until stopped; with `burst`, until it is empty."""
    from redis import Redis
    from rq import Queue, Worker

    from .queue import JobSettings

    connection = Redis.from_url(JobSettings.from_env().redis_url)
    Worker([Queue("ccer", connection=connection)], connection=connection).work(burst=burst)
