"""Demo exchange: several trading days among several participants on the platform clock — project owners
selling, the key emitter and two companies (a neutrality buyer and an event organiser) buying, at prices
around the published 80–100 CNY/t. The first day repeats the published first day of newly registered CCERs
in 2025: 748,800 t for 60,241,800 CNY, an average of 80.45 CNY/t (MEE, 全国碳市场发展报告(2025) §6; ccer-rules.md
§11). Listing-agreement orders on both sides, lifts in price-then-time priority, partial lifts, a
cancellation, orders expiring at the close; a block agreement and a one-way auction (uniform pricing); a move
out of the trading account; each day settled delivery versus payment through the registry, so the market
data and a clean reconciliation are left for the pages.

Day 0 (the sixth trading day before today): the exchange opens the participants' trading accounts and adds
their operators; the owners move CCERs into their trading accounts (maker–checker in the registry) and
propose their instruments' initial price, the exchange confirms (trading from T+1), the buyers deposit.
Days 1–5 trade. The caller hands the clock back to the wall clock at the end (forward: the last day is before today)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..infra import calendar, clock
from ..infra.actor import Actor
from ..auth import makerchecker
from ..auth.models import Organisation, User
from ..auth.services import actor_for
from ..issuance import accounts as registry_accounts, trading
from ..issuance.holdings import holdings
from ..market import accounts, auctions, blocks, instruments, orders, positions, reconcile, settlement
from ..market.models import Trade, TradingAccount
from . import DemoParties, _org, _user, demo_uscc

DEMO = Actor.system("demo")
DAYS = 5
BANKS = ("中国工商银行北京分行营业部", "中国建设银行上海分行", "中国银行江苏省分行", "招商银行深圳分行", "交通银行甘肃省分行")
#: the buyers besides the key emitter: a company offsetting its own emissions, an event organiser
COMPANIES = (("上海碳中和演示科技有限公司", "上海市", "company1"), ("北京绿色会展演示有限公司", "北京市", "company2"))


def _actor(session: Session, parties: DemoParties, username: str):
    return actor_for(session.get(User, parties.users[username]))


def _at(session: Session, day: date, hh: int, mm: int = 0) -> None:
    clock.set_time(session, datetime.combine(day, time(hh, mm), tzinfo=clock.CST), freeze=True)
    session.commit()


def trading_days_before(today: date, n: int) -> list[date]:
    """The n trading days before `today`, oldest first."""
    days, day = [], today
    while len(days) < n:
        day -= timedelta(days=1)
        if calendar.is_trading_day(day):
            days.append(day)
    return days[::-1]


def _sellers(session: Session, parties: DemoParties) -> list[tuple[str, Organisation, int, int, int]]:
    """The three owners holding the most available CCERs in one project and vintage, largest first:
    (username, organisation, project_no, vintage, available)."""
    lots = []
    for i, org in enumerate(parties.owners.values(), start=1):
        account = registry_accounts.account_of(session, org.id)
        if account is None or account.status != "open":
            continue
        rows = [r for r in holdings(session, account.id) if r["status"] == "available" and r["project_no"]]
        if rows:
            best = max(rows, key=lambda r: r["quantity"])
            lots.append((f"owner{i}", org, best["project_no"], best["vintage"], best["quantity"]))
    return sorted(lots, key=lambda lot: -lot[4])[:3]


def _open(session: Session, exchange, org: Organisation, bank: str, operators: list[tuple[str, list[str]]], parties: DemoParties) -> TradingAccount:
    account = accounts.open_account(session, exchange, org.id, bank_name=bank, bank_account_no=f"6222{org.id:012d}",
                                    bank_account_name=org.name)
    for username, permissions in operators:
        accounts.add_operator(session, exchange, account.number, parties.users[username], permissions)
    return account


def run(session: Session, parties: DemoParties, today: date) -> dict:
    """The exchange's six trading days before `today`, the clock moved forward through them (left at the last
    day's close: the caller hands it back to the wall clock). Idempotent: does nothing once the exchange has a
    trading account."""
    if session.execute(select(TradingAccount.id)).first():
        return {}
    sellers = _sellers(session, parties)
    if len(sellers) < 3 or sellers[1][4] < 400_000:
        return {}
    exchange = _actor(session, parties, "exchange")
    emitter = session.execute(select(Organisation).where(Organisation.uscc == demo_uscc("华能演示电厂有限公司", "山东省"))).scalar_one()
    companies = []
    for name, province, username in COMPANIES:
        org = _org(session, DEMO, name, province, ["trading_participant"])
        _user(session, DEMO, parties, username, org, ["trading_participant"])
        _user(session, DEMO, parties, f"{username}-confirm", org, ["trading_participant"])
        registry = registry_accounts.account_of(session, org.id) or registry_accounts.apply_for_account(session, DEMO, org.id)
        if registry.status == "pending":
            registry_accounts.decide_account(session, DEMO, registry.id, "open")
        companies.append((username, org))
    session.commit()

    day0, *days = trading_days_before(today, DAYS + 1)
    _at(session, day0, 9, 45)
    # moves into trading accounts made before the exchange opened these accounts (the registry demo's sale)
    # are the registry's history, not positions here
    positions.take_in_moves(session, exchange)
    trade = ["order", "lift", "block", "auction", "funds"]
    for (username, org, *_), bank in zip(sellers, BANKS):
        _open(session, exchange, org, bank, [(username, trade)], parties)
    _open(session, exchange, emitter, BANKS[3], [("emitter", trade)], parties)
    for (username, org), bank in zip(companies, BANKS[4:] + BANKS[:1]):
        _open(session, exchange, org, bank, [(username, trade)], parties)

    # the owners move CCERs into their trading accounts (转移至交易账户: maker–checker in the registry)
    _at(session, day0, 10, 0)
    plan = (900_000, 700_000, 150_000)
    codes = []
    for (username, org, project_no, vintage, available), quantity in zip(sellers, plan):
        lot = {"project_no": project_no, "vintage": vintage, "quantity": min(quantity, available)}
        req = trading.propose_to_trading(session, _actor(session, parties, username), registry_accounts.account_of(session, org.id).id, **lot)
        makerchecker.confirm(session, _actor(session, parties, f"{username}-confirm"), req.id)
    positions.take_in_moves(session, exchange)
    _at(session, day0, 10, 30)
    for username, org, project_no, vintage, _ in sellers:
        code = f"CCER-{project_no:06d}-{vintage}"
        instruments.propose(session, _actor(session, parties, username), code, "80.00")
        instruments.confirm(session, exchange, code)  # trading from the next trading day (T+1)
        codes.append(code)
    em, c1, c2 = (_actor(session, parties, u) for u in ("emitter", "company1", "company2"))
    emitter_number = session.execute(select(TradingAccount.number).where(TradingAccount.organisation_id == emitter.id)).scalar_one()
    s1, s2, s3 = (_actor(session, parties, u) for u, *_ in sellers)
    _at(session, day0, 11, 0)
    accounts.deposit(session, em, 10_000_000_000)  # 100,000,000.00 CNY
    accounts.deposit(session, c1, 5_000_000_000)
    accounts.deposit(session, c2, 1_500_000_000)
    i1, i2, i3 = codes
    d1, d2, d3, d4, d5 = days

    # day 1: 748,800 t at 80.00 / 80.90 / 81.00 → 60,241,800 CNY, 80.45 CNY/t on average (the published first day)
    _at(session, d1, 9, 30)
    for seller, code, lots in ((s1, i1, ((250_000, "80.00"), (60_000, "80.90"), (120_000, "81.00"))),
                               (s2, i2, ((150_000, "80.00"), (50_000, "80.90"), (118_800, "81.00")))):
        for quantity, price in lots:
            orders.place(session, seller, code, "sell", price, quantity)
    orders.place(session, s3, i3, "sell", "81.50", 50_000)  # not lifted today: expires at the close
    orders.place(session, c2, i3, "buy", "78.00", 5_000)  # nor this
    for hh, mm, buyer, code, quantity in ((9, 31, em, i1, 200_000), (9, 48, c1, i2, 100_000), (10, 15, em, i1, 150_000),
                                          (10, 40, c1, i2, 120_000), (13, 20, em, i1, 80_000), (14, 5, c1, i2, 98_800)):
        _at(session, d1, hh, mm)
        orders.lift(session, buyer, code, "buy", quantity)
    _at(session, d1, 15, 30)
    settlement.settle_day(session, exchange)

    # day 2: references 80.40 (i1), 80.51 (i2), 80.00 carried (i3); a partial lift, a cancelled remainder, an owner lifting a bid
    _at(session, d2, 9, 35)
    orders.place(session, s1, i1, "sell", "82.00", 80_000)
    sale = orders.place(session, s2, i2, "sell", "81.80", 100_000)
    orders.place(session, c2, i3, "buy", "80.50", 20_000)
    _at(session, d2, 10, 10)
    orders.lift(session, c2, i1, "buy", 30_000)
    orders.lift(session, s3, i3, "sell", 20_000)  # the owner sells into the organiser's bid
    _at(session, d2, 11, 5)
    orders.lift(session, em, i1, "buy", 50_000)
    orders.lift(session, c1, i2, "buy", 60_000)
    _at(session, d2, 14, 0)
    orders.cancel(session, s2, sale.id)  # the unfilled 40,000 go back; the filled 60,000 stand
    _at(session, d2, 15, 30)
    settlement.settle_day(session, exchange)

    # day 3: two price levels lifted up to a limit; an emitter's bid lifted by the owner
    _at(session, d3, 9, 40)
    orders.place(session, s1, i1, "sell", "83.50", 50_000)
    orders.place(session, s1, i1, "sell", "84.00", 50_000)
    orders.place(session, s1, i1, "sell", "85.50", 30_000)
    orders.place(session, em, i2, "buy", "82.00", 40_000)
    _at(session, d3, 10, 20)
    orders.lift(session, em, i1, "buy", 120_000, limit_price="84.00")  # 100,000 filled: 85.50 is beyond the limit
    orders.lift(session, s2, i2, "sell", 40_000)
    _at(session, d3, 13, 45)
    orders.lift(session, c1, i1, "buy", 10_000)
    _at(session, d3, 15, 30)
    settlement.settle_day(session, exchange)

    # day 4: prices firm towards 86; the organiser buys for its event, the company adds; a block agreement
    # (大宗协议, ±30 %, at least the block minimum) and a one-way auction (单向竞价) alongside the listing market
    _at(session, d4, 9, 30)
    block = blocks.propose(session, s1, i1, "sell", "82.50", max(blocks.minimum(), 150_000), emitter_number)
    auction = auctions.create(session, s2, i2, "sell", 100_000, "84.00", datetime.combine(d4, time(10, 0), tzinfo=clock.CST),
                              datetime.combine(d4, time(11, 0), tzinfo=clock.CST), "uniform")
    orders.place(session, s3, i3, "sell", "84.80", 40_000)
    orders.place(session, s3, i3, "sell", "85.20", 40_000)
    orders.place(session, s2, i2, "sell", "85.00", 80_000)
    _at(session, d4, 9, 50)
    blocks.accept(session, em, block.id)
    _at(session, d4, 10, 15)
    blocks.confirm(session, exchange, block.id)
    # sealed bids: 40,000 at 85.00, 50,000 at 84.50, 30,000 at 84.20 for 100,000 t → the last gets 10,000; all at 84.20
    auctions.bid(session, c1, auction.id, "85.00", 40_000)
    auctions.bid(session, em, auction.id, "84.50", 50_000)
    auctions.bid(session, c2, auction.id, "84.20", 30_000)
    _at(session, d4, 10, 45)
    orders.lift(session, c2, i3, "buy", 25_000)
    orders.lift(session, c1, i3, "buy", 30_000)
    orders.lift(session, em, i2, "buy", 60_000)
    _at(session, d4, 11, 5)
    auctions.close(session, exchange, auction.id)
    _at(session, d4, 15, 30)
    settlement.settle_day(session, exchange)

    # day 5: the emitter moves 200,000 t out to its registry account for its compliance; trading goes on
    _at(session, d5, 9, 35)
    emitter_account = registry_accounts.account_of(session, emitter.id)
    req = trading.propose_from_trading(session, em, emitter_account.id, project_no=sellers[0][2], vintage=sellers[0][3], quantity=200_000)
    makerchecker.confirm(session, _actor(session, parties, "emitter-confirm"), req.id)
    positions.take_in_moves(session, exchange)
    orders.place(session, s1, i1, "sell", "86.00", 60_000)
    orders.place(session, s1, i1, "sell", "86.50", 40_000)
    orders.place(session, c1, i2, "buy", "85.80", 30_000)
    _at(session, d5, 10, 30)
    orders.lift(session, c2, i1, "buy", 20_000)
    orders.lift(session, em, i1, "buy", 70_000)
    orders.lift(session, s2, i2, "sell", 30_000)
    _at(session, d5, 15, 30)
    settlement.settle_day(session, exchange)
    session.commit()

    diffs = reconcile.differences(session)
    n, volume, turnover = session.execute(select(func.count(Trade.id), func.sum(Trade.quantity), func.sum(Trade.amount))
                                          .where(Trade.status == "settled")).one()
    methods = dict(session.execute(select(Trade.method, func.count(Trade.id)).where(Trade.status == "settled").group_by(Trade.method)).all())
    first_q, first_amount = session.execute(select(func.sum(Trade.quantity), func.sum(Trade.amount)).where(Trade.day == d1)).one()
    return {"days": DAYS, "from": d1, "to": d5, "trades": n, "volume": int(volume or 0), "turnover": int(turnover or 0),
            "first_day": (int(first_q), int(first_amount)), "participants": 3 + 1 + len(companies), "differences": diffs,
            "methods": methods}


def summary(traded: dict) -> str:
    q, amount = traded["first_day"]
    diffs = traded["differences"]
    return (f"exchange: {traded['days']} trading days {traded['from']} – {traded['to']}, {traded['participants']} participants, "
            f"{traded['trades']} trades settled ({traded['volume']:,} t, {traded['turnover'] / 100:,.2f} CNY; "
            + ", ".join(f"{n} {m}" for m, n in sorted(traded["methods"].items())) + f"); first day {q:,} t at "
            f"{amount / q / 100:.2f} CNY/t on average; reconciliation {'clean' if not diffs else 'FAILED: ' + diffs[0]}")
