"""An exchange to test the block agreement, one-way auctions, risk rules and market data against: the registry's
test world (tests/registry_world.py) with trading accounts for the owner (seller), the trading company and the
key emitter (buyers) and two more buyers, each operator allowed every menu; the owner has 200,000 t of
CCER-000001-2021 in its trading account, listed at 80.00 CNY/t from Tuesday 2026-12-08, and the buyers have
money. The clock stands at Tuesday 2026-12-08 10:00 Beijing time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ccer import ledger

from ccer.infra import clock
from ccer.market import accounts, instruments, positions, reconcile
from ccer.market.models import FundAccount, Position, TradingAccount

from tests.registry_world import World

CODE = "CCER-000001-2021"
ALL = ["order", "lift", "block", "auction", "funds"]


def at(session, *when):
    clock.set_time(session, datetime(*when, tzinfo=clock.CST), freeze=True)
    session.commit()


class MarketWorld:
    def __init__(self, session, parties, in_trading: int = 200_000, deposits: int = 2_000_000_000, others: int = 0,
                 then: tuple | None = (2026, 12, 8, 10, 0)):
        """`others`: tonnes the trading company and the two other buyers hold in their trading accounts too (bought
        from the owner through the registry before the exchange opened their accounts), so that they can sell.
        `then`: where the clock goes once the world is made on Monday 10:00 (None: it stays there; the clock never
        goes back once events exist, so a test of an earlier instant on Tuesday moves there itself)."""
        self.session = session
        self.w = w = World(session, parties)
        self.ex = w.exchange
        self.buyer2 = w.holder(["trading_participant"], "绿色低碳投资测试有限公司")
        self.buyer3 = w.holder(["trading_participant"], "碳中和服务测试有限公司")
        w.issue({2021: 300_000})
        if others:
            for h in (w.trader, self.buyer2, self.buyer3):
                w.transfer(w.owner, h, quantity=others)
            positions.take_in_moves(session, self.ex)  # past the registry's moves of these sales: no exchange account yet
        for h in (w.owner, w.trader, w.emitter, self.buyer2, self.buyer3):
            accounts.open_account(session, self.ex, h.org.id, bank_name="中国工商银行", bank_account_no=f"6222{h.org.id:012d}",
                                  bank_account_name=h.org.name)
            accounts.add_operator(session, self.ex, self.account(h).number, h.maker.user_id, ALL)
        w.to_trading(w.owner, quantity=in_trading)
        if others:
            for h in (w.trader, self.buyer2, self.buyer3):
                w.to_trading(h, quantity=others)
        positions.take_in_moves(session, self.ex)
        instruments.propose(session, w.owner.maker, CODE, "80.00")
        instruments.confirm(session, self.ex, CODE)  # Monday 2026-12-07: trading starts Tuesday 12-08
        for h in (w.trader, w.emitter, self.buyer2, self.buyer3):
            accounts.deposit(session, h.maker, deposits)  # 20,000,000.00 CNY each by default
        if then:
            at(session, *then)

    def account(self, h) -> TradingAccount:
        return self.session.execute(select(TradingAccount).where(TradingAccount.organisation_id == h.org.id)).scalar_one()

    def funds(self, h) -> FundAccount:
        self.session.expire_all()
        return accounts.funds_of(self.session, self.account(h))

    def position(self, h) -> Position:
        """The participant's position (a zero one, not stored, if it has none)."""
        self.session.expire_all()
        inst = instruments.get(self.session, CODE)
        pos = self.session.execute(select(Position).where(Position.trading_account_id == self.account(h).id,
                                                          Position.instrument_id == inst.id)).scalar_one_or_none()
        return pos or Position(quantity=0, reserved=0)

    def free_funds(self, h) -> int:
        f = self.funds(h)
        return f.balance - f.reserved

    def check(self, reconciled: bool = True) -> None:
        """The exchange reconciles with the registry and itself; the chain verifies."""
        self.session.expire_all()
        if reconciled:
            diffs = reconcile.differences(self.session)
            assert diffs == [], diffs
        report = ledger.verify(self.session)
        assert report.ok, [str(p) for p in report.problems]
