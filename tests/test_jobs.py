"""Long jobs (ccer/jobs): bulk certificates as a job on each backend, progress, who may see a job, the PDF cache,
and the time and memory budgets."""
from __future__ import annotations

import io
import time
import zipfile

import pytest

from ccer import jobs
from ccer.infra.errors import Forbidden, NotFound
from ccer.issuance import bundles
from ccer.jobs.queue import JobSettings

from tests.registry_world import World


def _world_with_retirements(session, parties, n=2):
    w = World(session, parties)
    w.issue({2022: 100})
    numbers = [w.retire(w.owner, quantity=10 + i, project_no=1, vintage=2022).number for i in range(n)]
    return w, numbers


def _settings(backend, **kw):
    base = JobSettings.from_env()
    return JobSettings(backend=backend, redis_url=base.redis_url, timeout=kw.get("timeout", 60),
                       memory=kw.get("memory", base.memory))


def _wait(session, job_id, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.expire_all()
        job = session.get(jobs.Job, job_id)
        if job.finished:
            return job
        session.rollback()  # end the read: on SQLite an open transaction would keep the job from writing
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s")


def test_a_bundle_holds_every_certificate_of_the_account_and_only_its_owner_and_the_registry_see_it(session, parties, tmp_path, monkeypatch):
    w, numbers = _world_with_retirements(session, parties)
    monkeypatch.setenv("CCER_JOBS", "inline")
    job = bundles.request_bundle(session, w.owner.maker, w.owner.account.id, instance=tmp_path, public_url="https://ccer.example")
    assert job.status == "done" and job.progress == 1.0 and job.result["certificates"] == 2
    with zipfile.ZipFile(tmp_path / "jobs" / job.id / job.artifact) as zf:
        assert sorted(zf.namelist()) == sorted(f"{n}.pdf" for n in numbers)
        assert all(zf.read(name).startswith(b"%PDF") for name in zf.namelist())
    assert jobs.get_job(session, w.registry, job.id) is not None
    with pytest.raises(NotFound):
        jobs.get_job(session, w.trader.maker, job.id)  # another organisation is told it does not exist
    with pytest.raises(Forbidden):
        bundles.request_bundle(session, w.trader.maker, w.owner.account.id, instance=tmp_path, public_url="x")


def test_a_second_bundle_renders_no_pdf_while_the_ledger_is_unchanged(session, parties, tmp_path, monkeypatch):
    w, numbers = _world_with_retirements(session, parties)
    monkeypatch.setenv("CCER_JOBS", "inline")
    first = bundles.request_bundle(session, w.owner.maker, w.owner.account.id, instance=tmp_path, public_url="https://x")
    cached = sorted((tmp_path / "cache" / "pdf").glob("*.pdf"))
    assert len(cached) == 2

    import weasyprint

    def no_rendering(*a, **k):
        raise AssertionError("a cached certificate was rendered again")

    monkeypatch.setattr(weasyprint, "HTML", no_rendering)
    second = bundles.request_bundle(session, w.owner.maker, w.owner.account.id, instance=tmp_path, public_url="https://x")
    assert second.status == "done", second.error
    read = lambda j: zipfile.ZipFile(tmp_path / "jobs" / j.id / j.artifact)  # noqa: E731
    assert [read(second).read(f"{n}.pdf") for n in numbers] == [read(first).read(f"{n}.pdf") for n in numbers]


def test_the_thread_backend_reports_progress_and_finishes(session, parties, tmp_path):
    w, _ = _world_with_retirements(session, parties, n=3)
    job = jobs.enqueue(session, w.owner.maker, bundles.KIND, {"account_id": w.owner.account.id, "public_url": "https://x"},
                       instance=tmp_path, settings=_settings("thread"))
    done = _wait(session, job.id)
    assert done.status == "done" and done.result["certificates"] == 3 and done.message == "3 / 3"


def test_the_thread_backend_stops_a_job_past_its_time_budget(session, parties, tmp_path):
    import tests.job_kinds  # noqa: F401  (test.slow)

    w = World(session, parties)
    job = jobs.enqueue(session, w.owner.maker, "test.slow", {}, instance=tmp_path, settings=_settings("thread", timeout=1))
    done = _wait(session, job.id)
    assert done.status == "failed" and "time budget" in done.error and done.result is None


def _redis(settings):
    from redis import Redis

    try:
        conn = Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        conn.ping()
        return conn
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis unreachable at {settings.redis_url}: {exc}")


def test_rq_runs_jobs_in_a_work_horse_under_a_memory_budget(session, parties, tmp_path):
    """RQ on the Redis at CCER_REDIS_URL, served by `ccer worker --burst` in its own process (as in production; a
    fork of this multi-threaded test process could deadlock): the bundle is made by a work horse; a job that asks
    for more memory than its budget fails there with MemoryError while the worker lives on."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from rq import Queue

    settings = _settings("rq")
    Queue("ccer", connection=_redis(settings)).empty()
    w, _ = _world_with_retirements(session, parties)
    bundle = jobs.enqueue(session, w.owner.maker, bundles.KIND, {"account_id": w.owner.account.id, "public_url": "https://x"},
                          instance=tmp_path, settings=settings)
    import tests.job_kinds  # noqa: F401  (registers test.hog here too, so that it can be queued)
    hungry = jobs.enqueue(session, w.owner.maker, "test.hog", {}, instance=tmp_path, settings=settings)
    session.commit()
    root = Path(__file__).resolve().parents[1]
    # 2 GiB of address space: enough for the platform and WeasyPrint, not for the 8 GiB the hog asks
    env = {**os.environ, "CCER_JOB_MEMORY_MB": "2048", "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", "import tests.job_kinds; from ccer.jobs.worker import work; work(burst=True)"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _wait(session, bundle.id, 5).result["certificates"] == 2
    failed = _wait(session, hungry.id, 5)
    assert failed.status == "failed" and failed.error == "internal error (MemoryError)"


def test_the_api_gives_progress_and_the_file_to_the_owner_only(app, client, session, parties, monkeypatch):
    from ccer.auth import services

    w, numbers = _world_with_retirements(session, parties)
    monkeypatch.setenv("CCER_JOBS", "inline")

    def bearer(actor):
        from ccer.auth.models import User

        token = services.issue_token(session, session.get(User, actor.user_id))
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    owner, stranger = bearer(w.owner.maker), bearer(w.trader.maker)
    made = client.post(f"/api/v1/accounts/{w.owner.account.id}/certificate-bundles", headers=owner)
    assert made.status_code == 202 and made.json["status"] == "done", made.json
    job_id = made.json["id"]
    assert client.get(f"/api/v1/jobs/{job_id}", headers=owner).json["result"] == {"certificates": 2, "bytes": made.json["result"]["bytes"]}
    got = client.get(f"/api/v1/jobs/{job_id}/artifact", headers=owner)
    assert got.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(got.data)).namelist()) == 2
    assert client.get(f"/api/v1/jobs/{job_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}/artifact").status_code == 404  # anonymous
    assert client.post(f"/api/v1/accounts/{w.owner.account.id}/certificate-bundles", headers=stranger).status_code == 403
    page = client.get(f"/jobs/{job_id}?lang=en", headers=owner)
    assert page.status_code == 200 and "Job progress" in page.text and 'value="1.0"' in page.text
