"""Demo registry: accounts for the demo parties, their listed projects with the published status, the
registered reductions of the listing issued as serial blocks, and a few of everything that happens to
CCERs afterwards — a sale through the exchange, a succession (non-trade transfer), a judicial freeze and its release,
and retirements for the national ETS, a large event, an enterprise and the public good.

All of it happens on one trading day before the demo exchange's first (ccer/cli/demo_cmd.py), after the
lifecycle walk: the platform clock only moves forward.

The listing gives each project's registered quantity, not its split by year of generation; the demo
books it to the first year of the crediting period (data/README.md says so)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import makerchecker
from ..auth.models import Organisation, User
from ..auth.services import actor_for
from . import DemoParties, demo_uscc, listing_rows
from ..infra.actor import Actor
from ..infra import clock
from ..issuance import accounts, registry_acts, retirements, trading
from ..issuance.models import Issuance
from ..projects.models import MonitoringPeriod
from ..methodologies import registry as methodologies
from ..projects import monitoring, services as projects
from ..projects.eligibility import REDUCTIONS_AFTER

DEMO = Actor.system("demo")


def _actor(session: Session, parties: DemoParties, username: str):
    return actor_for(session.get(User, parties.users[username]))


def _open_account(session: Session, org: Organisation):
    account = accounts.account_of(session, org.id) or accounts.apply_for_account(session, DEMO, org.id)
    if account.status == "pending":
        accounts.decide_account(session, DEMO, account.id, "open")
    return account


def _emitter(session: Session) -> Organisation:
    return session.execute(select(Organisation).where(Organisation.uscc == demo_uscc("华能演示电厂有限公司", "山东省"))).scalar_one()


def open_accounts(session: Session, parties: DemoParties) -> None:
    """The demo parties' registry accounts, opened at the start of the story (the lifecycle's issuances go into the
    owners' accounts). Idempotent."""
    for org in [*parties.owners.values(), _emitter(session), *parties.vvbs]:
        _open_account(session, org)


def seed_registry(session: Session, parties: DemoParties, day: date) -> dict:
    """The listing's projects and batches, then the sale, retirements, freeze and succession, on trading day `day`
    from 09:00 (the clock only moves forward: NO_REWIND in ccer.infra.clock). Idempotent: does nothing once
    the listing's batches are recorded."""
    if session.execute(select(MonitoringPeriod.id).where(MonitoringPeriod.origin == "listing")).first():
        return {}
    clock.set_time(session, datetime.combine(day, time(9, 0), tzinfo=clock.CST), freeze=True)
    installed = set(methodologies.installed())
    emitter = _emitter(session)
    open_accounts(session, parties)

    # the registry's acts on CCERs take two registry users: one proposes, the other confirms (issue 15)
    registry = (_actor(session, parties, "registry"), _actor(session, parties, "registry2"))
    issued = []
    for row in listing_rows():
        owner = parties.owners.get(row["owner"])
        if owner is None or row["methodology"] not in installed:
            continue
        registered = "已登记项目" in row["status"]
        start = date.fromisoformat(row["crediting_start"]) if row["crediting_start"] else None
        end = date.fromisoformat(row["crediting_end"]) if row["crediting_end"] else None
        project = projects.import_listed(session, DEMO, title=row["name"], methodology_code=row["methodology"],
                                         owner_id=owner.id, province=row["province"], crediting_start=start,
                                         crediting_end=end, registered=registered)
        quantity = int(row["actualRegistered"] or 0)
        if registered and quantity and start:
            issued += _issue_listed(session, registry, project, start, quantity)

    if not issued:
        return {"issuances": 0}
    first = issued[0]
    owner_org = session.get(Organisation, first.project.owner_id)
    owner_no = list(parties.owners.values()).index(owner_org) + 1
    maker, checker = _actor(session, parties, f"owner{owner_no}"), _actor(session, parties, f"owner{owner_no}-confirm")
    owner_account = accounts.account_of(session, owner_org.id)
    emitter_account = accounts.account_of(session, emitter.id)
    project_no = first.project.registry_no

    # a sale to the key emitter through the exchange, that day at 10:00: the owner's two users move the CCERs
    # into its trading account (maker–checker), the exchange delivers the trade, the emitter's two users move
    # them back into its registry account; the rest of the day's acts follow at 11:00
    em, em_confirm = _actor(session, parties, "emitter"), _actor(session, parties, "emitter-confirm")
    _sale(session, parties, (maker, checker, owner_account), (em, em_confirm, emitter_account), project_no, first.vintage, 60_000,
          datetime.combine(day, time(10, 0), tzinfo=clock.CST))
    clock.set_time(session, datetime.combine(day, time(11, 0), tzinfo=clock.CST), freeze=True)

    # the emitter offsets part of its 2025 obligation (cap: 5 % of 2 400 000 = 120 000 t)
    retirements.set_obligation(session, DEMO, emitter.id, 2025, 2_400_000, "演示数据：2025 年度配额分配（示例数值）")
    req = retirements.propose_retirement(session, em, emitter_account.id, quantity=45_000, purpose="national_ets",
                                      beneficiary_name=emitter.name, beneficiary_uscc=emitter.uscc, compliance_year=2025)
    makerchecker.confirm(session, em_confirm, req.id)

    # the owner retires for a large event, for its own emissions, and for the public good
    for fields in (
        dict(quantity=2_026, purpose="event_neutrality", beneficiary_name="2026 敦煌国际马拉松组委会（演示）",
             event_name="2026 敦煌国际马拉松（演示）", event_start="2026-05-17", event_end="2026-05-17"),
        dict(quantity=10_000, purpose="enterprise_offset", beneficiary_name=owner_org.name, beneficiary_uscc=owner_org.uscc),
        dict(quantity=500, purpose="public_good", beneficiary_name="公众（演示公益注销）"),
    ):
        req = retirements.propose_retirement(session, maker, owner_account.id, project_no=project_no, vintage=first.vintage, **fields)
        makerchecker.confirm(session, checker, req.id)

    # a court freezes part of the owner's holding and releases it; a succession moves another part
    proposer, confirmer = registry
    freeze = makerchecker.confirm(session, confirmer, registry_acts.propose_freeze(
        session, proposer, owner_account.id, authority="敦煌市人民法院（演示）", order_ref="（2026）甘0982执1号", quantity=1_000).id)
    makerchecker.confirm(session, confirmer, registry_acts.propose_release(
        session, proposer, freeze.id, reason="（2026）甘0982执1号之一 解除冻结裁定（演示）").id)
    heir = list(parties.owners.values())[1 if owner_no == 1 else 0]
    makerchecker.confirm(session, confirmer, registry_acts.propose_non_trade(
        session, proposer, "succession", owner_account.id, accounts.account_of(session, heir.id).id,
        "合并协议及市场监管部门变更登记通知书（演示）", quantity=3_000).id)
    return {"issuances": len(issued), "issued": sum(i.quantity for i in issued)}


def _issue_listed(session: Session, registry, project, crediting_start: date, quantity: int) -> list[Issuance]:
    """The listing's registered quantity as one listed batch, booked to the first year of the crediting period
    (the listing gives no split by year), then issued like any batch (Measures Art. 22): one registry user
    proposes, the other confirms."""
    start = max(crediting_start, REDUCTIONS_AFTER + timedelta(days=1))  # Measures Art. 17: generated after 2020-09-22
    end = min(date(start.year, 12, 31), project.crediting_end or date(start.year, 12, 31))
    mp = monitoring.import_listed_batch(session, DEMO, project.id, start, end, {start.year: quantity},
                                        "注册登记系统项目清单（第三方抓取，data/ccer_registry_projects.csv）")
    return makerchecker.confirm(session, registry[1], registry_acts.propose_issue(session, registry[0], mp.id).id)


def _sale(session: Session, parties: DemoParties, seller, buyer, project_no: int, vintage: int, quantity: int,
          morning: datetime) -> None:
    exchange = _actor(session, parties, "exchange")
    clock.set_time(session, morning, freeze=True)
    for _, _, account in (seller, buyer):
        if trading.binding_of(session, account.id) is None:
            trading.bind_trading_account(session, exchange, account.id, f"TA{account.number[2:]}")
    lot = {"project_no": project_no, "vintage": vintage, "quantity": quantity}
    makerchecker.confirm(session, seller[1], trading.propose_to_trading(session, seller[0], seller[2].id, **lot).id)
    trading.deliver(session, exchange, {"trade_ref": f"{morning:%Y%m%d}-000001", "seller": seller[2].number,
                                        "buyer": buyer[2].number, **lot})
    makerchecker.confirm(session, buyer[1], trading.propose_from_trading(session, buyer[0], buyer[2].id, **lot).id)
