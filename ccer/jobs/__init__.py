"""Long jobs (issue 15 item 2, issue 16 item 8): GIS checks of large boundaries, bulk certificates, exports.

A job is a row in `jobs` (kind, owner, status, progress, result) and a call of a registered function. Where it runs
is the backend's business: RQ on Redis in production (`CCER_JOBS=rq`, `ccer worker` runs the workers with a time and
memory budget), a background thread on the embedded default, inline in tests. Pages and the API read the row, so
progress looks the same whatever runs it.

Job bookkeeping is operational, not registry state: it writes no ledger event. What a job changes in the registry,
it changes through the services, which write theirs.
"""
from __future__ import annotations

from .models import Job
from .queue import KINDS, enqueue, get_job, job_kind, run_job

__all__ = ["Job", "KINDS", "enqueue", "get_job", "job_kind", "run_job"]
