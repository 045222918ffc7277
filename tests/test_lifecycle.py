"""The project and reduction lifecycle: every path (happy, returned, refused, withdrawn, cancelled, revoked)
and every eligibility rule on both sides of its boundary. Dates are worked out by hand from the 2025
State Council holiday notice (National Day 1–8 October, make-up working days Sunday 28 September and
Saturday 11 October; Labour Day 1–5 May, make-up Sunday 27 April)."""
from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ccer import ledger

from ccer.infra import clock
from ccer.infra.clock import CST
from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.issuance.holdings import holdings
from ccer.projects import comments, lifecycle, monitoring, records
from ccer.projects.models import MonitoringPeriod
from ccer.validation import services as vv
from tests.lifecycle_world import FACTS, MONITORED, LifeWorld, half


@pytest.fixture()
def w(session, parties):
    return LifeWorld(session, parties)


def _ok(session):
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def _pdf_text(doc) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(doc.content)).pages).replace("\n", "").replace(" ", "")


def test_happy_path_from_design_document_to_ccers(w, session):
    p = w.project()
    # ex-ante: (803 701 − 1 250) × (0.9419 × 0.5 + 0.4819 × 0.5) = 802 451 × 0.7119 = 571 264.8669 → 571 264
    assert p.status == "draft" and p.estimate_tco2e == 571_264
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.owner, p.id, "publicise")
    assert err.value.field == "vvb" and "engaged" in str(err.value)
    w.engage(p, w.vvb_a_org, w.vvb_a)
    lifecycle.fire(session, w.owner, p.id, "publicise")
    assert (p.publicity_start, p.publicity_end) == (date(2025, 3, 3), date(2025, 3, 31))  # 20 working days, March has no holiday
    pdd = records.latest(session, "pdd", "project", p.id)
    assert "571,264" in _pdf_text(pdd) and "项目设计文件" in _pdf_text(pdd)

    c = w.comment(p)
    car = vv.raise_finding(session, w.vvb_a, "project", p.id, "CAR", "请提供海域使用权证书。")
    w.advance(40)  # 2025-04-12
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.vvb_a, p.id, "validate")
    assert err.value.field == "comments" and f"#{c.id}" in str(err.value)
    comments.respond(session, w.owner, c.id, "海缆路由避开了传统渔场，见环评报告第5章。")
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.vvb_a, p.id, "validate")
    assert err.value.field == "findings" and err.value.rule.startswith("CNCA-CCER-01")
    vv.answer_finding(session, w.owner, car.id, "已上传海域使用权证书。", evidence="国海证2019370001号")
    vv.close_finding(session, w.vvb_a, car.id)
    with pytest.raises(Forbidden):  # only the engaged body reports
        lifecycle.fire(session, w.vvb_b, p.id, "validate")
    lifecycle.fire(session, w.vvb_a, p.id, "validate")
    report = records.latest(session, "validation_report", "project", p.id)
    text_ = _pdf_text(report)
    assert "请提供海域使用权证书" in text_ and "海缆路由避开了传统渔场" in text_  # findings and comment handling are in the report

    lifecycle.fire(session, w.owner, p.id, "apply")
    assert p.review_due == date(2025, 5, 6)  # 15 working days from Sat 12 Apr, across Labour Day and the make-up Sunday 27 Apr
    assert all(i["ok"] for i in lifecycle.checklist(session, p)), lifecycle.checklist(session, p)
    lifecycle.fire(session, w.registry, p.id, "register")
    assert p.status == "registered" and p.registry_no == 1

    mp = monitoring.create(session, w.owner, p.id, MONITORED)
    assert json.loads(mp.vintages_json) == {"2023": 284_404, "2024": 286_860}  # floors of 284 404.05 and 286 860.8169
    with pytest.raises(ValidationError) as err:
        w.engage(mp, w.vvb_a_org, w.vvb_a, role="verification")
    assert err.value.rule == "Measures Art. 18"
    w.engage(mp, w.vvb_b_org, w.vvb_b, role="verification")
    monitoring.fire(session, w.owner, mp.id, "publicise")
    w.advance(40)
    with pytest.raises(ValidationError) as err:
        monitoring.fire(session, w.vvb_b, mp.id, "verify", verified_quantity=571_265)
    assert err.value.field == "verified_quantity"
    monitoring.fire(session, w.vvb_b, mp.id, "verify")
    assert mp.verified_quantity == 571_264  # 284 404 + 286 860
    with pytest.raises(ValidationError) as err:
        monitoring.fire(session, w.owner, mp.id, "apply", quantity=571_265)
    assert err.value.rule == "Measures Art. 21"
    monitoring.fire(session, w.owner, mp.id, "apply", quantity=571_264)
    w.register_batch(mp)  # registering proposes the issuance, the second registry user confirms it (issue 15)
    rows = {(r["vintage"], r["status"]): r["quantity"] for r in holdings(session, w.owner_org.id and _account(session, w).id)}
    assert rows == {(2023, "available"): 284_404, (2024, "available"): 286_860}
    _ok(session)


def _account(session, w):
    from ccer.issuance.accounts import account_of

    return account_of(session, w.owner_org.id)


def test_returned_then_registered_and_refused(w, session):
    p = w.to_validated()
    lifecycle.fire(session, w.owner, p.id, "apply")
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.registry, p.id, "return")
    assert err.value.field == "reason"
    lifecycle.fire(session, w.registry, p.id, "return", reason="承诺书未加盖公章")
    assert p.status == "returned" and p.reason == "承诺书未加盖公章"
    w.advance(3)
    lifecycle.fire(session, w.owner, p.id, "reapply")
    lifecycle.fire(session, w.registry, p.id, "register")
    assert p.status == "registered"
    q = w.to_validated()
    lifecycle.fire(session, w.owner, q.id, "apply")
    lifecycle.fire(session, w.registry, q.id, "refuse", reason="项目已在其他减排机制登记")
    assert q.status == "refused"
    with pytest.raises(Conflict):
        lifecycle.fire(session, w.owner, q.id, "reapply")
    _ok(session)


def test_withdrawn_publicity_restarts_its_window(w, session):
    p = w.to_publicity()
    w.advance(5)
    lifecycle.fire(session, w.owner, p.id, "withdraw")
    assert p.status == "draft" and p.publicity_end is None
    with pytest.raises(Conflict):
        comments.submit(session, w.public, "project", p.id, "李四", "还在公示吗？")
    lifecycle.fire(session, w.owner, p.id, "publicise")
    assert p.publicity_start == date(2025, 3, 8)  # 3 March + 5 days
    assert len(session.execute(select(records.Document).where(records.Document.kind == "pdd")).all()) == 2  # the first stays on file


def test_cancelled_project_is_never_registered_again(w, session):
    p = w.to_registered()
    with pytest.raises(ValidationError):
        lifecycle.fire(session, w.owner, p.id, "cancel")
    lifecycle.fire(session, w.owner, p.id, "cancel", reason="项目拆除")
    for t in ("apply", "reapply", "register", "publicise"):
        with pytest.raises(Conflict):
            lifecycle.fire(session, w.registry, p.id, t)


def test_revocation_bars_the_owner_for_three_years(w, session):
    p = w.to_registered()  # revoked on 2025-04-12
    with pytest.raises(Forbidden):
        lifecycle.fire(session, w.owner, p.id, "revoke", reason="x")
    lifecycle.fire(session, w.registry, p.id, "revoke", reason="省生态环境厅认定篡改监测数据（甘环〔2025〕7号）")
    q = w.project(province="江苏省")  # another site: the revoked project itself never comes back (test_fidelity_rules)
    w.engage(q, w.vvb_a_org, w.vvb_a)
    clock.set_time(session, datetime(2028, 4, 12, 9, tzinfo=CST), freeze=True)  # the last barred day
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.owner, q.id, "publicise")
    assert err.value.rule == "Measures Art. 43" and "2028-04-12" in str(err.value)
    clock.set_time(session, datetime(2028, 4, 13, 9, tzinfo=CST), freeze=True)
    # the bar is over; (publicising itself waits for the State Council's 2028 holiday calendar)
    assert lifecycle.PROJECT.failures(session, w.owner, q, "publicise") == []


# ---- eligibility boundaries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start,ok", [("2012-11-08", False), ("2012-11-09", True)])
def test_construction_must_start_after_8_november_2012(w, session, start, ok):
    p = w.project(construction_start=start)
    w.engage(p, w.vvb_a_org, w.vvb_a)
    if ok:
        lifecycle.fire(session, w.owner, p.id, "publicise")
    else:
        with pytest.raises(ValidationError) as err:
            lifecycle.fire(session, w.owner, p.id, "publicise")
        assert err.value.rule == "Measures Art. 10" and err.value.field == "construction_start"


@pytest.mark.parametrize("flag,rule", [("other_mechanism", "Measures Art. 9, 48"), ("ets_covered", "Measures Art. 9")])
def test_projects_elsewhere_or_under_the_ets_are_refused(w, session, flag, rule):
    p = w.project(**{flag: True})
    w.engage(p, w.vvb_a_org, w.vvb_a)
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.owner, p.id, "publicise")
    assert err.value.rule == rule


def test_vvb_must_be_accredited_independent_and_not_the_author(w, session, parties):
    forest_only = parties.org(["vvb"], name="林业审定机构", sectors=["14"])
    sister = parties.org(["vvb"], name="业主关联审定机构", sectors=["01"], parent_id=w.owner_org.id)
    p = w.project()
    with pytest.raises(ValidationError) as err:
        vv.engage(session, w.owner, "validation", p.id, forest_only.id)
    assert err.value.rule == "Measures Art. 30" and "field 01" in str(err.value)
    with pytest.raises(ValidationError) as err:
        vv.engage(session, w.owner, "validation", p.id, sister.id)
    assert err.value.rule == "Measures Art. 18, 37"
    authored = w.project(pdd_author_id=w.vvb_a_org.id)
    with pytest.raises(ValidationError) as err:
        vv.engage(session, w.owner, "validation", authored.id, w.vvb_a_org.id)
    assert err.value.rule == "Measures Art. 37"


@pytest.fixture()
def early(w, session):
    """A registered project whose crediting period starts 1 September 2020."""
    facts = {**FACTS, "crediting_start": "2020-09-01", "crediting_end": "2030-08-31"}
    p = w.project(facts=facts)
    w.engage(p, w.vvb_a_org, w.vvb_a)
    lifecycle.fire(session, w.owner, p.id, "publicise")
    w.advance(40)
    lifecycle.fire(session, w.vvb_a, p.id, "validate")
    lifecycle.fire(session, w.owner, p.id, "apply")
    lifecycle.fire(session, w.registry, p.id, "register")
    return p


@pytest.mark.parametrize("start,ok", [("2020-09-22", False), ("2020-09-23", True)])
def test_reductions_must_be_generated_after_22_september_2020(w, session, early, start, ok):
    data = [half(start, "2020-12-31", 100000, 0)]
    if ok:
        assert monitoring.create(session, w.owner, early.id, data).start == date(2020, 9, 23)
    else:
        with pytest.raises(ValidationError) as err:
            monitoring.create(session, w.owner, early.id, data)
        assert err.value.rule == "Measures Art. 17" and err.value.field == "start"


@pytest.mark.parametrize("applied,ok", [(date(2025, 9, 23), True), (date(2025, 9, 24), False)])
def test_batch_generated_within_five_years_before_the_application(w, session, early, applied, ok):
    mp = w.batch(early, [half("2020-09-23", "2020-12-31", 100000, 0)])
    monitoring.fire(session, w.owner, mp.id, "publicise")
    w.advance(40)
    monitoring.fire(session, w.vvb_b, mp.id, "verify")
    clock.set_time(session, datetime.combine(applied, datetime.min.time()).replace(hour=10, tzinfo=CST), freeze=True)
    if ok:
        monitoring.fire(session, w.owner, mp.id, "apply", quantity=mp.verified_quantity)
    else:
        with pytest.raises(ValidationError) as err:
            monitoring.fire(session, w.owner, mp.id, "apply", quantity=mp.verified_quantity)
        assert err.value.rule == "Measures Art. 17" and "2020-09-24" in str(err.value)


def test_periods_never_overlap_and_stay_in_the_crediting_period(w, session):
    p = w.to_registered()
    monitoring.create(session, w.owner, p.id, MONITORED)
    with pytest.raises(ValidationError) as err:
        monitoring.create(session, w.owner, p.id, [half("2024-06-30", "2024-12-31", 1000, 0)])
    assert "overlaps monitoring period 1" in str(err.value)
    monitoring.create(session, w.owner, p.id, [half("2024-07-01", "2024-12-31", 1000, 0)])
    with pytest.raises(ValidationError) as err:  # crediting starts 2022-04-01
        monitoring.create(session, w.owner, p.id, [half("2022-03-01", "2022-03-31", 1000, 0)])
    assert "crediting period" in str(err.value)
    with pytest.raises(ValidationError) as err:  # the clock says 2025-04-12
        monitoring.create(session, w.owner, p.id, [half("2025-01-01", "2025-04-12", 1000, 0)])
    assert err.value.field == "end" and "over" in str(err.value)


def test_a_sub_period_across_new_year_is_apportioned_by_days():
    # ER = (62 000 − 0) × 0.7119 = 44 137.8 over 1 Dec 2022 – 31 Jan 2023: 31 days in each year → 22 068.9 each, floored
    calc = {"periods": [{"start": "2022-12-01", "end": "2023-01-31", "exact": {"ER": "44137.8"}}]}
    assert monitoring.vintages(calc) == {"2022": 22_068, "2023": 22_068}
    # 10 days in 2023 and 355 in 2024 of 3 650 t: 100 and 3 550
    calc = {"periods": [{"start": "2023-12-22", "end": "2024-12-20", "exact": {"ER": "3650"}}]}
    assert monitoring.vintages(calc) == {"2023": 100, "2024": 3_550}


def test_green_certificate_electricity_is_excluded(w, session):
    p = w.to_registered()
    mp = w.batch(p, green_certificates_mwh=12_000)
    with pytest.raises(ValidationError) as err:
        monitoring.fire(session, w.owner, mp.id, "publicise")
    assert err.value.field == "green_certificates_mwh" and "2024-09-11" in err.value.rule


def test_publicity_across_national_day_2025(w, session):
    clock.set_time(session, datetime(2025, 9, 26, 9, tzinfo=CST), freeze=True)
    p = w.project()
    w.engage(p, w.vvb_a_org, w.vvb_a)
    lifecycle.fire(session, w.owner, p.id, "publicise")
    # Sun 28 Sep (make-up) 1, 29–30 Sep 2–3, 1–8 Oct holiday, 9–10 Oct 4–5, Sat 11 Oct (make-up) 6,
    # 13–17 Oct 7–11, 20–24 Oct 12–16, 27–30 Oct 17–20
    assert p.publicity_end == date(2025, 10, 30)
    clock.set_time(session, datetime(2025, 10, 30, 18, tzinfo=CST), freeze=True)
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.vvb_a, p.id, "validate")
    assert err.value.field == "publicity_end"
    comments.submit(session, w.public, "project", p.id, "王五", "最后一天仍可评论")
    clock.set_time(session, datetime(2025, 10, 31, 9, tzinfo=CST), freeze=True)
    with pytest.raises(Conflict):
        comments.submit(session, w.public, "project", p.id, "王五", "已过公示期")


def test_hundred_day_limit_excludes_the_owners_delay(w, session):
    p = w.to_publicity()  # publicity from 2025-03-03: due 2025-06-11
    car = vv.raise_finding(session, w.vvb_a, "project", p.id, "CAR", "补充可研批复")
    w.advance(10)
    vv.answer_finding(session, w.owner, car.id, "已补充")  # 10 days on the owner
    vv.close_finding(session, w.vvb_a, car.id)
    assert lifecycle.deadline(session, p) == date(2025, 6, 21)
    clock.set_time(session, datetime(2025, 6, 22, 9, tzinfo=CST), freeze=True)
    with pytest.raises(ValidationError) as err:
        lifecycle.fire(session, w.vvb_a, p.id, "validate")
    assert err.value.field == "deadline" and "2025-06-21" in str(err.value)
    clock.set_time(session, datetime(2025, 6, 21, 9, tzinfo=CST), freeze=True)
    lifecycle.fire(session, w.vvb_a, p.id, "validate")


def test_negative_conclusion_with_reasons(w, session):
    p = w.to_publicity()
    vv.raise_finding(session, w.vvb_a, "project", p.id, "CAR", "额外性论证不足")
    w.advance(40)
    with pytest.raises(ValidationError):
        lifecycle.fire(session, w.vvb_a, p.id, "reject")
    lifecycle.fire(session, w.vvb_a, p.id, "reject", reason="项目不满足适用条件")
    assert p.status == "rejected"
    with pytest.raises(Conflict):
        lifecycle.fire(session, w.owner, p.id, "apply")


def test_moderation_and_answers(w, session):
    p = w.to_publicity()
    c = comments.submit(session, w.public, "project", p.id, "匿名", "违法内容示例")
    with pytest.raises(ValidationError) as err:
        comments.moderate(session, w.registry, c.id, False)
    assert err.value.rule == "Registry Rules Art. 19"
    comments.moderate(session, w.registry, c.id, False, reason="含有违法信息")
    with pytest.raises(Conflict):
        comments.respond(session, w.owner, c.id, "无需答复")
    with pytest.raises(Forbidden):
        comments.moderate(session, w.owner, c.id, True)
    assert comments.unhandled(session, "project", p.id) == []


def test_verify_catches_an_altered_published_document(w, session):
    from sqlalchemy import text

    p = w.to_publicity()
    _ok(session)
    session.execute(text("UPDATE documents SET content = :c"), {"c": b"%PDF-1.7 forged"})
    session.commit()
    problems = [str(x) for x in ledger.verify(session).problems]
    assert any("altered after publication" in x for x in problems), problems
    assert records.latest(session, "pdd", "project", p.id) is not None


def test_failed_transition_changes_nothing(w, session):
    p = w.project()
    before = ledger.count(session)
    with pytest.raises(ValidationError):
        lifecycle.fire(session, w.owner, p.id, "publicise")
    session.expire_all()
    assert ledger.count(session) == before and lifecycle.get(session, p.id).status == "draft"
    assert session.execute(select(MonitoringPeriod)).first() is None


def test_registry_due_lists_pending_decisions_with_overdue_marked(w, session, db_url):
    from click.testing import CliRunner

    from ccer.cli import main

    p = w.to_validated()
    lifecycle.fire(session, w.owner, p.id, "apply")  # on 2025-04-12: due 2025-05-06
    clock.set_time(session, datetime(2025, 5, 7, 9, tzinfo=CST), freeze=True)
    session.commit()
    session.close()  # end this session's transaction before the command opens the database
    out = CliRunner().invoke(main, ["--database", db_url, "registry", "due"])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "project" in x)
    assert line.startswith("2025-05-06  OVERDUE") and "Measures Art. 15" in line
