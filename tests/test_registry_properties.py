"""Property test: random sequences of issuance, sales through the exchange, moves into and out of trading
accounts, days of settlement, freezes, releases and retirements. After every step the conservation
invariants hold (invariants.check), the chain verifies, and each account's holdings equal an independent
model kept in plain integers: a refused step must change nothing, an accepted one exactly what it says."""
from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from sqlalchemy import select

from ccer import ledger
from ccer.infra.db import make_session_factory
from ccer.infra.errors import DomainError
from ccer.issuance import invariants, services, trading
from ccer.issuance.holdings import block_serial, holdings
from ccer.issuance.models import SerialBlock
from tests.conftest import Parties, _wipe
from tests.registry_world import World

HOLDERS = ("owner", "trader", "emitter")
#: sequences per database; thousands of steps in all (each sequence runs up to 25 steps)
EXAMPLES = {"sqlite": int(os.environ.get("CCER_PROPERTY_EXAMPLES", 120)), "postgresql": 25}


class RegistryMachine(RuleBasedStateMachine):
    engine = None

    @initialize()
    def setup(self):
        _wipe(self.engine)
        self.session = make_session_factory(self.engine)()
        self.w = World(self.session, Parties(self.session))
        self.model: Counter = Counter()  # (holder, status) -> units
        self.batch = 0
        self.issued = 0
        self.freezes: list[tuple[int, str, int]] = []  # (freeze id, holder, quantity)
        self.trade_no = 0

    def teardown(self):
        if hasattr(self, "session"):
            self.session.close()

    def _holder(self, name):
        return getattr(self.w, name)

    def _try(self, fn) -> bool:
        try:
            fn()
            return True
        except DomainError:
            self.session.rollback()
            return False

    @rule(quantity=st.integers(1, 5000), vintage=st.sampled_from([2021, 2022, 2023]))
    def issue(self, quantity, vintage):
        self.batch += 1
        self.w.issue({vintage: quantity}, batch=self.batch)
        self.model[("owner", "available")] += quantity
        self.issued += quantity

    @rule(sender=st.sampled_from(HOLDERS), recipient=st.sampled_from(HOLDERS), quantity=st.integers(1, 6000))
    def transfer(self, sender, recipient, quantity):
        if sender == recipient:
            return
        ok = self._try(lambda: self.w.transfer(self._holder(sender), self._holder(recipient), quantity=quantity))
        assert ok == (quantity <= self.model[(sender, "available")])
        if ok:
            self.model[(sender, "available")] -= quantity
            self.model[(recipient, "available")] += quantity

    @rule(sender=st.sampled_from(HOLDERS), recipient=st.sampled_from(HOLDERS), data=st.data())
    def transfer_serial_range(self, sender, recipient, data):
        """A range cut out of the middle of a block: the sender keeps both ends."""
        if sender == recipient:
            return
        blocks = self.session.execute(select(SerialBlock).where(
            SerialBlock.account_id == self._holder(sender).account.id, SerialBlock.active,
            SerialBlock.status == "available").order_by(SerialBlock.first)).scalars().all()
        if not blocks:
            return
        b = data.draw(st.sampled_from(blocks))
        first = data.draw(st.integers(b.first, b.last))
        last = data.draw(st.integers(first, b.last))
        serial = block_serial(self.session, b, first, last)
        self.w.transfer(self._holder(sender), self._holder(recipient), serial=serial)
        self.model[(sender, "available")] -= last - first + 1
        self.model[(recipient, "available")] += last - first + 1

    @rule(holder=st.sampled_from(HOLDERS), quantity=st.integers(1, 3000))
    def retire(self, holder, quantity):
        expect = quantity <= self.model[(holder, "available")] and not self._spans_vintages(holder, quantity)
        ok = self._try(lambda: self.w.retire(self._holder(holder), quantity=quantity))
        assert ok == expect
        if ok:
            self.model[(holder, "available")] -= quantity
            self.model[(holder, "retired")] += quantity

    def _spans_vintages(self, holder, quantity) -> bool:
        """One retirement is one project and vintage (Trading Rules Art. 10): would the lowest serials the
        quantity takes cross a vintage?"""
        blocks = self.session.execute(select(SerialBlock).where(
            SerialBlock.account_id == self._holder(holder).account.id, SerialBlock.active,
            SerialBlock.status == "available").order_by(SerialBlock.first)).scalars()
        vintages, need = set(), quantity
        for b in blocks:
            vintages.add(b.vintage)
            need -= b.quantity
            if need <= 0:
                break
        return len(vintages) > 1

    def _system(self, holder) -> Counter:
        out = Counter()
        for r in holdings(self.session, self._holder(holder).account.id):
            out[r["status"]] += r["quantity"]
        return out

    @rule(holder=st.sampled_from(HOLDERS), quantity=st.integers(1, 3000))
    def freeze(self, holder, quantity):
        account = self._holder(holder).account
        made = []
        spendable = self.model[(holder, "available")] + self.model[(holder, "trading")]
        ok = self._try(lambda: made.append(self.w.freeze(self._holder(holder), authority="法院", order_ref="（2026）执1号",
                                                         quantity=quantity)))
        assert ok == (quantity <= spendable)
        if ok:
            now = self._system(holder)
            # lowest serials first, available or held for trading: the split between the two is the system's,
            # the totals are the model's
            assert now["available"] + now["trading"] == spendable - quantity
            assert now["frozen"] == self.model[(holder, "frozen")] + quantity
            for status in ("available", "trading", "frozen"):
                self.model[(holder, status)] = now[status]
            self.freezes.append((made[0].id, holder, quantity))

    @rule(data=st.data())
    def release_or_deduct(self, data):
        if not self.freezes:
            return
        fid, holder, quantity = self.freezes.pop(data.draw(st.integers(0, len(self.freezes) - 1)))
        to = holder
        if data.draw(st.booleans()):
            self.w.release(fid, reason="解除冻结")
        else:
            to = data.draw(st.sampled_from([h for h in HOLDERS if h != holder]))
            self.w.deduct(fid, self._holder(to), evidence="执行裁定书")
        self.model[(holder, "frozen")] -= quantity
        self.model[(to, "available")] += quantity

    @rule(holder=st.sampled_from(HOLDERS), quantity=st.integers(1, 2000), hold=st.booleans())
    def trading(self, holder, quantity, hold):
        move = self.w.to_trading if hold else self.w.from_trading
        before, after = ("available", "trading") if hold else ("trading", "available")
        ok = self._try(lambda: move(self._holder(holder), quantity=quantity))
        assert ok == (quantity <= self.model[(holder, before)])
        if ok:
            self.model[(holder, before)] -= quantity
            self.model[(holder, after)] += quantity

    @rule(trades=st.lists(st.tuples(st.sampled_from(HOLDERS), st.sampled_from(HOLDERS), st.sampled_from([2021, 2022, 2023]),
                                    st.integers(1, 1500)), max_size=6))
    def settle_day(self, trades):
        """A day's deliveries: each trade whole or refused, in order, against what the seller then holds in
        trading of that vintage (the split by vintage read before the day; the rest is plain arithmetic)."""
        held = Counter()
        for h in HOLDERS:
            for r in holdings(self.session, self._holder(h).account.id):
                if r["status"] == "trading":
                    held[(h, r["vintage"])] += r["quantity"]
        expect, day = [], []
        for seller, buyer, vintage, quantity in trades:
            self.trade_no += 1
            day.append({"trade_ref": f"P{self.trade_no}", "seller": self._holder(seller).account.number,
                        "buyer": self._holder(buyer).account.number, "project_no": 1, "vintage": vintage, "quantity": quantity})
            ok = seller != buyer and quantity <= held[(seller, vintage)]
            expect.append(ok)
            if ok:
                held[(seller, vintage)] -= quantity
                held[(buyer, vintage)] += quantity
                self.model[(seller, "trading")] -= quantity
                self.model[(buyer, "trading")] += quantity
        out = trading.deliver_day(self.session, self.w.exchange, day)
        assert [o.ok for o in out] == expect, [o.error and o.error.message for o in out]

    @invariant()
    def conserved(self):
        if not hasattr(self, "session"):
            return
        assert list(invariants.check(self.session)) == []
        total = Counter()
        for h in HOLDERS:
            for r in holdings(self.session, self._holder(h).account.id):
                total[(h, r["status"])] += r["quantity"]
        assert sum(total.values()) == self.issued  # nothing created or destroyed
        for key in ((h, s) for h in HOLDERS for s in ("available", "trading", "frozen", "retired")):
            assert total[key] == self.model[key], key


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_random_registry_sequences_keep_the_invariants(db_url, engine):
    RegistryMachine.engine = engine
    run = settings(max_examples=EXAMPLES[engine.dialect.name], stateful_step_count=25, deadline=None,
                   suppress_health_check=list(HealthCheck))
    RegistryMachine.TestCase.settings = run
    RegistryMachine.TestCase().runTest()
    session = make_session_factory(engine)()
    report = ledger.verify(session)  # the last sequence's whole chain, checkpoints and vouched states
    session.close()
    assert report.ok, [str(p) for p in report.problems]
