"""Enqueue a job, run it, report its progress.

Backends (CCER_JOBS): `rq` — RQ on Redis (CCER_REDIS_URL), run by `ccer worker` with a time budget (RQ's job
timeout) and a memory budget (an address-space limit in RQ's forked work horse); `thread` — a background thread of
the serving process (the embedded default: nothing else to run), time budget checked at each progress report;
`inline` — run before `enqueue` returns (tests, the CLI).
"""
from __future__ import annotations

import os
import secrets
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from ..infra import clock
from ..infra.actor import Actor
from ..infra.config import Web
from ..infra.db import mutating
from ..infra.errors import DomainError, NotFound, ValidationError
from .models import Job

BACKENDS = ("inline", "thread", "rq")


@dataclass(frozen=True)
class JobSettings:
    backend: str
    redis_url: str
    #: seconds a job may run (RQ job_timeout; checked at each progress report on the thread backend)
    timeout: int
    #: bytes of address space an RQ work horse may take
    memory: int

    @classmethod
    def from_env(cls) -> "JobSettings":
        backend = os.environ.get("CCER_JOBS", "thread")
        if backend not in BACKENDS:
            raise ValidationError(f"CCER_JOBS={backend!r}: one of {', '.join(BACKENDS)}", field="CCER_JOBS")
        return cls(backend=backend, redis_url=Web.from_env().redis_url,  # the one CCER_REDIS_URL setting
                   timeout=int(os.environ.get("CCER_JOB_TIMEOUT", "900")),
                   memory=int(os.environ.get("CCER_JOB_MEMORY_MB", "2048")) * 2**20)


class Progress:
    """Handed to a job: `progress(0.4, "12 of 30 certificates")` records how far it is and stops a job that has run
    past its time budget. It commits the job's own session: a job changes registry state only through services,
    each its own transaction, so between them there is nothing half-done to commit (and on SQLite a second
    connection could not write while the job's session holds the database)."""

    def __init__(self, session: Session, job_id: str, deadline: float | None):
        self._session, self._job_id, self._deadline = session, job_id, deadline

    def __call__(self, fraction: float, message: str = "") -> None:
        import time

        if self._deadline is not None and time.monotonic() > self._deadline:
            raise JobTimeout("the job ran past its time budget (CCER_JOB_TIMEOUT)")
        job = self._session.get(Job, self._job_id)
        job.progress = max(0.0, min(1.0, fraction))
        job.message = message[:400]
        self._session.commit()


class JobTimeout(DomainError):
    status = 408


#: kind → function(session, job, progress, folder) -> result dict; registered by each package's wire()
KINDS: dict[str, Callable[[Session, Job, Progress, Path], dict | None]] = {}


def job_kind(kind: str, fn: Callable) -> None:
    if KINDS.get(kind, fn) is not fn:
        raise RuntimeError(f"job kind {kind!r} registered twice")
    KINDS[kind] = fn


@mutating
def _create(session: Session, actor: Actor, kind: str, payload: dict) -> Job:
    if kind not in KINDS:
        raise ValidationError(f"no job kind {kind!r}", field="kind")
    job = Job(id=secrets.token_hex(16), kind=kind, status="queued", progress=0.0, message="",
              user_id=actor.user_id, organisation_id=actor.organisation_id, payload=payload,
              created_at=clock.now(session))
    session.add(job)
    return job


def enqueue(session: Session, actor: Actor, kind: str, payload: dict, *, instance: Path,
            settings: JobSettings | None = None, files: dict[str, Path] | None = None) -> Job:
    """Record the job (committed, so a worker elsewhere sees it), move its input `files` ({name: path}) into its
    folder, and hand it to the backend."""
    import shutil

    settings = settings or JobSettings.from_env()
    job = _create(session, actor, kind, payload)
    if files:
        folder = Path(instance) / "jobs" / job.id
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in files.items():
            shutil.move(str(path), folder / Path(name).name)
    url = session.get_bind().url.render_as_string(hide_password=False)
    if settings.backend == "rq":
        from redis import Redis
        from rq import Queue

        Queue("ccer", connection=Redis.from_url(settings.redis_url)).enqueue(
            "ccer.jobs.worker.perform", job.id, url, str(instance), job_timeout=settings.timeout)
    elif settings.backend == "thread":
        factory = sessionmaker(bind=session.get_bind(), expire_on_commit=False)
        threading.Thread(target=run_job, args=(factory, job.id, instance, settings.timeout), daemon=True,
                         name=f"job-{job.id[:8]}").start()
    else:
        run_job(sessionmaker(bind=session.get_bind(), expire_on_commit=False), job.id, instance, None)
        session.expire(job)
    return job


def run_job(factory: sessionmaker, job_id: str, instance: Path, timeout: int | None) -> None:
    """Run one job to its end: running → done with its result, or failed with a message a person can read."""
    import time

    deadline = time.monotonic() + timeout if timeout else None
    folder = Path(instance) / "jobs" / job_id
    with factory() as s:
        job = s.get(Job, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", clock.now(s)
        s.commit()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            result = KINDS[job.kind](s, job, Progress(s, job_id, deadline), folder)
            s.commit()
        except BaseException as exc:  # noqa: BLE001 — a job's failure is recorded, never raised into a worker
            s.rollback()
            job = s.get(Job, job_id)
            job.status = "failed"
            job.error = exc.message if isinstance(exc, DomainError) else f"internal error ({type(exc).__name__})"
            if not isinstance(exc, DomainError):
                traceback.print_exc()
            job.finished_at = clock.now(s)
            s.commit()
            if not isinstance(exc, Exception):
                raise
            return
        job = s.get(Job, job_id)
        job.status, job.progress, job.result, job.finished_at = "done", 1.0, result, clock.now(s)
        s.commit()


def get_job(session: Session, actor: Actor, job_id: str) -> Job:
    """A job for the one who asked for it, or the registry; anyone else is told it does not exist."""
    job = session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) == 32 else None
    if job is None or not (actor.user_id is not None and job.user_id == actor.user_id
                           or "registry_operator" in actor.roles or actor.user_id is None and not actor.roles):
        raise NotFound(f"no job {job_id}", field="job_id")
    return job
