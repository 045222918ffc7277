"""Methodology proposals: a conforming module goes through consultation and approval to an active version
that projects can use; a new version supersedes it for new projects only; a broken module is refused."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ccer import proposals

from ccer.infra import clock
from ccer.infra.clock import CST
from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.methodologies import registry, scaffold
from ccer.projects import comments, lifecycle


@pytest.fixture()
def activated(tmp_path, monkeypatch):
    monkeypatch.setenv("CCER_METHODOLOGY_DIR", str(tmp_path / "active"))
    registry.refresh()
    yield tmp_path
    monkeypatch.delenv("CCER_METHODOLOGY_DIR")
    registry.refresh()


def _package(tmp_path, code):
    return proposals.zip_folder(scaffold.create(code, tmp_path / "src", "测试方法学"))


def test_proposal_to_active_version_and_superseded(session, parties, activated):
    clock.set_time(session, datetime(2025, 3, 3, 9, tzinfo=CST), freeze=True)
    author_org = parties.org(["methodology_author"], name="林科院（测试）")
    author = parties.actor(parties.user(author_org))
    registry_actor = parties.actor(parties.user(parties.org(["registry_operator"])))
    owner = parties.actor(parties.user(parties.org(["project_owner"])))

    package = _package(activated, "CCER-14-003-V01")
    with pytest.raises(Forbidden):
        proposals.submit(session, owner, package)
    p = proposals.submit(session, author, package)
    assert p.status == "submitted" and len(p.package_sha256) == 64
    with pytest.raises(Conflict):  # the same code twice
        proposals.submit(session, author, p.package)

    proposals.fire(session, registry_actor, p.id, "consult")
    assert (p.publicity_start.isoformat(), p.publicity_end.isoformat()) == ("2025-03-03", "2025-04-02")  # 30 days
    c = comments.submit(session, registry_actor, "methodology_proposal", p.id, "某大学", "建议补充土壤碳库")
    comments.moderate(session, registry_actor, c.id, True)
    clock.advance(session, timedelta(days=31))
    session.commit()
    with pytest.raises(ValidationError) as err:
        proposals.fire(session, registry_actor, p.id, "approve")
    assert err.value.field == "comments"
    comments.respond(session, author, c.id, "第二版将纳入土壤碳库")
    proposals.fire(session, registry_actor, p.id, "approve")
    proposals.fire(session, registry_actor, p.id, "activate")
    assert "CCER-14-003-V01" in registry.installed()
    doc = {"stage": "ex-ante", "project": {}, "periods": [{"start": "2026-01-01", "end": "2026-12-31", "Q": 1000}]}
    assert lifecycle.estimate("CCER-14-003-V01", {}, doc["periods"])["total"]["ER_credited"] == 500  # 1000 × 0.5

    v2 = proposals.submit(session, author, _package(activated, "CCER-14-003-V02"))
    proposals.fire(session, registry_actor, v2.id, "consult")
    clock.advance(session, timedelta(days=31))
    session.commit()
    proposals.fire(session, registry_actor, v2.id, "approve")
    proposals.fire(session, registry_actor, v2.id, "activate")
    session.refresh(p)
    assert p.status == "superseded"
    with pytest.raises(ValidationError) as err:
        lifecycle.create(session, owner, title="新项目", methodology_code="CCER-14-003-V01", province=None,
                         construction_start="2024-01-01", facts={}, periods=doc["periods"])
    assert err.value.field == "methodology_code"
    # projects registered under V01 keep calculating with it
    assert lifecycle.estimate("CCER-14-003-V01", {}, doc["periods"])["total"]["ER_credited"] == 500


def test_a_module_failing_the_conformance_suite_is_refused(session, parties, activated):
    author = parties.actor(parties.user(parties.org(["methodology_author"])))
    folder = scaffold.create("CCER-14-004-V01", activated / "src", "坏方法学")
    example = next((folder / "examples").glob("*.json"))
    example.write_text(example.read_text(encoding="utf-8").replace('"ER_credited": 500', '"ER_credited": 499'), encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        proposals.submit(session, author, proposals.zip_folder(folder))
    assert err.value.rule == "ccer methodology check"
    with pytest.raises(ValidationError) as err:
        proposals.submit(session, author, b"not a zip")
    assert err.value.field == "package"
