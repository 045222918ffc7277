"""Fraud consequences (Measures Art. 43; ccer-rules.md §9): revoking a project opens a public fraud case — its
CCERs stop trading and moving at once, the owner's account is restricted, the owner is barred 3 years and owes
the cancellation of as many CCERs as were issued; its two users cancel CCERs of any project and vintage it
holds; after the deadline the registry force-cancels what the owner still holds, records the shortfall and bars
it for good.

The figures, by hand. Project A (敦煌, registry No. 1) issued 300 000 t of 2021 and 171 865 t of 2022 = 471 865 t;
the owner's second project B (No. 2) 50 000 t of 2023. The owner sold 200 000 t of A 2021 to the trader, so it
holds A 2021 100 000, A 2022 171 865, B 2023 50 000. Revoked on Monday 2026-12-07: owed 471 865 t (everything
issued for A), deadline 2026-12-07 + 30 days = 2027-01-06, barred until 2029-12-07. The owner cancels A 2022
100 000 and B 2023 50 000 → cancelled 150 000, outstanding 471 865 − 150 000 = 321 865. On 2027-01-07 the registry
force-cancels what is left: A 2021 100 000 and A 2022 171 865 − 100 000 = 71 865 → 171 865; shortfall
321 865 − 171 865 = 150 000; the owner barred permanently."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from ccer import ledger

from ccer.infra import clock
from ccer.auth import makerchecker
from ccer.infra.errors import Conflict, DomainError, Forbidden, ValidationError
from ccer.issuance import accounts, fraud, invariants, registry_acts
from ccer.issuance.fraud_models import FraudCase
from ccer.issuance.models import Retirement
from ccer.projects import eligibility, lifecycle, services as projects
from ccer.projects.models import OwnerBar
from tests.conftest import SYSTEM
from tests.registry_world import World

PASSWORD = "correct-horse-battery"
FINDING = "甘肃省生态环境厅认定篡改监测数据（甘环执〔2026〕12号）"


@pytest.fixture()
def world(session, parties):
    w = World(session, parties)
    w.issue({2021: 300_000, 2022: 171_865})  # project A, No. 1
    w.project_b = projects.import_listed(session, w.registry, title="敦煌二期光热测试项目", methodology_code="CCER-01-001-V01",
                                         owner_id=w.owner.org.id, province="甘肃省", crediting_start=date(2021, 1, 1),
                                         crediting_end=date(2030, 12, 31), registered=True)
    w.issue({2023: 50_000}, project=w.project_b)  # project B, No. 2
    w.transfer(w.owner, w.trader, quantity=200_000, project_no=1, vintage=2021)  # a sale before the fraud came out
    return w


def _holding(w, holder) -> dict:
    from ccer.issuance.holdings import holdings

    return {(r["project_no"], r["vintage"], r["status"]): r["quantity"] for r in holdings(w.session, holder.account.id)}


def _revoke(w, **ctx) -> FraudCase:
    lifecycle.fire(w.session, w.registry, w.project.id, "revoke", reason=FINDING, **ctx)
    return w.session.execute(select(FraudCase).where(FraudCase.project_id == w.project.id)).scalar_one()


def _cancel(w, case, **spec):
    req = fraud.propose_cancellation(w.session, w.owner.maker, case.id, **spec)
    return makerchecker.confirm(w.session, w.owner.checker, req.id)


def _enforce(world, case, order):
    """The registry's enforcement: one registry user proposes, the second confirms."""
    return world.act(registry_acts.propose_enforcement(world.session, world.registry, case.id, order))


def _ok(session):
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]
    assert list(invariants.check(session)) == []


def test_revocation_opens_the_case_suspends_the_ccers_and_bars_the_owner(world, session):
    assert _holding(world, world.owner) == {(1, 2021, "available"): 100_000, (1, 2022, "available"): 171_865,
                                            (2, 2023, "available"): 50_000}
    case = _revoke(world)
    assert (case.issued, case.owed, case.owed_reason, case.cancelled, case.force_cancelled, case.shortfall) == (471_865, 471_865, None, 0, 0, None)
    assert (case.status, case.cancel_by, case.outstanding, case.finding) == ("open", date(2027, 1, 6), 471_865, FINDING)
    assert world.project.status == "revoked"
    bar = eligibility.owner_bar(session, world.owner.org.id, date(2026, 12, 7))
    assert bar.until == date(2029, 12, 7)  # 3 years
    assert eligibility.owner_bar(session, world.owner.org.id, date(2029, 12, 8)) is None

    # the project's CCERs, wherever they are held, neither trade nor transfer
    with pytest.raises(Conflict) as err:
        fraud.refuse_if_restricted(session, [world.project_b.id, world.project.id], "project_no")
    assert err.value.field == "project_no" and err.value.rule == fraud.SUSPENDED_RULE and "000001" in err.value.message
    fraud.refuse_if_restricted(session, [world.project_b.id], "project_no")  # project B itself is not revoked
    assert fraud.restricted_projects(session, [world.project.id, world.project_b.id]) == {world.project.id}
    with pytest.raises(DomainError) as err:  # the trader's 200 000 t of A stay where they are
        world.to_trading(world.trader, quantity=1, project_no=1, vintage=2021)
    assert err.value.rule.startswith("Measures Art. 43")
    # ... and what the owner holds stays put until it has cancelled what it owes (its account is restricted)
    assert world.owner.account.status == "restricted"
    with pytest.raises(DomainError) as err:
        world.to_trading(world.owner, quantity=1, project_no=2, vintage=2023)
    assert err.value.rule == "Registry Rules Art. 10"
    assert _holding(world, world.trader)[(1, 2021, "available")] == 200_000
    _ok(session)


def test_the_owner_cancels_any_vintage_then_the_registry_enforces_the_rest(world, session):
    case = _revoke(world)
    # the owner's two users cancel, as ordered, CCERs of any project and vintage it holds
    r1 = _cancel(world, case, quantity=100_000, project_no=1, vintage=2022)
    r2 = _cancel(world, case, quantity=50_000, project_no=2, vintage=2023)
    assert [(r.purpose, r.quantity, r.vintage) for r in (r1, r2)] == [("fraud_cancellation", 100_000, 2022), ("fraud_cancellation", 50_000, 2023)]
    assert (case.cancelled, case.outstanding, case.status) == (150_000, 321_865, "open")  # 471 865 − 150 000
    assert _holding(world, world.owner) == {(1, 2021, "available"): 100_000, (1, 2022, "available"): 71_865,
                                            (1, 2022, "cancelled"): 100_000, (2, 2023, "cancelled"): 50_000}
    with pytest.raises(ValidationError) as err:  # never more than it owes
        fraud.propose_cancellation(session, world.owner.maker, case.id, quantity=321_866)
    assert (err.value.field, err.value.rule) == ("quantity", fraud.OWED_RULE)
    req = fraud.propose_cancellation(session, world.owner.maker, case.id, quantity=1, project_no=1, vintage=2021)
    with pytest.raises(Forbidden):  # maker–checker: the initiator does not confirm
        makerchecker.confirm(session, world.owner.maker, req.id)
    with pytest.raises(Forbidden):  # nor does another organisation cancel against the case
        fraud.propose_cancellation(session, world.trader.maker, case.id, quantity=1)
    makerchecker.reject(session, world.owner.checker, req.id, "撤回")

    with pytest.raises(Conflict) as err:  # the owner has until 2027-01-06
        _enforce(world, case, "甘环执〔2027〕1号")
    assert err.value.field == "cancel_by" and "2027-01-06" in err.value.message
    clock.set_time(session, datetime(2027, 1, 7, 10, tzinfo=clock.CST), freeze=True)
    session.commit()
    with pytest.raises(Forbidden):
        registry_acts.propose_enforcement(session, world.owner.maker, case.id, "x")
    with pytest.raises(Forbidden):  # the registry's act needs a second registry user, even the system actor's
        fraud.enforce(session, SYSTEM, case.id, "x")
    case = _enforce(world, case, "甘环执〔2027〕1号")
    assert (case.force_cancelled, case.shortfall, case.outstanding, case.status) == (171_865, 150_000, 150_000, "enforced")
    forced = session.execute(select(Retirement).where(Retirement.purpose == "forced_cancellation").order_by(Retirement.id)).scalars().all()
    assert [(r.project.registry_no, r.vintage, r.quantity) for r in forced] == [(1, 2021, 100_000), (1, 2022, 71_865)]
    assert _holding(world, world.owner) == {(1, 2021, "cancelled"): 100_000, (1, 2022, "cancelled"): 171_865,
                                            (2, 2023, "cancelled"): 50_000}
    assert [r.number for r in fraud.cancellations(case)] == [r1.number, r2.number, *(r.number for r in forced)]
    # not cancelled as ordered: barred for good
    assert eligibility.owner_bar(session, world.owner.org.id, date(2060, 1, 1)).until is None
    assert "permanently" in eligibility.OWNER_FREE.check(session, world.project_b, {})
    assert fraud.barred_until(case) == "permanent"
    with pytest.raises(Conflict) as err:
        _enforce(world, case, "again")
    assert err.value.field == "status"
    event = session.execute(select(ledger.Event).where(ledger.Event.action == "fraud.enforced")).scalar_one()
    assert '"shortfall":150000' in event.payload_json
    _ok(session)


def test_settled_in_time_keeps_the_three_year_bar(world, session):
    case = _revoke(world, owed=150_000, owed_reason="核查认定仅2022年数据造假", cancel_by="2026-12-31")
    assert (case.issued, case.owed, case.cancel_by) == (471_865, 150_000, date(2026, 12, 31))
    _cancel(world, case, quantity=150_000, project_no=1, vintage=2022)
    assert (case.cancelled, case.outstanding, case.status) == (150_000, 0, "settled")
    with pytest.raises(Conflict) as err:
        _cancel(world, case, quantity=1, project_no=1, vintage=2021)
    assert err.value.field == "case_id"
    clock.set_time(session, datetime(2027, 1, 7, 10, tzinfo=clock.CST), freeze=True)
    session.commit()
    with pytest.raises(Conflict) as err:
        _enforce(world, case, "甘环执〔2027〕1号")
    assert err.value.field == "status" and "cancelled what it owed" in err.value.message
    assert [b.until for b in session.execute(select(OwnerBar)).scalars()] == [date(2029, 12, 7)]
    # the registry restores the account after the correction (Registry Rules Art. 10); the project's CCERs stay suspended
    accounts.decide_account(session, world.registry, world.owner.account.id, "restore")
    assert fraud.restricted_projects(session, [world.project.id]) == {world.project.id}
    _ok(session)


def test_the_figure_owed_and_the_deadline_are_checked(world, session):
    for ctx, field in [(dict(owed=150_000), "owed_reason"), (dict(owed=471_866, owed_reason="x"), "owed"),
                       (dict(cancel_by="2026-12-07"), "cancel_by"), (dict(owed=-1, owed_reason="x"), "owed")]:
        with pytest.raises(ValidationError) as err:
            _revoke(world, **ctx)
        assert err.value.field == field, ctx
        session.expire_all()
        assert world.project.status == "registered"  # nothing of the revocation was written
        assert session.execute(select(FraudCase)).first() is None and session.execute(select(OwnerBar)).first() is None
    assert world.owner.account.status == "open"


def test_a_revocation_with_nothing_issued_only_bars(session, parties):
    w = World(session, parties)
    case = _revoke(w)
    assert (case.issued, case.owed, case.status) == (0, 0, "settled")
    assert w.owner.account.status == "open"  # nothing to hold back


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json['token']}"}


def test_the_case_is_public_and_driven_through_the_api(client, world, session):
    registry, maker, checker = _auth(client, world.registry), _auth(client, world.owner.maker), _auth(client, world.owner.checker)
    revoked = client.post(f"/api/v1/projects/{world.project.id}/transitions/revoke", headers=registry,
                          json={"reason": FINDING, "owed": 171_865, "owed_reason": "2021年数据属实", "cancel_by": "2027-01-06"})
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    case_id = client.get("/api/v1/public/fraud-cases").json["items"][0]["id"]
    proposal = client.post(f"/api/v1/fraud-cases/{case_id}/cancellations", headers=maker,
                           json={"quantity": 71_865, "project_no": 1, "vintage": 2022})
    assert proposal.status_code == 202 and proposal.json["status"] == "pending"
    assert client.post(f"/api/v1/approvals/{proposal.json['id']}/confirm", headers=checker).status_code == 200
    early = client.post(f"/api/v1/fraud-cases/{case_id}/enforcement", headers=registry, json={"order": "甘环执〔2027〕1号"})
    assert early.status_code == 409 and early.json["field"] == "cancel_by" and early.json["rule"].startswith("Measures Art. 43")

    listed = client.get("/api/v1/public/fraud-cases").json["items"]  # anonymous
    assert len(listed) == 1
    c = listed[0]
    assert {k: c[k] for k in ("project_no", "issued", "owed", "owed_reason", "cancel_by", "cancelled", "force_cancelled",
                              "shortfall", "outstanding", "status", "barred_until")} == {
        "project_no": 1, "issued": 471_865, "owed": 171_865, "owed_reason": "2021年数据属实", "cancel_by": "2027-01-06",
        "cancelled": 71_865, "force_cancelled": 0, "shortfall": None, "outstanding": 100_000,  # 171 865 − 71 865
        "status": "open", "barred_until": "2029-12-07"}
    assert [(x["purpose"], x["project_no"], x["vintage"], x["quantity"]) for x in c["cancellations"]] == [
        ("fraud_cancellation", 1, 2022, 71_865)]
    assert client.get(f"/api/v1/public/fraud-cases/{case_id}").json["finding"] == FINDING
