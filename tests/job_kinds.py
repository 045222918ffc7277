"""Job kinds of tests/test_jobs.py (also loaded by its RQ worker process): one that asks for 8 GiB, more than any
budget the test gives, and one that outlives a 1 s time budget."""
from __future__ import annotations

import time

from ccer import jobs


def hog(session, job, progress, folder):
    return {"bytes": len(bytearray(8 * 2**30))}


def slow(session, job, progress, folder):
    time.sleep(1.2)
    progress(0.5, "half")  # past a 1 s budget: stopped here
    return {"never": True}


jobs.job_kind("test.hog", hog)
jobs.job_kind("test.slow", slow)
