"""Risk rules (Trading Rules Art. 36–43): maximum positions refused at order entry, lift, block agreement and
auction bid; the exchange's limits (most specific first) and the configured default; large-holder reports at
a share of the limit, filed after settlement and cleared when the position falls below; restrictions (the
exchange's, the registry's, fraud) stop blocks and auctions at once. Both databases."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.issuance import accounts as registry_accounts
from ccer.market import auctions, blocks, instruments, orders, risk, settlement
from ccer.market.models import LargeHolderReport, Order, Trade
from ccer.projects import lifecycle

from tests.market_world import CODE, MarketWorld, at


@pytest.fixture()
def m(session, parties, monkeypatch):
    for name in ("CCER_MARKET_FEES", blocks.MINIMUM_ENV, risk.LIMIT_ENV, risk.SHARE_ENV):
        monkeypatch.delenv(name, raising=False)
    return MarketWorld(session, parties, others=10_000)


def _refused(err) -> None:
    assert err.value.field == "quantity" and "最大持仓量" in err.value.rule


def test_the_configured_limit_at_order_entry_and_lift(m, session, monkeypatch):
    w = m.w
    monkeypatch.setenv(risk.LIMIT_ENV, "1000")
    with pytest.raises(ValidationError) as err:
        orders.place(session, w.emitter.maker, CODE, "buy", "80.00", 1_001)
    _refused(err)
    assert m.funds(w.emitter).reserved == 0
    orders.place(session, w.emitter.maker, CODE, "buy", "80.00", 600)
    with pytest.raises(ValidationError) as err:  # 600 open + 401 > 1,000
        orders.place(session, w.emitter.maker, CODE, "buy", "80.00", 401)
    _refused(err)
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 2_000)
    with pytest.raises(ValidationError) as err:  # the lift would fill 401 more
        orders.lift(session, w.emitter.maker, CODE, "buy", 401)
    _refused(err)
    assert not session.execute(select(Trade)).first()
    assert len(orders.lift(session, w.emitter.maker, CODE, "buy", 400)) == 1  # exactly 1,000 held or bought
    # the trader already holds 10,000 (> 1,000): it may sell, not buy
    assert orders.place(session, w.trader.maker, CODE, "sell", "80.00", 100).status == "open"
    with pytest.raises(ValidationError):
        orders.place(session, w.trader.maker, CODE, "buy", "80.00", 1)
    m.check()


def test_the_exchanges_limits_most_specific_first(m, session, monkeypatch):
    w = m.w
    monkeypatch.setenv(risk.LIMIT_ENV, "1000")
    emitter, inst = m.account(w.emitter), instruments.get(session, CODE)
    with pytest.raises(Forbidden):
        risk.set_position_limit(session, w.owner.maker, 5_000, CODE)
    risk.set_position_limit(session, m.ex, 50_000)  # everyone, everywhere: replaces the default
    assert risk.position_limit(session, emitter.id, inst.id) == 50_000
    risk.set_position_limit(session, m.ex, 20_000, trading_account_ref=emitter.number)  # the emitter, everywhere
    assert risk.position_limit(session, emitter.id, inst.id) == 20_000
    risk.set_position_limit(session, m.ex, 5_000, CODE)  # everyone in this instrument: first
    assert risk.position_limit(session, emitter.id, inst.id) == 5_000
    risk.set_position_limit(session, m.ex, 8_000, CODE, emitter.number, reason="控排企业履约需要")  # the emitter in it
    assert risk.position_limit(session, emitter.id, inst.id) == 8_000
    assert risk.position_limit(session, m.account(w.trader).id, inst.id) == 5_000
    risk.set_position_limit(session, m.ex, 9_000, CODE, emitter.number)  # changed in place
    risk.set_position_limit(session, m.ex, None, CODE, emitter.number)  # removed
    assert risk.position_limit(session, emitter.id, inst.id) == 5_000
    with pytest.raises(ValidationError) as err:
        risk.set_position_limit(session, m.ex, 0, CODE)
    assert err.value.field == "max_quantity"
    m.check()


def test_limits_apply_to_blocks_and_auctions(m, session):
    w = m.w
    risk.set_position_limit(session, m.ex, 120_000, CODE)
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 111_000, m.account(w.trader).number)
    with pytest.raises(ValidationError) as err:  # the trader holds 10,000: 121,000 > 120,000
        blocks.accept(session, w.trader.maker, ag.id)
    _refused(err)
    assert m.funds(w.trader).reserved == 0
    with pytest.raises(ValidationError) as err:
        blocks.propose(session, w.trader.maker, CODE, "buy", "80.00", 110_001, m.account(w.owner).number)
    _refused(err)
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 50_000, "80.00", datetime(2026, 12, 8, 10, 30), datetime(2026, 12, 8, 11, 0))
    at(session, 2026, 12, 8, 10, 40)
    auctions.bid(session, m.buyer2.maker, auction.id, "80.00", 50_000)  # 10,000 + 50,000
    auctions.bid(session, m.buyer2.maker, auction.id, "81.00", 50_000)  # + 50,000 = 110,000
    with pytest.raises(ValidationError) as err:  # every open bid counts as if it were filled
        auctions.bid(session, m.buyer2.maker, auction.id, "82.00", 10_001)
    _refused(err)
    m.check()


def test_large_holder_reports_after_settlement(m, session, monkeypatch):
    w = m.w
    monkeypatch.setenv(risk.SHARE_ENV, "0.75")
    risk.set_position_limit(session, m.ex, 20_001, CODE)  # threshold 0.75 × 20,001 = 15,000.75 → 15,001 t
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 5_001)
    orders.lift(session, w.trader.maker, CODE, "buy", 5_000)  # 10,000 + 5,000 = 15,000: below
    at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    reports = session.execute(select(LargeHolderReport)).scalars().all()
    assert {(r.trading_account_id, r.quantity) for r in reports} == {(m.account(w.owner).id, 195_000)}  # the owner (200,000 − 5,000), not the trader
    at(session, 2026, 12, 9, 10, 0)
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 1)
    orders.lift(session, w.trader.maker, CODE, "buy", 1)  # 15,001: reaches the threshold
    at(session, 2026, 12, 9, 15, 30)
    settlement.settle_day(session, m.ex)
    public = risk.large_holder_reports(session)
    trader = [r for r in public if r["trading_account"] == m.account(w.trader).number]
    assert [(r["day"], r["quantity"], r["max_quantity"], r["threshold"], r["status"]) for r in trader] == [
        ("2026-12-09", 15_001, 20_001, 15_001, "open")]
    at(session, 2026, 12, 10, 15, 30)
    settlement.settle_day(session, m.ex)  # still above: no second report
    assert len(session.execute(select(LargeHolderReport)).scalars().all()) == 2
    risk.set_position_limit(session, m.ex, 40_000, CODE)  # a wider limit: 30,000 threshold
    cleared = risk.monitor(session, m.ex)
    assert cleared == [] and {r["status"] for r in risk.large_holder_reports(session) if r["trading_account"] == m.account(w.trader).number} == {"cleared"}
    m.check()


def test_registry_restriction_and_fraud_stop_blocks_and_auctions(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", datetime(2026, 12, 8, 10, 30), datetime(2026, 12, 8, 11, 0))
    registry_accounts.decide_account(session, w.registry, w.trader.account.id, "restrict", "司法协助（测试）")
    with pytest.raises(Conflict, match="registry account"):
        blocks.propose(session, w.trader.maker, CODE, "buy", "80.00", 100_000, m.account(w.owner).number)
    at(session, 2026, 12, 8, 10, 40)
    with pytest.raises(Conflict, match="registry account"):
        auctions.bid(session, w.trader.maker, auction.id, "80.00", 100)
    bid = auctions.bid(session, w.emitter.maker, auction.id, "80.00", 1_000)
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, m.account(m.buyer2).number)
    # the project is revoked for fraud (Measures Art. 43): its CCERs stop trading at once
    lifecycle.fire(session, w.registry, w.project.id, "revoke", reason="监测数据造假（测试）")
    with pytest.raises(Conflict, match="suspended") as err:
        blocks.accept(session, m.buyer2.maker, ag.id)
    assert err.value.field == "instrument"
    with pytest.raises(Conflict, match="suspended"):
        auctions.bid(session, m.buyer3.maker, auction.id, "80.00", 100)
    at(session, 2026, 12, 8, 11, 0)
    closed = auctions.close(session, m.ex, auction.id)
    assert closed.status == "cancelled" and "RA00000001 is restricted" in closed.reason  # revocation restricts the owner's account too
    session.expire_all()
    assert session.get(Order, bid.id).status == "void" and m.funds(w.emitter).reserved == 0
    m.check()
