"""Issuance only from verified reductions (Measures Art. 17, 20–22): the registry issues a registered reduction
batch, exactly its verified quantity per vintage, once — through the service, the API and the CLI alike — and
refuses anything else naming the field and the rule, writing nothing. Issuing is maker–checker between two
registry users (issue 15): a refused batch is refused when proposed (the same checks), and again at confirmation.

The platform batch is tests/lifecycle_world.py's: 2023 H2 and 2024 H1 of an offshore wind farm,
(400 000 − 500) × 0.7119 = 284 404.05 → 284 404 t (2023) and (403 701 − 750) × 0.7119 = 286 860.8169 → 286 860 t
(2024), 571 264 t in all. The listed batches are tests/registry_world.py's."""
from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from ccer import ledger
from ccer.cli import main
from ccer.infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ccer.auth import makerchecker
from ccer.issuance import issuing, registry_acts, services
from ccer.issuance.holdings import block_serial
from ccer.issuance.issuing import ONCE_RULE
from ccer.issuance.models import Issuance, SerialBlock
from ccer.ledger import Event
from ccer.projects import lifecycle, monitoring
from ccer.projects.models import MonitoringPeriod
from tests.lifecycle_world import LifeWorld
from tests.registry_world import World

PASSWORD = "correct-horse-battery"
SOURCE = "测试：注册登记系统减排量登记公示"


def _counts(session) -> tuple[int, int, int]:
    """(issuances, serial blocks, events): what a refused issuance must leave as it found."""
    counts = tuple(session.execute(select(func.count()).select_from(m)).scalar_one() for m in (Issuance, SerialBlock, Event))
    session.commit()  # SQLite: end the read, which holds the write lock (BEGIN IMMEDIATE), before the app or CLI writes
    return counts


def _ok(session):
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def _serials(session, issuances) -> list[str]:
    return [block_serial(session, session.execute(select(SerialBlock).where(SerialBlock.issuance_id == i.id,
                                                                            SerialBlock.parent_id.is_(None))).scalar_one())
            for i in issuances]


def _applied_batch(w: LifeWorld):
    """A registered project with its first batch verified and applied for (not yet registered)."""
    p = w.to_registered()
    mp = w.batch(p)
    monitoring.fire(w.s, w.owner, mp.id, "publicise")
    w.advance(40)
    monitoring.fire(w.s, w.vvb_b, mp.id, "verify")
    monitoring.fire(w.s, w.owner, mp.id, "apply", quantity=571_264)
    return p, mp


# ---- the platform's batches --------------------------------------------------------------------------------------


def test_a_registered_batch_issues_exactly_its_verified_vintages_once(session, parties):
    w = LifeWorld(session, parties)
    p, mp = _applied_batch(w)
    before = _counts(session)
    with pytest.raises(Conflict) as err:  # applied, not registered yet
        registry_acts.propose_issue(session, w.registry, mp.id)
    assert (err.value.field, err.value.rule) == ("status", "Measures Art. 22")
    assert _counts(session) == before

    monitoring.fire(session, w.registry, mp.id, "register")  # registration proposes the batch's issuance …
    assert session.execute(select(func.count()).select_from(Issuance)).scalar_one() == 0
    req = registry_acts.pending_issue(session, mp.id)
    with pytest.raises(Forbidden):  # … which the registering user cannot confirm
        makerchecker.confirm(session, w.registry, req.id)
    makerchecker.confirm(session, w.registry2, req.id)  # a second registry user does: the batch is issued
    issued = session.execute(select(Issuance).order_by(Issuance.id)).scalars().all()
    assert [(i.vintage, i.quantity, i.first, i.last, i.batch, i.monitoring_period_id) for i in issued] == [
        (2023, 284_404, 1, 284_404, 1, mp.id),            # floor of 284 404.05
        (2024, 286_860, 284_405, 571_264, 1, mp.id)]      # 284 404 + 1 … 284 404 + 286 860
    assert sum(i.quantity for i in issued) == mp.verified_quantity == 571_264
    assert _serials(session, issued) == ["CN-CCER-01-000001-2023-001-000000000001-000000284404",
                                         "CN-CCER-01-000001-2024-001-000000284405-000000571264"]
    assert {i.account_id for i in issued} == {session.execute(select(SerialBlock.account_id)).scalars().first()}

    after = _counts(session)
    with pytest.raises(Conflict) as err:  # once
        registry_acts.propose_issue(session, w.registry, mp.id)
    assert (err.value.field, err.value.rule) == ("monitoring_period_id", ONCE_RULE) and "already issued" in err.value.message
    with pytest.raises(Conflict, match="already approved"):  # the request is confirmed once
        makerchecker.confirm(session, w.registry2, req.id)
    assert _counts(session) == after
    _ok(session)


def test_a_batch_not_verified_is_refused(session, parties):
    w = LifeWorld(session, parties)
    p = w.to_registered()
    mp = w.batch(p)
    before = _counts(session)
    for step in (None, "publicise"):  # draft, then in publicity: no verification report yet
        if step:
            monitoring.fire(session, w.owner, mp.id, step)
            before = _counts(session)
        with pytest.raises(Conflict) as err:
            registry_acts.propose_issue(session, w.registry, mp.id)
        assert err.value.field == "verified_quantity" and err.value.rule.startswith("Measures Art. 20")
        assert _counts(session) == before
    with pytest.raises(NotFound) as err:
        registry_acts.propose_issue(session, w.registry, 999)
    assert err.value.field == "monitoring_period_id"
    with pytest.raises(Forbidden):  # only the registry issues
        registry_acts.propose_issue(session, w.owner, mp.id)


def test_a_changed_quantity_is_refused(session, parties):
    """Rows edited behind the platform's back: issuance checks them again, and the chain names the edit."""
    world = World(session, parties)
    mp = monitoring.import_listed_batch(session, world.registry, world.project.id, "2021-01-01", "2021-12-31", {2021: 1000}, SOURCE)
    before = _counts(session)
    cases = [({"applied_quantity": 1_000_000}, "applied_quantity", "Measures Art. 21"),
             ({"vintages_json": '{"2021":1000000}'}, "vintages", "Measures Art. 20–22"),
             ({"vintages_json": '{"2021":400,"2022":600}'}, "vintages", "Measures Art. 17"),  # 2022 is outside 2021
             ({"status": "applied"}, "status", "Measures Art. 22")]
    for values, field, rule in cases:
        session.execute(update(MonitoringPeriod).where(MonitoringPeriod.id == mp.id).values(**values))
        session.commit()
        assert any(f"monitoring_period {mp.id} differs" in str(problem) for problem in ledger.verify(session).problems)
        with pytest.raises((ValidationError, Conflict)) as err:
            registry_acts.propose_issue(session, world.registry, mp.id)
        assert err.value.field == field and err.value.rule.startswith(rule), (values, err.value.to_dict())
        assert _counts(session) == before  # nothing written
        session.execute(update(MonitoringPeriod).where(MonitoringPeriod.id == mp.id).values(
            applied_quantity=1000, vintages_json='{"2021":1000}', status="registered"))
        session.commit()
    (iss,) = world.act(registry_acts.propose_issue(session, world.registry, mp.id))
    assert (iss.vintage, iss.quantity, iss.first, iss.last) == (2021, 1000, 1, 1000)
    _ok(session)


def test_a_revoked_projects_batch_is_not_issued(session, parties):
    world = World(session, parties)
    mp = monitoring.import_listed_batch(session, world.registry, world.project.id, "2021-01-01", "2021-12-31", {2021: 1000}, SOURCE)
    lifecycle.fire(session, world.registry, world.project.id, "revoke", reason="省生态环境厅认定篡改监测数据（测试）")
    before = _counts(session)
    with pytest.raises(Conflict) as err:
        registry_acts.propose_issue(session, world.registry, mp.id)
    assert (err.value.field, err.value.rule) == ("project_id", "Measures Art. 22")
    assert _counts(session) == before
    with pytest.raises(Conflict) as err:
        monitoring.import_listed_batch(session, world.registry, world.project.id, "2022-01-01", "2022-12-31", {2022: 5}, SOURCE)
    assert err.value.rule == "Measures Art. 22"


# ---- listed batches ---------------------------------------------------------------------------------------------


def test_a_listed_batch_is_recorded_with_its_provenance_and_checked(session, parties):
    world = World(session, parties)
    mp = monitoring.import_listed_batch(session, world.registry, world.project.id, date(2021, 1, 1), date(2022, 6, 30),
                                        {2021: 300_000, "2022": 171_865}, SOURCE)
    assert (mp.number, mp.status, mp.origin, mp.source) == (1, "registered", "listing", SOURCE)
    assert mp.verified_quantity == mp.applied_quantity == 471_865  # 300 000 + 171 865
    event = session.execute(select(Event).where(Event.action == "monitoring_period.imported")).scalar_one()
    assert '"source":"' + SOURCE in event.payload_json
    refusals = [
        (dict(start="2022-01-01", end="2022-12-31", vintages={2022: 1}), "start", "Measures Art. 17"),  # overlaps batch 1
        (dict(start="2020-01-01", end="2020-12-31", vintages={2020: 1}), "start", "Measures Art. 17"),  # before 2020-09-23
        (dict(start="2023-01-01", end="2023-12-31", vintages={2024: 1}), "vintages", "Measures Art. 17"),
        (dict(start="2023-01-01", end="2023-12-31", vintages={2023: 0}), "vintages", "Trading Rules Art. 10"),
        (dict(start="2023-01-01", end="2023-12-31", vintages={2023: 1}, source=" "), "source", "Measures Art. 22: registered with all materials disclosed"),
        (dict(start="2023-01-01", end="2023-12-31", vintages={2023: 1}, number=1), "number", "Measures Art. 17, 22: the same reductions are registered and issued once"),
    ]
    before = session.execute(select(func.count()).select_from(MonitoringPeriod)).scalar_one()
    for kw, field, rule in refusals:
        kw = {"source": SOURCE, **kw}
        with pytest.raises((ValidationError, Conflict)) as err:
            monitoring.import_listed_batch(session, world.registry, world.project.id, **kw)
        assert (err.value.field, err.value.rule) == (field, rule), kw
    with pytest.raises(Forbidden):
        monitoring.import_listed_batch(session, world.owner.maker, world.project.id, "2023-01-01", "2023-12-31", {2023: 1}, SOURCE)
    assert session.execute(select(func.count()).select_from(MonitoringPeriod)).scalar_one() == before


def test_a_platform_projects_batches_are_not_imported(session, parties):
    """A platform project's batches go through monitoring, verification and application instead. (Its own test:
    the lifecycle world starts in 2025, and the clock never goes back once events exist, ccer.infra.clock.)"""
    w = LifeWorld(session, parties)
    p = w.to_registered()
    with pytest.raises(Conflict) as err:
        monitoring.import_listed_batch(session, w.registry, p.id, "2023-01-01", "2023-12-31", {2023: 1}, SOURCE)
    assert (err.value.field, err.value.rule) == ("project_id", "Measures Art. 18–21")


# ---- the over-issuance of the issue: impossible through the service, the API and the CLI ----------------------


def test_no_free_quantity_through_the_service(session, parties):
    world = World(session, parties)
    assert not hasattr(services, "issue")  # the free-quantity issuance is gone
    with pytest.raises(TypeError):
        issuing.issue_batch(session, world.registry, project_id=world.project.id, batch=1, quantities={2024: 1_000_000})
    assert _counts(session)[0] == 0


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.json['token']}"}


def test_no_over_issuance_through_the_api(client, session, parties):
    world = World(session, parties)
    registry = _auth(client, world.registry)
    before = _counts(session)
    # a registered project with no monitoring period at all: 1 000 000 t asked for, twice under two batch numbers
    for batch in (1, 2):
        free = client.post("/api/v1/issuances", headers=registry,
                           json={"project_id": world.project.id, "batch": batch, "quantities": {"2024": 1_000_000}})
        assert free.status_code == 422 and free.json["field"] in ("monitoring_period_id", "project_id", "batch", "quantities")
    missing = client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": 999})
    assert missing.status_code == 404 and missing.json["field"] == "monitoring_period_id"
    assert _counts(session) == before

    mp = monitoring.import_listed_batch(session, world.registry, world.project.id, "2024-01-01", "2024-12-31", {2024: 1000}, SOURCE)
    proposed = client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": mp.id})
    assert proposed.status_code == 202 and proposed.json["status"] == "pending"  # a second registry user confirms
    stale = client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": mp.id})
    assert stale.status_code == 202
    mine = client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=registry)
    assert mine.status_code == 403 and mine.json["field"] == "actor"
    assert _counts(session)[0] == 0
    registry2 = _auth(client, world.registry2)
    done = client.post(f"/api/v1/approvals/{proposed.json['id']}/confirm", headers=registry2)
    assert done.status_code == 200 and done.json["status"] == "approved"
    issued = client.get("/api/v1/public/issuances").json["items"]
    assert [(i["vintage"], i["quantity"], i["first"], i["last"], i["monitoring_period_id"]) for i in issued] == [
        (2024, 1000, 1, 1000, mp.id)]
    again = client.post(f"/api/v1/approvals/{stale.json['id']}/confirm", headers=registry2)  # stale: the batch was issued
    assert again.status_code == 409 and again.json["rule"] == ONCE_RULE
    assert client.post("/api/v1/issuances", headers=registry, json={"monitoring_period_id": mp.id}).json["rule"] == ONCE_RULE
    # the same vintage again under another batch number: the same reductions are never registered twice
    with pytest.raises(ValidationError) as err:
        monitoring.import_listed_batch(session, world.registry, world.project.id, "2024-01-01", "2024-12-31", {2024: 1000}, SOURCE, number=2)
    assert err.value.rule == "Measures Art. 17" and "overlaps monitoring period 1" in err.value.message
    totals = client.get("/api/v1/public/totals").json
    assert totals["issued"] == 1000


def test_no_over_issuance_through_the_cli(db_url, session, parties):
    world = World(session, parties)
    project_id = world.project.id
    session.commit()

    def run(*args, user=world.registry.label):
        return CliRunner().invoke(main, ["--database", db_url, "registry", "issue", *args, "--as", user])

    def confirm(request_id, user):
        return CliRunner().invoke(main, ["--database", db_url, "registry", "confirm", str(request_id), "--as", user])

    before = _counts(session)
    out = run("--project-id", str(project_id), "--batch", "1", "--vintage-quantity", "2024=1000000")
    assert out.exit_code == 2 and "--vintage-quantity" in out.output  # no such option any more
    out = run("--project-id", str(project_id), "--batch", "1")
    assert out.exit_code == 2 and out.output.strip() == f"error: batch: project {project_id} has no batch 1"
    out = run("--project-id", str(project_id))
    assert out.exit_code == 2 and "give --batch-id, or --project-id with --batch" in out.output
    assert _counts(session) == before

    mp = monitoring.import_listed_batch(session, world.registry, project_id, "2024-01-01", "2024-12-31", {2024: 1000}, SOURCE)
    out = run("--project-id", str(project_id), "--batch", "1")
    assert out.exit_code == 0, out.output
    assert out.output.startswith("request ") and "ccer registry confirm" in out.output
    request_id = int(out.output.split()[1].rstrip(":"))
    out = confirm(request_id, world.registry.label)  # the proposer cannot confirm
    assert out.exit_code == 2 and "cannot confirm their own request" in out.output
    assert _counts(session)[0] == 0
    out = confirm(request_id, world.registry2.label)
    assert out.exit_code == 0, out.output
    assert out.output == (f"request {request_id} confirmed: registry.issue — issued 1,000 tCO2e "
                          "CN-CCER-01-000001-2024-001-000000000001-000000001000\n")
    out = run("--batch-id", str(mp.id))
    assert out.exit_code == 2 and "already issued" in out.output and ONCE_RULE in out.output
    assert _counts(session)[0] == 1
