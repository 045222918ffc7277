"""单向竞价 (one-way auction, Trading Rules Art. 14): sealed, funded bids within the window, allocation by price
then time with the last winner filled in part, uniform and pay-as-bid pricing for sell and buy auctions,
ties broken by time, results published, reservations released, settlement at the close. Allocations and
amounts computed by hand in the comments; both databases."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from ccer.infra import clock
from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.market import accounts, auctions, orders, settlement
from ccer.market.models import Auction, Order, Trade

from tests.market_world import CODE, MarketWorld, at

WINDOW = (datetime(2026, 12, 8, 10, 30, tzinfo=clock.CST), datetime(2026, 12, 8, 11, 0, tzinfo=clock.CST))


@pytest.fixture()
def m(session, parties, monkeypatch):
    monkeypatch.delenv("CCER_MARKET_FEES", raising=False)
    return MarketWorld(session, parties, others=10_000)


def _sell_auction(m, session, pricing):
    """The owner sells 10,000 t, reserve 80.00; five bids a minute apart from 10:31:
        trader  85.00 × 4,000   emitter 83.00 × 3,000   buyer2 83.00 × 5,000 (same price as the emitter, later)
        buyer3  81.00 × 2,000   trader  80.00 × 1,000
    Highest first: trader 4,000 (6,000 left), emitter 3,000 (3,000 left), buyer2 3,000 of its 5,000 (the
    last winner, in part), buyer3 and the trader's second bid nothing."""
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 10_000, "80.00", *WINDOW, pricing=pricing)
    bids = []
    for minute, (h, price, q) in enumerate([(w.trader, "85.00", 4_000), (w.emitter, "83.00", 3_000), (m.buyer2, "83.00", 5_000),
                                            (m.buyer3, "81.00", 2_000), (w.trader, "80.00", 1_000)], start=31):
        at(session, 2026, 12, 8, 10, minute)
        bids.append(auctions.bid(session, h.maker, auction.id, price, q))
    at(session, 2026, 12, 8, 11, 0)
    return auctions.close(session, m.ex, auction.id), bids


def test_sell_auction_uniform_pricing(m, session):
    w = m.w
    auction, bids = _sell_auction(m, session, "uniform")
    assert m.position(w.owner).reserved == 10_000
    # uniform: every winner pays the lowest accepted bid, 83.00
    assert [(b.status, b.filled) for b in bids] == [("filled", 4_000), ("filled", 3_000), ("partial", 3_000), ("lost", 0), ("lost", 0)]
    trades = session.execute(select(Trade).order_by(Trade.id)).scalars().all()
    assert [(t.buyer_id, t.price, t.quantity, t.amount, t.method) for t in trades] == [
        (m.account(w.trader).id, 8300, 4_000, 33_200_000, "auction"),   # 4,000 × 83.00 = 332,000.00 CNY
        (m.account(w.emitter).id, 8300, 3_000, 24_900_000, "auction"),  # 3,000 × 83.00 = 249,000.00
        (m.account(m.buyer2).id, 8300, 3_000, 24_900_000, "auction")]
    assert (auction.status, auction.allocated, auction.turnover, auction.clearing_price, auction.bids, auction.bidders, auction.winners) == (
        "closed", 10_000, 83_000_000, 8300, 5, 4, 3)
    # reservations: the trader's 85.00 bid (340,000.00) becomes its cost 332,000.00, its 80.00 bid is released;
    # buyer2's 5,000 × 83.00 = 415,000.00 becomes 249,000.00; buyer3's 162,000.00 released
    assert m.funds(w.trader).reserved == 33_200_000 and m.funds(m.buyer2).reserved == 24_900_000 and m.funds(m.buyer3).reserved == 0
    m.check()

    at(session, 2026, 12, 8, 15, 30)
    report = settlement.settle_day(session, m.ex)
    assert (report.settled, report.turnover) == (3, 83_000_000)
    assert m.funds(w.owner).balance == 83_000_000 and m.position(w.owner).quantity == 190_000
    assert (m.position(w.trader).quantity, m.position(m.buyer2).quantity) == (10_000 + 4_000, 10_000 + 3_000)
    assert m.funds(w.trader).balance == 2_000_000_000 - 33_200_000 and m.funds(w.trader).reserved == 0
    m.check()


def test_sell_auction_pay_as_bid(m, session):
    w = m.w
    auction, bids = _sell_auction(m, session, "pay_as_bid")
    trades = session.execute(select(Trade).order_by(Trade.id)).scalars().all()
    # each its own price: 4,000 × 85.00 + 3,000 × 83.00 + 3,000 × 83.00 = 340,000 + 249,000 + 249,000 = 838,000.00 CNY
    assert [(t.price, t.quantity, t.amount) for t in trades] == [(8500, 4_000, 34_000_000), (8300, 3_000, 24_900_000), (8300, 3_000, 24_900_000)]
    assert (auction.turnover, auction.clearing_price) == (83_800_000, None)
    assert m.funds(w.trader).reserved == 34_000_000
    published = auctions.results(session, auction.id)
    assert published["results"]["average_price"] == 8380  # 838,000.00 / 10,000
    m.check()


@pytest.mark.parametrize("pricing, prices, turnover", [
    # the emitter buys 5,000 t, reserve (the most it pays) 82.00; offers, lowest first:
    #   trader 79.00 × 1,000, buyer3 80.00 × 1,000, owner 81.00 × 2,000 (10:31), buyer2 81.00 × 2,000 (10:33, later: 1,000 of it)
    # uniform: all at the highest accepted offer, 81.00: 5,000 × 81.00 = 405,000.00 CNY
    ("uniform", [8100, 8100, 8100, 8100], 40_500_000),
    # pay-as-bid: 79,000 + 80,000 + 162,000 + 81,000 = 402,000.00 CNY
    ("pay_as_bid", [7900, 8000, 8100, 8100], 40_200_000),
])
def test_buy_auction_mirrors_the_rules(m, session, pricing, prices, turnover):
    w = m.w
    auction = auctions.create(session, w.emitter.maker, CODE, "buy", 5_000, "82.00", *WINDOW, pricing=pricing)
    assert m.funds(w.emitter).reserved == 41_000_000  # 5,000 × 82.00, no auction fee by default
    at(session, 2026, 12, 8, 10, 31)
    owner = auctions.bid(session, w.owner.maker, auction.id, "81.00", 2_000)
    with pytest.raises(ValidationError) as err:
        auctions.bid(session, w.owner.maker, auction.id, "82.01", 100)  # an offer above the reserve
    assert err.value.field == "price" and "reserve" in err.value.rule
    at(session, 2026, 12, 8, 10, 32)
    trader = auctions.bid(session, w.trader.maker, auction.id, "79.00", 1_000)
    at(session, 2026, 12, 8, 10, 33)
    buyer2 = auctions.bid(session, m.buyer2.maker, auction.id, "81.00", 2_000)
    at(session, 2026, 12, 8, 10, 34)
    buyer3 = auctions.bid(session, m.buyer3.maker, auction.id, "80.00", 1_000)
    assert m.position(m.buyer2).reserved == 2_000
    at(session, 2026, 12, 8, 11, 0)
    auctions.close(session, m.ex, auction.id)
    trades = session.execute(select(Trade).order_by(Trade.id)).scalars().all()
    assert [t.sell_order_id for t in trades] == [trader.id, buyer3.id, owner.id, buyer2.id]
    assert [t.quantity for t in trades] == [1_000, 1_000, 2_000, 1_000]
    assert [t.price for t in trades] == prices and sum(t.amount for t in trades) == turnover
    assert all(t.buyer_id == m.account(w.emitter).id for t in trades)
    assert m.funds(w.emitter).reserved == turnover  # the rest of 410,000.00 released
    assert m.position(m.buyer2).reserved == 1_000  # its unallocated 1,000 released
    m.check()
    at(session, 2026, 12, 8, 15, 30)
    assert settlement.settle_day(session, m.ex).settled == 4
    assert m.position(w.emitter).quantity == 5_000 and m.funds(w.emitter).balance == 2_000_000_000 - turnover
    m.check()


def test_ties_at_the_same_instant_go_by_entry(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW)
    at(session, 2026, 12, 8, 10, 45)
    first = auctions.bid(session, m.buyer3.maker, auction.id, "82.00", 800)
    second = auctions.bid(session, m.buyer2.maker, auction.id, "82.00", 800)  # same price, same second: entered after
    at(session, 2026, 12, 8, 11, 0)
    auctions.close(session, m.ex, auction.id)
    session.expire_all()
    assert (session.get(Order, first.id).filled, session.get(Order, second.id).filled) == (800, 200)
    m.check()


@pytest.mark.parametrize("when, ok", [((10, 29, 59), False), ((10, 30, 0), True), ((10, 59, 59), True), ((11, 0, 0), False)])
def test_bids_only_within_the_window(m, session, when, ok):
    auction = auctions.create(session, m.w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW)
    at(session, 2026, 12, 8, *when)
    if ok:
        assert auctions.bid(session, m.w.trader.maker, auction.id, "80.00", 100).status == "open"
    else:
        with pytest.raises(Conflict) as err:
            auctions.bid(session, m.w.trader.maker, auction.id, "80.00", 100)
        assert err.value.field == "time" and "Art. 14" in err.value.rule
        assert m.funds(m.w.trader).reserved == 0
    m.check()


def test_bids_are_funded_above_the_reserve_and_not_the_initiators(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 10_000, "80.00", *WINDOW)
    at(session, 2026, 12, 8, 10, 40)
    with pytest.raises(ValidationError) as err:
        auctions.bid(session, w.trader.maker, auction.id, "79.99", 100)  # below the reserve
    assert err.value.field == "price"
    with pytest.raises(Forbidden):
        auctions.bid(session, w.owner.maker, auction.id, "85.00", 100)
    with pytest.raises(ValidationError) as err:
        auctions.bid(session, w.trader.maker, auction.id, "80.00", 10_001)
    assert err.value.field == "quantity"
    poor = m.w.holder(["trading_participant"], "资金不足测试有限公司")
    accounts.open_account(session, m.ex, poor.org.id, bank_name="银行", bank_account_no="6222000", bank_account_name=poor.org.name)
    accounts.add_operator(session, m.ex, m.account(poor).number, poor.maker.user_id, ["auction", "funds"])
    accounts.deposit(session, poor.maker, 799_999)  # 7,999.99 CNY: 100 t at 80.00 needs 8,000.00
    with pytest.raises(ValidationError, match="fen free"):
        auctions.bid(session, poor.maker, auction.id, "80.00", 100)
    assert m.funds(poor).reserved == 0
    m.check()


def test_bids_are_sealed_until_the_close(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW)
    at(session, 2026, 12, 8, 10, 40)
    mine = auctions.bid(session, w.trader.maker, auction.id, "90.00", 600)
    auctions.bid(session, w.emitter.maker, auction.id, "85.00", 600)
    assert auctions.results(session, auction.id)["bids"] == []  # the public
    assert auctions.results(session, auction.id, w.owner.maker)["bids"] == []  # the initiator
    seen = auctions.results(session, auction.id, w.trader.maker)["bids"]
    assert [(b["order_id"], b["price"]) for b in seen] == [(mine.id, 9000)]
    assert auctions.announcements(session)[0]["results"] is None
    with pytest.raises(Conflict, match="takes bids until"):
        auctions.close(session, m.ex, auction.id)
    at(session, 2026, 12, 8, 11, 0)
    auctions.close(session, m.ex, auction.id)
    public = auctions.results(session, auction.id)
    assert public["results"]["clearing_price"] == 8500 and public["results"]["allocated"] == 1_000
    assert [(a["price"], a["allocated"], a["trade_price"], a["bidder"]) for a in public["allocations"]] == [
        (9000, 600, 8500, None), (8500, 400, 8500, None)]
    assert [a["bidder"] for a in auctions.results(session, auction.id, m.ex)["allocations"]] == [
        m.account(w.trader).number, m.account(w.emitter).number]
    m.check()


def test_withdrawn_bids_and_cancelled_auctions_release_everything(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW)
    with pytest.raises(Conflict, match="one-way auction"):  # not through the listing verbs
        orders.cancel(session, w.owner.maker, auction.order_id)
    at(session, 2026, 12, 8, 10, 40)
    b = auctions.bid(session, w.trader.maker, auction.id, "81.00", 500)
    with pytest.raises(Conflict, match="has opened"):
        auctions.cancel(session, w.owner.maker, auction.id)
    assert auctions.withdraw_bid(session, w.trader.maker, b.id).status == "cancelled"
    assert m.funds(w.trader).reserved == 0
    later = auctions.create(session, w.owner.maker, CODE, "sell", 2_000, "80.00", datetime(2026, 12, 8, 13, 0), datetime(2026, 12, 8, 14, 0))
    assert m.position(w.owner).reserved == 3_000
    with pytest.raises(Forbidden):
        auctions.cancel(session, w.trader.maker, later.id)
    assert auctions.cancel(session, w.owner.maker, later.id, "改期").status == "cancelled"
    assert m.position(w.owner).reserved == 1_000
    at(session, 2026, 12, 8, 11, 0)
    closed = auctions.close(session, m.ex, auction.id)  # no bids: nothing allocated, the owner's 1,000 released
    assert (closed.status, closed.allocated, closed.bids) == ("closed", 0, 0)
    assert m.position(w.owner).reserved == 0 and session.get(Order, auction.order_id).status == "expired"
    m.check()


def test_restrictions_at_the_close(m, session):
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW)
    at(session, 2026, 12, 8, 10, 40)
    restricted = auctions.bid(session, w.trader.maker, auction.id, "90.00", 1_000)
    other = auctions.bid(session, w.emitter.maker, auction.id, "81.00", 1_000)
    accounts.restrict(session, m.ex, m.account(w.trader).number, "限制交易（测试）")
    with pytest.raises(Conflict, match="restricted"):
        auctions.bid(session, w.trader.maker, auction.id, "90.00", 1)
    at(session, 2026, 12, 8, 11, 0)
    closed = auctions.close(session, m.ex, auction.id)
    session.expire_all()
    # the restricted bidder is left out; the next bid wins at its price (uniform, one winner)
    assert (session.get(Order, restricted.id).status, session.get(Order, other.id).filled, closed.clearing_price) == ("void", 1_000, 8100)
    assert m.funds(w.trader).reserved == 0
    m.check()

    at(session, 2026, 12, 8, 13, 0)
    second = auctions.create(session, w.owner.maker, CODE, "sell", 1_000, "80.00", datetime(2026, 12, 8, 13, 30), datetime(2026, 12, 8, 14, 0))
    at(session, 2026, 12, 8, 13, 40)
    auctions.bid(session, m.buyer2.maker, second.id, "80.00", 1_000)
    accounts.restrict(session, m.ex, m.account(w.owner).number, "限制交易（测试）")
    at(session, 2026, 12, 8, 14, 0)
    cancelled = auctions.close(session, m.ex, second.id)  # the initiator may no longer trade: the auction is called off
    assert cancelled.status == "cancelled" and "restricted" in cancelled.reason
    assert m.funds(m.buyer2).reserved == 0 and m.position(w.owner).reserved == 1_000  # the first auction's sale, unsettled
    m.check()


@pytest.mark.parametrize("start, end, field", [
    (datetime(2026, 12, 12, 10, 0), datetime(2026, 12, 12, 11, 0), "window_start"),  # a Saturday
    (datetime(2026, 12, 8, 9, 0), datetime(2026, 12, 8, 10, 30), "window_start"),    # before 9:30
    (datetime(2026, 12, 8, 14, 30), datetime(2026, 12, 8, 15, 1), "window_end"),     # after 15:00
    (datetime(2026, 12, 8, 11, 0), datetime(2026, 12, 8, 10, 30), "window_end"),     # ends before it starts
    (datetime(2026, 12, 8, 9, 45), datetime(2026, 12, 8, 10, 30), "window_start"),   # already begun (it is 10:00)
])
def test_windows_lie_within_one_trading_day(m, session, start, end, field):
    with pytest.raises(ValidationError) as err:
        auctions.create(session, m.w.owner.maker, CODE, "sell", 1_000, "80.00", start, end)
    assert err.value.field == field
    assert m.position(m.w.owner).reserved == 0
    with pytest.raises(ValidationError) as err:
        auctions.create(session, m.w.owner.maker, CODE, "sell", 1_000, "80.00", *WINDOW, pricing="dutch")
    assert err.value.field == "pricing"


def test_the_close_of_the_day_closes_and_settles_an_auction_at_national_scale(m, session):
    # the national ETS's first auctions (2025-07-16) sold 130,000 t for 9.77 M CNY; here the owner sells 130,000 t,
    # reserve 75.00, uniform: trader 75.30 × 60,000, emitter 75.20 × 50,000, buyer2 75.10 × 40,000 (20,000 of it)
    # → all at 75.10: 130,000 × 75.10 = 9,763,000.00 CNY
    w = m.w
    auction = auctions.create(session, w.owner.maker, CODE, "sell", 130_000, "75.00", datetime(2026, 12, 8, 13, 0),
                              datetime(2026, 12, 8, 14, 30))
    at(session, 2026, 12, 8, 13, 30)
    for h, price, q in [(w.trader, "75.30", 60_000), (w.emitter, "75.20", 50_000), (m.buyer2, "75.10", 40_000)]:
        auctions.bid(session, h.maker, auction.id, price, q)
    at(session, 2026, 12, 8, 15, 30)
    report = settlement.settle_day(session, m.ex)  # closes the auction, then delivers its trades
    closed = session.get(Auction, auction.id)
    assert (closed.status, closed.clearing_price, closed.turnover, report.settled, report.turnover) == (
        "closed", 7510, 976_300_000, 3, 976_300_000)
    assert (m.position(w.trader).quantity, m.position(w.emitter).quantity, m.position(m.buyer2).quantity) == (70_000, 50_000, 30_000)
    assert w.balance(w.emitter, "trading") == 50_000
    m.check()
