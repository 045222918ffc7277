"""Settlement disputes (Trading Rules Art. 32, 49–51): a party objects in writing before the next trading day's
open; the exchange records the outcome of its mediation. Both databases."""
from __future__ import annotations

import pytest

from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.market import disputes, orders, settlement

from tests.market_world import CODE, MarketWorld, at


@pytest.fixture()
def m(session, parties, monkeypatch):
    monkeypatch.delenv("CCER_MARKET_FEES", raising=False)
    return MarketWorld(session, parties)


def test_disputes_before_the_next_open(m, session):
    w = m.w
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 100)
    [trade] = orders.lift(session, w.trader.maker, CODE, "buy", 100)  # Tuesday 2026-12-08
    at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    with pytest.raises(Forbidden):
        disputes.raise_dispute(session, w.emitter.maker, trade.ref, "与我无关")
    with pytest.raises(ValidationError) as err:
        disputes.raise_dispute(session, w.trader.maker, trade.ref, "  ")
    assert err.value.field == "statement"
    at(session, 2026, 12, 9, 9, 29, 59)  # before Wednesday's open
    d = disputes.raise_dispute(session, w.trader.maker, trade.ref, "成交数量与委托不符（测试）")
    with pytest.raises(Conflict, match="already has an open dispute"):
        disputes.raise_dispute(session, w.trader.maker, trade.ref, "再次提出")
    at(session, 2026, 12, 9, 9, 30)
    with pytest.raises(Conflict) as err:  # the seller is too late: the data were accepted at the open
        disputes.raise_dispute(session, w.owner.maker, trade.ref, "价格有误")
    assert "Art. 32" in err.value.rule
    assert [x["trade"] for x in disputes.disputes(session, w.owner.maker)] == [trade.ref]  # a party sees it
    assert disputes.disputes(session, w.emitter.maker) == []
    with pytest.raises(Forbidden):
        disputes.resolve(session, w.trader.maker, d.id, "upheld", "自行认定")
    assert disputes.resolve(session, m.ex, d.id, "dismissed", "经核对系统记录，成交数量与委托一致").status == "dismissed"
    with pytest.raises(Conflict):
        disputes.resolve(session, m.ex, d.id, "upheld", "再次调解")
    m.check()
