"""大宗协议 (block agreement, Trading Rules Art. 13, 16): the minimum quantity, ±30 % of the reference price
exactly and one tick beyond, entry naming the counterparty, its confirmation and the exchange's, funding
and reservation on each side's commitment, cancellation until the counterparty confirms, expiry at the close,
the 5-trading-day rule and restrictions, settlement. Figures by hand in the comments; both databases."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ccer.infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ccer.market import accounts, blocks, orders, positions, settlement
from ccer.market.models import BlockAgreement, Order, ReferencePrice, Trade

from tests.market_world import CODE, MarketWorld, at


@pytest.fixture()
def m(session, parties, monkeypatch):
    monkeypatch.delenv(blocks.MINIMUM_ENV, raising=False)
    monkeypatch.delenv("CCER_MARKET_FEES", raising=False)
    return MarketWorld(session, parties)


def _number(m, h) -> str:
    return m.account(h).number


@pytest.mark.parametrize("price, ok", [("56.00", True), ("55.99", False), ("104.00", True), ("104.01", False)])
def test_block_prices_within_thirty_percent_of_the_reference(m, session, price, ok):
    # reference 80.00: 80.00 × 0.7 = 56.00 … 80.00 × 1.3 = 104.00 exactly; one tick beyond refused (Art. 16)
    w = m.w
    if ok:
        ag = blocks.propose(session, w.owner.maker, CODE, "sell", price, 100_000, _number(m, w.trader))
        assert (ag.status, ag.price, m.position(w.owner).reserved) == ("proposed", int(price.replace(".", "")), 100_000)
    else:
        with pytest.raises(ValidationError) as err:
            blocks.propose(session, w.owner.maker, CODE, "sell", price, 100_000, _number(m, w.trader))
        assert err.value.field == "price" and "±30 %" in err.value.rule
        assert m.position(w.owner).reserved == 0 and not session.execute(select(BlockAgreement)).first()
    m.check()


def test_block_minimum_quantity_is_configurable(m, session, monkeypatch):
    w = m.w
    assert blocks.minimum() == 100_000  # the default (UNCONFIRMED for CCER)
    with pytest.raises(ValidationError) as err:
        blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 99_999, _number(m, w.trader))
    assert err.value.field == "quantity" and "Art. 13" in err.value.rule and "100000 t" in err.value.message
    monkeypatch.setenv(blocks.MINIMUM_ENV, "50000")
    with pytest.raises(ValidationError):
        blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 49_999, _number(m, w.trader))
    assert blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 50_000, _number(m, w.trader)).quantity == 50_000
    monkeypatch.setenv(blocks.MINIMUM_ENV, "lots")
    with pytest.raises(ValueError, match=blocks.MINIMUM_ENV):
        blocks.minimum()
    m.check()


def test_entered_confirmed_by_the_counterparty_and_the_exchange_then_settled(m, session, monkeypatch):
    # block fees are "to be announced"; with 1‰ a side: 100,000 t × 85.00 = 850,000,000 fen, fee 850,000 fen each
    monkeypatch.setenv("CCER_MARKET_FEES", '{"block": {"buy": "0.001", "sell": "0.001"}}')
    w = m.w
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "85.00", 100_000, _number(m, w.trader))
    assert m.position(w.owner).reserved == 100_000 and m.funds(w.trader).reserved == 0
    with pytest.raises(Forbidden) as err:  # the wrong counterparty
        blocks.accept(session, w.emitter.maker, ag.id)
    assert err.value.field == "agreement_id" and m.funds(w.emitter).reserved == 0
    with pytest.raises(Conflict, match="is proposed"):  # the exchange confirms only an agreed block
        blocks.confirm(session, m.ex, ag.id)
    blocks.accept(session, w.trader.maker, ag.id)
    assert m.funds(w.trader).reserved == 850_000_000 + 850_000
    with pytest.raises(Conflict, match="is agreed"):  # no longer cancellable by either side
        blocks.cancel(session, w.owner.maker, ag.id)
    with pytest.raises(Conflict, match="block agreement"):  # nor through its orders
        orders.cancel(session, w.owner.maker, ag.initiator_order_id)
    with pytest.raises(Forbidden):
        blocks.confirm(session, w.owner.maker, ag.id)  # the exchange confirms
    blocks.confirm(session, m.ex, ag.id)
    session.expire_all()
    trade = session.execute(select(Trade)).scalar_one()
    assert (trade.method, trade.price, trade.quantity, trade.amount, trade.buyer_fee, trade.seller_fee, trade.status) == (
        "block", 8500, 100_000, 850_000_000, 850_000, 850_000, "pending")
    assert (trade.seller_id, trade.buyer_id) == (m.account(w.owner).id, m.account(w.trader).id)
    assert {o.status for o in session.execute(select(Order)).scalars()} == {"filled"}
    assert blocks.agreements(session, w.trader.maker)[0]["trade"] == trade.ref
    assert blocks.agreements(session, w.emitter.maker) == []  # not its business
    m.check()

    at(session, 2026, 12, 8, 15, 30)
    report = settlement.settle_day(session, m.ex)
    assert (report.settled, report.turnover) == (1, 850_000_000)
    assert m.funds(w.trader).balance == 2_000_000_000 - 850_850_000 and m.funds(w.trader).reserved == 0
    assert m.funds(w.owner).balance == 850_000_000 - 850_000
    assert (m.position(w.owner).quantity, m.position(w.trader).quantity) == (100_000, 100_000)
    assert w.balance(w.trader, "trading") == 100_000  # the registry delivered
    # block trades do not make the reference price (Art. 17: listing-agreement VWAP): 80.00 carried
    ref = session.execute(select(ReferencePrice).where(ReferencePrice.day == date(2026, 12, 9))).scalar_one()
    assert (ref.price, ref.basis) == (8000, "carried")
    m.check()


def test_a_buyer_may_enter_and_the_seller_confirm(m, session):
    w = m.w
    ag = blocks.propose(session, w.emitter.maker, CODE, "buy", "79.00", 120_000, _number(m, w.owner))
    assert m.funds(w.emitter).reserved == 948_000_000  # 120,000 × 79.00; no block fee by default
    blocks.accept(session, w.owner.maker, ag.id)
    assert m.position(w.owner).reserved == 120_000
    blocks.confirm(session, m.ex, ag.id)
    assert session.execute(select(Trade.buyer_id, Trade.seller_id)).one() == (m.account(w.emitter).id, m.account(w.owner).id)
    m.check()


def test_unfunded_sides_are_refused_and_nothing_is_reserved(m, session):
    w = m.w
    with pytest.raises(ValidationError, match="free to sell") as err:  # the trader holds nothing
        blocks.propose(session, w.trader.maker, CODE, "sell", "80.00", 100_000, _number(m, w.emitter))
    assert err.value.field == "quantity" and "Art. 18" in err.value.rule
    with pytest.raises(ValidationError, match="fen free"):  # 300,000 × 70.00 = 21,000,000.00 CNY > 20,000,000.00
        blocks.propose(session, w.emitter.maker, CODE, "buy", "70.00", 300_000, _number(m, w.owner))
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "104.00", 200_000, _number(m, w.emitter))
    with pytest.raises(ValidationError, match="fen free"):  # 200,000 × 104.00 = 20,800,000.00 CNY > 20,000,000.00
        blocks.accept(session, w.emitter.maker, ag.id)
    assert m.funds(w.emitter).reserved == 0 and session.get(BlockAgreement, ag.id).status == "proposed"
    with pytest.raises(ValidationError, match="another participant"):
        blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.owner))
    with pytest.raises(NotFound) as err:
        blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, "TA99999999")
    assert err.value.field == "counterparty"
    m.check()


def test_cancelled_declined_rejected_and_expired_release_everything(m, session):
    w = m.w
    a = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    with pytest.raises(Forbidden):
        blocks.cancel(session, w.emitter.maker, a.id)  # not one of its sides
    assert blocks.cancel(session, w.owner.maker, a.id).status == "cancelled"
    b = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    assert blocks.cancel(session, w.trader.maker, b.id).status == "declined"
    c = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    blocks.accept(session, w.trader.maker, c.id)
    with pytest.raises(ValidationError):
        blocks.reject(session, m.ex, c.id, "  ")
    assert blocks.reject(session, m.ex, c.id, "疑似关联账户对敲（测试）").status == "rejected"
    assert m.position(w.owner).reserved == 0 and m.funds(w.trader).reserved == 0
    m.check()

    d = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))  # left proposed
    e = blocks.propose(session, w.emitter.maker, CODE, "buy", "80.00", 100_000, _number(m, w.owner))
    blocks.accept(session, w.owner.maker, e.id)  # agreed, never confirmed by the exchange
    assert m.position(w.owner).reserved == 200_000
    at(session, 2026, 12, 8, 15, 0)
    with pytest.raises(Conflict) as err:  # the session is over
        blocks.confirm(session, m.ex, e.id)
    assert err.value.field == "time"
    at(session, 2026, 12, 8, 15, 30)
    report = settlement.settle_day(session, m.ex)
    assert report.expired == 3  # the orders of two agreements: one proposed, one agreed
    session.expire_all()
    assert (session.get(BlockAgreement, d.id).status, session.get(BlockAgreement, e.id).status) == ("expired", "expired")
    assert m.position(w.owner).reserved == 0 and m.funds(w.emitter).reserved == 0
    at(session, 2026, 12, 9, 10, 0)
    with pytest.raises(Conflict):
        blocks.accept(session, w.trader.maker, d.id)
    m.check()


@pytest.mark.parametrize("when, ok", [((2026, 12, 8, 9, 29, 59), False), ((2026, 12, 8, 9, 30), True), ((2026, 12, 8, 11, 30), False),
                                      ((2026, 12, 8, 13, 0), True), ((2026, 12, 8, 14, 59, 59), True), ((2026, 12, 8, 15, 0), False)])
def test_blocks_only_in_the_sessions(session, parties, monkeypatch, when, ok):
    monkeypatch.delenv(blocks.MINIMUM_ENV, raising=False)
    monkeypatch.delenv("CCER_MARKET_FEES", raising=False)
    m = MarketWorld(session, parties, then=None)  # Monday 10:00, before every Tuesday instant tried: the clock moves forward
    at(session, *when)
    try:
        blocks.propose(session, m.w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, m.w.trader))
        entered = True
    except Conflict as err:
        entered = False
        assert err.field == "time" and "Art. 21" in err.rule
    assert entered == ok


def test_restrictions_and_the_five_day_rule_apply_to_both_sides(m, session):
    w = m.w
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    accounts.restrict(session, m.ex, _number(m, w.trader), "交易所限制交易（测试）")
    with pytest.raises(Conflict, match="restricted"):  # the counterparty may not commit
        blocks.accept(session, w.trader.maker, ag.id)
    with pytest.raises(Conflict, match="restricted") as err:
        blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    assert err.value.field == "counterparty"
    accounts.restrict(session, m.ex, _number(m, w.trader), "", restore=True)
    blocks.accept(session, w.trader.maker, ag.id)
    accounts.restrict(session, m.ex, _number(m, w.owner), "交易所限制交易（测试）")
    with pytest.raises(Conflict, match="restricted"):  # checked again when the exchange confirms: nothing traded
        blocks.confirm(session, m.ex, ag.id)
    assert not session.execute(select(Trade)).first()
    accounts.restrict(session, m.ex, _number(m, w.owner), "", restore=True)
    blocks.confirm(session, m.ex, ag.id)
    at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    # the trader bought on Tuesday 12-08: trading days after it 09, 10, 11, 14, 15 — it may sell from the 16th
    at(session, 2026, 12, 15, 10, 0)
    with pytest.raises(Conflict) as err:
        blocks.propose(session, w.trader.maker, CODE, "sell", "80.00", 100_000, _number(m, w.emitter))
    assert "Art. 29" in err.value.rule and "from 2026-12-16" in err.value.message
    ag2 = blocks.propose(session, w.emitter.maker, CODE, "buy", "80.00", 100_000, _number(m, w.trader))
    with pytest.raises(Conflict, match="Art. 29|from 2026-12-16"):  # nor commit to a sale as counterparty
        blocks.accept(session, w.trader.maker, ag2.id)
    at(session, 2026, 12, 16, 10, 0)
    ag3 = blocks.propose(session, w.emitter.maker, CODE, "buy", "80.00", 100_000, _number(m, w.trader))
    assert blocks.accept(session, w.trader.maker, ag3.id).status == "agreed"
    m.check()


def test_operators_need_the_block_permission(m, session, parties):
    w = m.w
    user = parties.user(w.owner.org)
    accounts.add_operator(session, m.ex, _number(m, w.owner), user.id, ["order"])
    with pytest.raises(Forbidden, match="may not block"):
        blocks.propose(session, parties.actor(user), CODE, "sell", "80.00", 100_000, _number(m, w.trader))
    m.check()


def test_a_move_out_of_the_trading_account_takes_back_a_blocks_units(m, session):
    # the registry's record is final: moving units out below what is reserved cancels the orders holding them
    # (positions.take_in_moves), and the exchange can then only reject the agreement, or it expires at the close
    w = m.w
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "80.00", 150_000, _number(m, w.trader))
    blocks.accept(session, w.trader.maker, ag.id)
    w.from_trading(w.owner, quantity=100_000, project_no=1, vintage=2021)
    positions.take_in_moves(session, m.ex)
    with pytest.raises(Conflict, match="is cancelled; reject the agreement"):
        blocks.confirm(session, m.ex, ag.id)
    blocks.reject(session, m.ex, ag.id, "卖方标的已转出")
    assert m.funds(w.trader).reserved == 0 and m.position(w.owner).reserved == 0
    m.check()
