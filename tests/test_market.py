"""The exchange (ccer/market): accounts and funds, listing T+1, sessions, price limits and tick, funded
orders, lifting in price-then-time priority, cancellation, the 5-trading-day rule, end-of-day delivery
versus payment through the registry, reference prices and reconciliation. Figures are computed by hand in
the comments; both databases."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, text

from ccer import ledger

from ccer.infra import clock
from ccer.infra.errors import Conflict, Forbidden, ValidationError
from ccer.market import accounts, instruments, orders, positions, reconcile, settlement
from ccer.market.models import FundAccount, Position, ReferencePrice, Trade

from tests.registry_world import World

CODE = "CCER-000001-2021"


def _at(session, *when):
    clock.set_time(session, datetime(*when, tzinfo=clock.CST), freeze=True)
    session.commit()


class Market:
    """The registry's test world with an exchange: the owner sells, the trader and the emitter buy."""

    def __init__(self, session, parties, at=None, then=(2026, 12, 8, 10, 0)):
        """Made at `at` (tests/registry_world.py: Monday 2026-12-07 10:00 unless given), then the clock moved to
        `then` (None: left there)."""
        self.session = session
        self.w = w = World(session, parties, at=at)
        self.ex = w.exchange
        for h in (w.owner, w.trader, w.emitter):
            accounts.open_account(session, self.ex, h.org.id, bank_name="中国工商银行", bank_account_no=f"6222{h.org.id:012d}",
                                  bank_account_name=h.org.name)
            accounts.add_operator(session, self.ex, self.account(h).number, h.maker.user_id, ["order", "lift", "funds"])
        w.issue({2021: 10_000})
        w.to_trading(w.owner, quantity=5_000)
        positions.take_in_moves(session, self.ex)
        instruments.propose(session, w.owner.maker, CODE, "80.00")
        instruments.confirm(session, self.ex, CODE)  # Monday 2026-12-07 (by default): trading starts Tuesday 12-08
        accounts.deposit(session, w.trader.maker, 20_000_000)  # 200,000.00 CNY
        accounts.deposit(session, w.emitter.maker, 5_000_000)
        if then:
            _at(session, *then)

    def account(self, h):
        return self.session.execute(select(accounts.TradingAccount).where(accounts.TradingAccount.organisation_id == h.org.id)).scalar_one()

    def funds(self, h) -> FundAccount:
        self.session.expire_all()
        return accounts.funds_of(self.session, self.account(h))

    def position(self, h) -> Position:
        self.session.expire_all()
        return positions.position(self.session, self.account(h).id, instruments.get(self.session, CODE).id)


@pytest.fixture()
def m(session, parties):
    return Market(session, parties)


def test_listing_takes_effect_the_next_trading_day(session, parties):
    mk = Market.__new__(Market)
    mk.session, mk.w = session, World(session, parties)
    w, mk.ex = mk.w, mk.w.exchange
    accounts.open_account(session, mk.ex, w.owner.org.id, bank_name="银行", bank_account_no="6222", bank_account_name=w.owner.org.name)
    accounts.add_operator(session, mk.ex, mk.account(w.owner).number, w.owner.maker.user_id, ["order"])
    w.issue({2021: 100})
    w.to_trading(w.owner, quantity=100)
    assert positions.take_in_moves(session, mk.ex) == 1 and mk.position(w.owner).quantity == 100
    with pytest.raises(ValidationError) as err:
        instruments.propose(session, w.owner.maker, CODE, "80.001")
    assert err.value.rule.startswith("Trading Rules Art. 11")
    instruments.propose(session, w.owner.maker, CODE, "80.00")
    inst = instruments.confirm(session, mk.ex, CODE)
    assert inst.listed_from == date(2026, 12, 8)  # confirmed Monday 12-07 → T+1
    with pytest.raises(Conflict, match="trades from 2026-12-08"):
        orders.place(session, w.owner.maker, CODE, "sell", "80.00", 10)


@pytest.mark.parametrize("price, ok", [("72.00", True), ("71.99", False), ("88.00", True), ("88.01", False)])
def test_listing_orders_within_ten_percent_of_the_reference(m, session, price, ok):
    # reference 80.00 → 72.00 … 88.00 exactly, one tick beyond refused (Art. 16)
    if ok:
        assert orders.place(session, m.w.owner.maker, CODE, "sell", price, 10).price == int(price.replace(".", ""))
    else:
        with pytest.raises(ValidationError) as err:
            orders.place(session, m.w.owner.maker, CODE, "sell", price, 10)
        assert err.value.field == "price" and "±10 %" in err.value.rule


@pytest.mark.parametrize("when, ok", [
    ((2026, 12, 8, 9, 29, 59), False), ((2026, 12, 8, 9, 30), True), ((2026, 12, 8, 11, 29, 59), True),
    ((2026, 12, 8, 11, 30), False), ((2026, 12, 8, 13, 0), True), ((2026, 12, 8, 15, 0), False),
    ((2027, 2, 20, 10, 0), False),  # a Saturday
    ((2026, 2, 14, 10, 0), False),  # Saturday 2026-02-14: a make-up working day (调休), not a trading day
])
def test_orders_only_in_the_sessions(session, parties, when, ok):
    # the market is made on Thursday 2026-02-12 10:00 (listed from Friday 02-13), before every instant tried: the
    # clock then moves forward to `when` (it never goes back once events exist, ccer.infra.clock)
    m = Market(session, parties, at=datetime(2026, 2, 12, 10, 0, tzinfo=clock.CST), then=None)
    _at(session, *when)
    try:
        orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 1)
        placed = True
    except Conflict as err:
        placed = False
        assert err.field == "time" and "Art. 21" in err.rule
    assert placed == ok


def test_orders_are_funded_and_reserve_what_they_need(m, session):
    with pytest.raises(ValidationError, match="free to sell"):
        orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 5_001)  # 5,000 in trading
    with pytest.raises(ValidationError, match="fen free"):
        # 625 t × 80.00 = 5,000,000 fen + 6‰ = 5,030,000 > the emitter's 5,000,000
        orders.place(session, m.w.emitter.maker, CODE, "buy", "80.00", 625)
    orders.place(session, m.w.emitter.maker, CODE, "buy", "80.00", 621)  # 4,968,000 + 29,808 = 4,997,808 fen
    assert m.funds(m.w.emitter).reserved == 4_997_808
    with pytest.raises(ValidationError):
        orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 0)  # the lot is 1 t
    assert reconcile.differences(session) == []


def test_lifting_goes_by_price_then_time_and_settles_delivery_versus_payment(m, session):
    w = m.w
    a = orders.place(session, w.owner.maker, CODE, "sell", "80.00", 1_000)  # first
    b = orders.place(session, w.owner.maker, CODE, "sell", "79.50", 1_000)  # better price, later
    c = orders.place(session, w.owner.maker, CODE, "sell", "80.00", 500)    # same price as a, later
    trades = orders.lift(session, w.trader.maker, CODE, "buy", 1_500)
    assert [(t.sell_order_id, t.price, t.quantity) for t in trades] == [(b.id, 7950, 1_000), (a.id, 8000, 500)]
    orders.cancel(session, w.owner.maker, a.id)  # its unfilled 500 go back; the filled 500 stand
    with pytest.raises(Conflict):
        orders.cancel(session, w.owner.maker, b.id)  # filled: final
    assert m.position(w.owner).reserved == 500 + 1_000 + 500  # c's 500 open, and the 1,500 sold until settled
    # buyer's cost: 7,950,000 + 47,700 (6‰) + 4,000,000 + 24,000 = 12,021,700 fen reserved until settlement
    assert m.funds(w.trader).reserved == 12_021_700
    assert reconcile.differences(session) == []

    with pytest.raises(Conflict, match="closes at 15:00"):
        settlement.settle_day(session, m.ex)
    _at(session, 2026, 12, 8, 15, 30)
    report = settlement.settle_day(session, m.ex)
    assert (report.settled, report.failed, report.expired, report.turnover) == (2, 0, 1, 11_950_000)  # c expired
    assert m.funds(w.trader).balance == 20_000_000 - 12_021_700 and m.funds(w.trader).reserved == 0
    assert m.funds(w.owner).balance == 11_950_000 - 47_700 - 24_000  # 11,878,300: sale less the seller's 6‰
    assert (m.position(w.owner).quantity, m.position(w.owner).reserved, m.position(w.trader).quantity) == (3_500, 0, 1_500)
    assert w.balance(w.trader, "trading") == 1_500 and w.balance(w.owner, "trading") == 3_500  # the registry agrees
    assert all(t.status == "settled" and t.transfer_id for t in session.execute(select(Trade)).scalars())
    # tomorrow's reference: VWAP 11,950,000 / 1,500 = 7,966.67 → 79.67 CNY/t
    ref = session.execute(select(ReferencePrice).where(ReferencePrice.day == date(2026, 12, 9))).scalar_one()
    assert (ref.price, ref.basis) == (7967, "vwap")
    assert reconcile.differences(session) == []
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def test_reconciliation_names_what_was_altered_behind_the_platforms_back(m, session):
    orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 100)
    session.execute(text("UPDATE market_positions SET quantity = quantity + 7"))
    session.commit()
    diffs = reconcile.differences(session)
    assert any("position is 5007 t, the registry's trading holding 5000 t" in d for d in diffs)
    session.execute(text("UPDATE market_positions SET quantity = quantity - 7"))
    session.execute(text("UPDATE market_fund_accounts SET balance = balance + 1"))
    session.commit()
    assert any("fund balance 20000001 fen, its movements sum to 20000000 fen" in d for d in reconcile.differences(session))


def test_five_trading_days_between_buying_and_selling(m, session):
    w = m.w
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 100)
    orders.lift(session, w.trader.maker, CODE, "buy", 100)  # bought Tuesday 2026-12-08
    _at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    # trading days after 12-08: 09, 10, 11, 14, 15 (5th), 16 (6th) — five strictly between first on the 16th
    _at(session, 2026, 12, 15, 10, 0)
    with pytest.raises(Conflict) as err:
        orders.place(session, w.trader.maker, CODE, "sell", "80.00", 10)
    assert "Art. 29" in err.value.rule and "from 2026-12-16" in err.value.message
    _at(session, 2026, 12, 16, 10, 0)
    assert orders.place(session, w.trader.maker, CODE, "sell", "80.00", 10).status == "open"


def test_restricted_accounts_and_staff_do_not_trade(m, session):
    from ccer.issuance import accounts as registry_accounts

    registry_accounts.decide_account(session, m.w.registry, m.w.trader.account.id, "restrict", reason="信息不符（测试）")
    with pytest.raises(Conflict) as err:  # the registry's restriction stops trading at once
        orders.place(session, m.w.trader.maker, CODE, "buy", "80.00", 10)
    assert err.value.rule.startswith("Registry Rules Art. 10")
    accounts.restrict(session, m.ex, m.account(m.w.owner).number, "违反交易规则（测试）")
    with pytest.raises(Conflict, match="restricted"):
        orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 10)
    with pytest.raises(Forbidden, match="do not trade"):
        accounts.open_account(session, m.ex, m.w.vvb.org.id, bank_name="银行", bank_account_no="1", bank_account_name=m.w.vvb.org.name)
    with pytest.raises(ValidationError, match="own name"):
        h = m.w.holder(["trading_participant"], "另一家公司")
        accounts.open_account(session, m.ex, h.org.id, bank_name="银行", bank_account_no="1", bank_account_name="别人的公司")


def test_an_order_sees_the_registrys_latest_moves_into_trading(m, session):
    m.w.to_trading(m.w.owner, quantity=2_000)  # the registry's move; the exchange takes it in at the next order
    order = orders.place(session, m.w.owner.maker, CODE, "sell", "80.00", 6_500)  # 5,000 + 2,000 held, 6,500 listed
    assert order.status == "open" and (m.position(m.w.owner).quantity, m.position(m.w.owner).reserved) == (7_000, 6_500)
    m.w.from_trading(m.w.owner, quantity=1_000)  # out of trading below what is listed: the order gives way
    positions.take_in_moves(session, m.ex)
    assert (m.position(m.w.owner).quantity, m.position(m.w.owner).reserved) == (6_000, 0)
    session.refresh(order)
    assert order.status == "cancelled" and reconcile.differences(session) == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_settlements_racing_deliver_each_trade_once(m, session, engine):
    """The exchange's close run twice at the same moment (two consoles, a retry): the trades' row locks let one
    settle them and the other find nothing pending — every trade delivered and paid once (Art. 25–32)."""
    from concurrent.futures import ThreadPoolExecutor

    from ccer.infra.db import make_session_factory

    w = m.w
    for price, q in (("80.00", 300), ("80.50", 200), ("79.80", 100)):
        orders.place(session, w.owner.maker, CODE, "sell", price, q)
    orders.lift(session, w.trader.maker, CODE, "buy", 600)
    _at(session, 2026, 12, 8, 15, 30)
    factory = make_session_factory(engine)

    def close(_):
        with factory() as s:
            return settlement.settle_day(s, m.ex).settled

    with ThreadPoolExecutor(2) as pool:
        settled = sorted(pool.map(close, range(2)))
    assert settled == [0, 3]  # one settled the three trades, the other found them settled
    # 100 × 79.80 + 300 × 80.00 + 200 × 80.50 = 7,980 + 24,000 + 16,100 CNY = 4,808,000 fen, plus 6‰ = 28,848 fen
    assert m.funds(w.trader).balance == 20_000_000 - 4_808_000 - 28_848
    assert w.balance(w.trader, "trading") == 600 and reconcile.differences(session) == []
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def test_opening_and_annual_fees_are_billed_once_and_waived_for_key_emitters(m, session):
    # Art. 24: opening 2,000.00 CNY (200,000 fen), annual 1,000.00 CNY; key emitting units exempt
    before = {name: m.funds(getattr(m.w, name)).balance for name in ("trader", "emitter", "owner")}
    out = accounts.charge_fees(session, m.ex, "opening")
    assert out["charged"] == 1 and out["owing"] == [m.account(m.w.owner).number]  # the owner has no money in yet
    assert m.funds(m.w.trader).balance == before["trader"] - 200_000
    assert m.funds(m.w.emitter).balance == before["emitter"]  # exempt
    assert accounts.charge_fees(session, m.ex, "opening")["charged"] == 0  # once
    assert accounts.charge_fees(session, m.ex, "annual", 2026)["charged"] == 1
    assert m.funds(m.w.trader).balance == before["trader"] - 300_000
    with pytest.raises(ValidationError) as err:
        accounts.charge_fees(session, m.ex, "annual", None)
    assert err.value.field == "year"
    with pytest.raises(Forbidden):
        accounts.charge_fees(session, m.w.trader.maker, "opening")
    assert reconcile.differences(session) == []
