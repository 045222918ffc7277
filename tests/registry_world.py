"""A small registry to test against: the registry operator (two users: the registry's own acts on CCERs are
maker–checker, ccer/issuance/registry_acts.py), the exchange, an owner with a registered project
and an open account, a key emitter, a trading company and a VVB, each with two users (initiator and
confirmer) and, but for the VVB, a bound trading account. The platform clock stands on a trading day at
10:00 Beijing time (Monday 2026-12-07), when CCERs may move to and from trading accounts."""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from ccer.infra import clock
from ccer.auth import makerchecker
from ccer.issuance import accounts, registry_acts, retirements, trading
from ccer.projects import monitoring, services as projects

from tests.conftest import SYSTEM


@dataclass
class Holder:
    org: object
    account: object
    maker: object  # initiator actor
    checker: object  # confirmer actor


class World:
    def __init__(self, session, parties, at: datetime | None = None):
        """`at`: where the clock stands (TRADING_MORNING unless given), set before the first event — the platform clock
        never goes back once events exist (ccer.infra.clock NO_REWIND), so a test needing an earlier date gives it here."""
        self.session, self.parties = session, parties
        clock.set_time(session, at or TRADING_MORNING, freeze=True)
        reg_org = parties.org(["registry_operator"], name="国家应对气候变化战略研究和国际合作中心")
        self.registry = parties.actor(parties.user(reg_org))
        self.registry2 = parties.actor(parties.user(reg_org))  # confirms what `registry` proposes
        exchange_org = parties.org(["exchange_operator"], name="北京绿色交易所测试")
        self.exchange = parties.actor(parties.user(exchange_org))
        self._trades = itertools.count(1)
        self.owner = self.holder(["project_owner"], "敦煌光热测试有限公司")
        self.emitter = self.holder(["key_emitter"], "华能测试电厂有限公司")
        self.trader = self.holder(["trading_participant"], "碳资产测试有限公司")
        self.vvb = self.holder(["vvb"], "中环联合认证中心测试", sectors=["01"])
        self.project = projects.import_listed(
            session, SYSTEM, title="敦煌10万千瓦熔盐塔式光热发电项目", methodology_code="CCER-01-001-V01",
            owner_id=self.owner.org.id, province="甘肃省", crediting_start=date(2021, 1, 1),
            crediting_end=date(2030, 12, 31), registered=True)

    def holder(self, roles, name, sectors=None, bind=True) -> Holder:
        org = self.parties.org(roles, name=name, sectors=sectors)
        maker = self.parties.actor(self.parties.user(org))
        checker = self.parties.actor(self.parties.user(org))
        account = accounts.apply_for_account(self.session, maker, org.id)
        accounts.decide_account(self.session, self.registry, account.id, "open")
        if bind and "vvb" not in roles:
            trading.bind_trading_account(self.session, self.exchange, account.id, f"TA{account.id:08d}")
        return Holder(org, account, maker, checker)

    def issue(self, quantities, batch=1, project=None):
        """Record batch `batch` of a listed project with these vintages ({year: tCO2e}) and issue it through
        the only issuance path (issuing.issue_batch, proposed by `registry`, confirmed by `registry2`); returns its
        issuances, one per vintage. The batch runs
        from the first day of its first vintage's year that no other batch of the project covers to the first
        such day of its last vintage's year, so that batches of one vintage never overlap."""
        project = project or self.project
        years = sorted(int(y) for y in quantities)
        mp = monitoring.import_listed_batch(self.session, self.registry, project.id, self._free_day(project, years[0]),
                                            self._free_day(project, years[-1]), dict(quantities), "测试：注册登记系统公示的减排量登记",
                                            number=batch)
        return self.act(registry_acts.propose_issue(self.session, self.registry, mp.id))

    def act(self, request):
        """Confirm a registry act `registry` proposed, as `registry2`; returns what the act returns."""
        return makerchecker.confirm(self.session, self.registry2, request.id)

    def freeze(self, holder: Holder, **kw):
        return self.act(registry_acts.propose_freeze(self.session, self.registry, holder.account.id, **kw))

    def release(self, freeze_id: int, reason: str = "解除冻结"):
        return self.act(registry_acts.propose_release(self.session, self.registry, freeze_id, reason))

    def deduct(self, freeze_id: int, to: Holder, evidence: str = "执行裁定书"):
        return self.act(registry_acts.propose_deduct(self.session, self.registry, freeze_id, to.account.number, evidence))

    def non_trade(self, kind: str, sender: Holder, recipient: Holder, evidence: str, **spec):
        return self.act(registry_acts.propose_non_trade(self.session, self.registry, kind, sender.account.id, recipient.account.id,
                                                        evidence, **spec))

    def force_cancel(self, holder: Holder, order: str, **spec):
        return self.act(registry_acts.propose_force_cancel(self.session, self.registry, holder.account.id, order=order, **spec))

    def _free_day(self, project, year: int) -> date:
        from datetime import timedelta

        from sqlalchemy import select

        from ccer.projects.models import MonitoringPeriod

        periods = self.session.execute(select(MonitoringPeriod.start, MonitoringPeriod.end)
                                       .where(MonitoringPeriod.project_id == project.id)).all()
        day = date(year, 1, 1)
        while any(start <= day <= end for start, end in periods):
            day = next(end for start, end in periods if start <= day <= end) + timedelta(days=1)
        return day

    def to_trading(self, holder: Holder, **spec):
        req = trading.propose_to_trading(self.session, holder.maker, holder.account.id, **spec)
        return makerchecker.confirm(self.session, holder.checker, req.id)

    def from_trading(self, holder: Holder, **spec):
        req = trading.propose_from_trading(self.session, holder.maker, holder.account.id, **spec)
        return makerchecker.confirm(self.session, holder.checker, req.id)

    def deliver(self, seller: Holder, buyer: Holder, project_no: int, vintage: int, quantity: int):
        return trading.deliver(self.session, self.exchange, {
            "trade_ref": f"T{next(self._trades):06d}", "seller": seller.account.number, "buyer": buyer.account.number,
            "project_no": project_no, "vintage": vintage, "quantity": quantity})

    def transfer(self, sender: Holder, recipient: Holder, **spec):
        """A sale through the exchange, the only way holdings change hands between holders: the seller moves
        the units into its trading account, the exchange delivers the trade(s), the buyer moves them back.
        Returns the last delivery."""
        moved = self.to_trading(sender, **spec)
        lots = defaultdict(int)
        for b in moved:
            lots[(self._project_no(b.project_id), b.vintage)] += b.quantity
        last = None
        for (project_no, vintage), quantity in lots.items():
            last = self.deliver(sender, recipient, project_no, vintage, quantity)
            self.from_trading(recipient, quantity=quantity, project_no=project_no, vintage=vintage)
        return last

    def _project_no(self, project_id: int) -> int:
        from ccer.projects.models import Project

        return self.session.get(Project, project_id).registry_no

    def retire(self, holder: Holder, **fields):
        fields.setdefault("purpose", "public_good")
        fields.setdefault("beneficiary_name", holder.org.name)
        req = retirements.propose_retirement(self.session, holder.maker, holder.account.id, **fields)
        return makerchecker.confirm(self.session, holder.checker, req.id)

    def balance(self, holder: Holder, status="available") -> int:
        from ccer.issuance.holdings import holdings

        return sum(r["quantity"] for r in holdings(self.session, holder.account.id) if r["status"] == status)


#: Monday 2026-12-07 10:00 Beijing time: a trading day, inside 9:30–15:00
TRADING_MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=clock.CST)
