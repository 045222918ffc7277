"""A small registry to test against: the registry operator, an owner with a registered project and an open
account, a key emitter, a trading company and a VVB, each with two users (initiator and confirmer)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ccer.auth import makerchecker
from ccer.issuance import accounts, retirements, services
from ccer.projects import services as projects

from tests.conftest import SYSTEM


@dataclass
class Holder:
    org: object
    account: object
    maker: object  # initiator actor
    checker: object  # confirmer actor


class World:
    def __init__(self, session, parties):
        self.session, self.parties = session, parties
        reg_org = parties.org(["registry_operator"], name="国家应对气候变化战略研究和国际合作中心")
        self.registry = parties.actor(parties.user(reg_org))
        self.owner = self.holder(["project_owner"], "敦煌光热测试有限公司")
        self.emitter = self.holder(["key_emitter"], "华能测试电厂有限公司")
        self.trader = self.holder(["trading_participant"], "碳资产测试有限公司")
        self.vvb = self.holder(["vvb"], "中环联合认证中心测试", sectors=["01"])
        self.project = projects.import_listed(
            session, SYSTEM, title="敦煌10万千瓦熔盐塔式光热发电项目", methodology_code="CCER-01-001-V01",
            owner_id=self.owner.org.id, province="甘肃省", crediting_start=date(2021, 1, 1),
            crediting_end=date(2030, 12, 31), registered=True)

    def holder(self, roles, name, sectors=None) -> Holder:
        org = self.parties.org(roles, name=name, sectors=sectors)
        maker = self.parties.actor(self.parties.user(org))
        checker = self.parties.actor(self.parties.user(org))
        account = accounts.apply_for_account(self.session, maker, org.id)
        accounts.decide_account(self.session, self.registry, account.id, "open")
        return Holder(org, account, maker, checker)

    def issue(self, quantities, batch=1, project=None):
        project = project or self.project
        return services.issue(self.session, self.registry, project_id=project.id, batch=batch, quantities=quantities)

    def transfer(self, sender: Holder, recipient: Holder, **spec):
        req = services.propose_transfer(self.session, sender.maker, sender.account.id, recipient.account.number, **spec)
        return makerchecker.confirm(self.session, sender.checker, req.id)

    def retire(self, holder: Holder, **fields):
        fields.setdefault("purpose", "public_good")
        fields.setdefault("beneficiary_name", holder.org.name)
        req = retirements.propose_retirement(self.session, holder.maker, holder.account.id, **fields)
        return makerchecker.confirm(self.session, holder.checker, req.id)

    def balance(self, holder: Holder, status="available") -> int:
        from ccer.issuance.holdings import holdings

        return sum(r["quantity"] for r in holdings(self.session, holder.account.id) if r["status"] == status)
