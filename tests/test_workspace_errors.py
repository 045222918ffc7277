"""Service refusals on a workspace form in the page's language (issue 16 item 7; ccer/workspace/errors.py): the
owner's new-project form without its crediting period is refused by lifecycle.create (the one place of the rule,
Measures Art. 8, 17) and the message stands beside the crediting-start box, in Chinese by default and in English;
nothing is saved. On SQLite and PostgreSQL."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from ccer.projects.models import Project
from tests.test_workspace_routes import _login


def test_a_project_without_its_crediting_period_is_refused_beside_the_field_in_both_languages(client, session, parties):
    username = parties.user(parties.org(["project_owner"], name="海上风电测试有限公司")).username
    session.commit()
    token = _login(client, username)
    form = {"csrf": token, "methodology_code": "CCER-01-002-V01", "title": "山东半岛南3号海上风电项目（测试）", "province": "山东省",
            "construction_start": "2019-06-01", "project.distance_offshore_km": "34", "project.water_depth_m": "25", "project.grid": "华北"}
    resp = client.post("/workspace/owner/projects/new", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    field = r'id="project.crediting_start"[^>]*>\s*<span class="field-error" role="alert">'
    assert re.search(field + r"必须填写计入期的起止日期 \[Measures Art. 8, 17; CNCA-CCER-01 §2.2\]", html), html[-3000:]
    assert 'value="山东半岛南3号海上风电项目（测试）"' in html  # what was typed stays
    html = client.post("/workspace/owner/projects/new?lang=en", data=form).get_data(as_text=True)
    assert re.search(field + r"The crediting period \(start and end dates\) is required \[Measures", html)
    assert session.execute(select(func.count()).select_from(Project)).scalar_one() == 0


def test_a_batch_with_a_negative_verification_is_labelled_as_such(app):
    """A reduction batch is verified, not validated (Measures Art. 20–21): its `rejected` reads 核查未通过."""
    from ccer.projects.models import MonitoringPeriod, Project
    from ccer.workspace import labels

    with app.test_request_context("/?lang=zh"):
        assert labels.record_status(MonitoringPeriod(status="rejected")) == "核查未通过"
        assert labels.record_status(Project(status="rejected")) == "审定未通过"
    with app.test_request_context("/?lang=en"):
        assert labels.status("rejected", True) != labels.status("rejected")
