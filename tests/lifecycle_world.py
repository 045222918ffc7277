"""Parties and a frozen platform clock for walking projects through the lifecycle: an offshore-wind owner
(with its registry account), two VVBs accredited for energy (01), the registry (two users: registering a batch
proposes its issuance, the second confirms it), and a member of the public."""
from __future__ import annotations

from datetime import datetime

from ccer.infra import clock
from ccer.infra.clock import CST
from ccer.infra.actor import Actor
from ccer.auth import makerchecker
from ccer.issuance import accounts, registry_acts
from ccer.projects import comments, lifecycle, monitoring
from ccer.validation import services as vv

FACTS = {"distance_offshore_km": 34, "water_depth_m": 25, "grid": "华北", "crediting_start": "2022-04-01", "crediting_end": "2032-03-31"}
DESIGN = [{"start": "2024-01-01", "end": "2024-12-31", "EG_export": 803701, "EG_import": 1250, "EF_grid_OM": "0.9419", "EF_grid_BM": "0.4819"}]


def half(start, end, export, imported):
    return {"start": start, "end": end, "EG_export": export, "EG_import": imported, "EF_grid_OM": "0.9419", "EF_grid_BM": "0.4819",
            "export_meter_class": "0.2S", "export_calibration": "calibrated"}


#: 2023 H2 and 2024 H1: (400 000 − 500) × 0.7119 = 284 404.05 and (403 701 − 750) × 0.7119 = 286 860.8169
MONITORED = [half("2023-07-01", "2023-12-31", 400000, 500), half("2024-01-01", "2024-06-30", 403701, 750)]


class LifeWorld:
    def __init__(self, session, parties, now=datetime(2025, 3, 3, 9, 0)):
        self.s, self.parties = session, parties
        clock.set_time(session, now.replace(tzinfo=CST), freeze=True)
        session.commit()
        reg = parties.org(["registry_operator"], name="注册登记机构（测试）")
        self.registry = parties.actor(parties.user(reg))
        self.registry2 = parties.actor(parties.user(reg))
        self.owner_org = parties.org(["project_owner"], name="海上风电测试有限公司")
        self.owner = parties.actor(parties.user(self.owner_org))
        self.vvb_a_org = parties.org(["vvb"], name="审定机构甲", sectors=["01", "14"])
        self.vvb_a = parties.actor(parties.user(self.vvb_a_org))
        self.vvb_b_org = parties.org(["vvb"], name="核查机构乙", sectors=["01"])
        self.vvb_b = parties.actor(parties.user(self.vvb_b_org))
        self.public = Actor(label="anonymous", roles=frozenset({"public"}))
        acc = accounts.apply_for_account(session, self.owner, self.owner_org.id)
        accounts.decide_account(session, self.registry, acc.id, "open")

    def advance(self, days):
        from datetime import timedelta

        clock.advance(self.s, timedelta(days=days))
        self.s.commit()

    def project(self, **kw):
        args = dict(title="山东半岛南3号海上风电项目（测试）", methodology_code="CCER-01-002-V01", province="山东省",
                    construction_start="2019-06-01", facts=FACTS, periods=DESIGN)
        args.update(kw)
        return lifecycle.create(self.s, self.owner, **args)

    def engage(self, record, vvb_org, vvb, role="validation"):
        e = vv.engage(self.s, self.owner, role, record.id, vvb_org.id)
        vv.decide_engagement(self.s, vvb, e.id, True)
        return e

    def to_publicity(self):
        p = self.project()
        self.engage(p, self.vvb_a_org, self.vvb_a)
        lifecycle.fire(self.s, self.owner, p.id, "publicise")
        return p

    def to_validated(self):
        p = self.to_publicity()
        self.advance(40)  # 20 working days are at most ~4 weeks plus a holiday
        lifecycle.fire(self.s, self.vvb_a, p.id, "validate", comment_handling="无公众意见 no comments")
        return p

    def to_registered(self):
        p = self.to_validated()
        lifecycle.fire(self.s, self.owner, p.id, "apply")
        lifecycle.fire(self.s, self.registry, p.id, "register")
        return p

    def batch(self, p, periods=MONITORED, **kw):
        mp = monitoring.create(self.s, self.owner, p.id, periods, **kw)
        self.engage(mp, self.vvb_b_org, self.vvb_b, role="verification")
        return mp

    def register_batch(self, mp):
        """The registry registers the batch (which proposes its issuance) and its second user confirms the
        issuance; returns the issuances."""
        monitoring.fire(self.s, self.registry, mp.id, "register")
        return makerchecker.confirm(self.s, self.registry2, registry_acts.pending_issue(self.s, mp.id).id)

    def comment(self, record, kind="project", body="请说明海缆路由对渔业的影响。"):
        c = comments.submit(self.s, self.public, kind, record.id, "张三", body)
        comments.moderate(self.s, self.registry, c.id, True)
        return c
