"""A client generated from openapi.json by an off-the-shelf generator (openapi-python-client, in the dev extras)
works (issue 17, Done when): generated at test time into tmp_path, it logs in, creates a project, engages a VVB
(which finds the offer in its list and accepts), publicises the project, and retires CCERs through maker–checker,
the confirmation answering the retirement number — every call through the generated functions and models,
against the WSGI app (httpx's WSGI transport). Skipped only when the generator is not installed."""
from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from datetime import datetime

import pytest

from tests.lifecycle_world import DESIGN, FACTS
from tests.registry_world import World

httpx = pytest.importorskip("httpx")
GENERATOR = shutil.which("openapi-python-client") or (
    str(__import__("pathlib").Path(sys.executable).parent / "openapi-python-client")
    if (__import__("pathlib").Path(sys.executable).parent / "openapi-python-client").exists() else None)
pytestmark = pytest.mark.skipif(GENERATOR is None, reason="openapi-python-client is not installed (pip install -e '.[dev]')")

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package generated from the document the app serves (any database: the document is static)."""
    import tempfile

    from ccer import create_app
    from ccer.infra import migrate

    folder = tmp_path_factory.mktemp("client")
    url = f"sqlite:///{folder / 'spec.sqlite3'}"
    migrate.upgrade(url)
    app = create_app({"database_url": url, "secret_key": "x", "instance_path": tempfile.mkdtemp()})
    (folder / "openapi.json").write_text(json.dumps(app.test_client().get("/api/v1/openapi.json").json))
    app.extensions["ccer.engine"].dispose()
    (folder / "config.yaml").write_text("post_hooks: []\npackage_name_override: ccer_client\n")
    run = subprocess.run([GENERATOR, "generate", "--path", str(folder / "openapi.json"), "--meta", "none",
                          "--output-path", str(folder / "ccer_client"), "--config", str(folder / "config.yaml")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # the document generates cleanly
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("ccer_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == "ccer_client" or m.startswith("ccer_client.")]:
            del sys.modules[name]


def _call(module_name: str, **kw):
    """One generated operation, e.g. "lifecycle.post_api_v1_projects": its response (status_code, parsed)."""
    group, _, op = module_name.partition(".")
    module = importlib.import_module(f"ccer_client.api.{group}.{op}")
    return module.sync_detailed(**kw)


def test_generated_client_creates_publicises_and_retires(generated, app, session, parties):
    from ccer_client import AuthenticatedClient, Client
    from ccer_client.models import ProjectIn, RetireIn, TokenIn, TransitionIn, EngagementIn, DecisionIn

    w = World(session, parties)
    w.issue({"2021": 500, "2022": 300})
    session.commit()
    transport = httpx.WSGITransport(app=app)
    anonymous = Client(base_url="http://ccer.test", httpx_args={"transport": transport})

    def login(actor):
        resp = _call("auth.post_api_v1_auth_tokens", client=anonymous,
                     body=TokenIn(username=actor.label, password=PASSWORD))
        assert resp.status_code == 201, resp.content
        return AuthenticatedClient(base_url="http://ccer.test", token=resp.parsed.token, httpx_args={"transport": transport})

    owner, checker, vvb = login(w.owner.maker), login(w.owner.checker), login(w.vvb.maker)

    # a project, in draft
    body = ProjectIn.from_dict({"title": "山东半岛南4号海上风电项目（客户端测试）", "methodology_code": "CCER-01-002-V01",
                                "province": "山东省", "construction_start": "2025-06-01",
                                "facts": {**FACTS, "crediting_start": "2026-04-01", "crediting_end": "2036-03-31"},
                                "periods": [{**DESIGN[0], "start": "2027-01-01", "end": "2027-12-31"}]})
    made = _call("lifecycle.post_api_v1_projects", client=owner, body=body)
    assert made.status_code == 201, made.content
    project = made.parsed
    assert project.status == "draft" and project.methodology_code == "CCER-01-002-V01"

    # the VVB is engaged, finds the offer in its own list and accepts it
    offer = _call("lifecycle.post_api_v1_engagements", client=owner,
                  body=EngagementIn.from_dict({"role": "validation", "subject_id": project.id, "vvb_id": w.vvb.org.id}))
    assert offer.status_code == 201, offer.content
    offered = _call("worklists.get_api_v1_engagements", client=vvb, status="proposed")
    assert offered.status_code == 200 and [e.id for e in offered.parsed.items] == [offer.parsed.id]
    accepted = _call("lifecycle.post_api_v1_engagements_engagement_id_decision", client=vvb,
                     engagement_id=offer.parsed.id, body=DecisionIn(accept=True))
    assert accepted.status_code == 200 and accepted.parsed.status == "accepted", accepted.content

    # publicity (Measures Art. 12): the project's status as the generated model reads it
    fired = _call("lifecycle.post_api_v1_projects_project_id_transitions_name", client=owner, project_id=project.id,
                  name="publicise", body=TransitionIn())
    assert fired.status_code == 200, fired.content
    assert fired.parsed.status == "publicity"
    listed = _call("lifecycle.get_api_v1_projects", client=anonymous, status="publicity")
    assert project.id in [p.id for p in listed.parsed.items]

    # retire 120 t of vintage 2021 from the owner's account: proposed by one user, confirmed by another
    retire = RetireIn.from_dict({"account": w.owner.account.number, "purpose": "public_good",
                                 "beneficiary_name": w.owner.org.name, "quantity": 120,
                                 "project_no": w.project.registry_no, "vintage": 2021})
    proposed = _call("registry.post_api_v1_retirements", client=owner, body=retire)
    assert proposed.status_code == 202, proposed.content
    request_id = proposed.parsed.id
    seen = _call("approvals.get_api_v1_approvals_request_id", client=checker, request_id=request_id)
    assert seen.status_code == 200 and seen.parsed.status == "pending"
    confirmed = _call("approvals.post_api_v1_approvals_request_id_confirm", client=checker, request_id=request_id)
    assert confirmed.status_code == 200, confirmed.content
    number = confirmed.parsed.retirement_number
    assert number and number.startswith("CCER-R-")
    record = _call("open_data.get_api_v1_retirements_number", client=anonymous, number=number)
    assert record.status_code == 200 and record.parsed.quantity == 120 and record.parsed.vintage == 2021
    assert isinstance(record.parsed.retired_at, datetime) and record.parsed.retired_at.utcoffset().total_seconds() == 0
    assert w.balance(w.owner) == 800 - 120  # 500 + 300 issued, 120 retired
