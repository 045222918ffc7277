"""Issue 16, item 5 on the exchange: a trading participant lists a sale (挂牌) and another lifts it (摘牌). In-process
setup: a demo owner's organisation holds 5,000 t issued to it (holdings_setup.py) moved into its trading account, the
instrument listed at 80.00 CNY/t from Tuesday 2026-12-08, and the demo key emitter has deposited 1,000,000.00 CNY;
the clock stands at Tuesday 10:00 Beijing time. A listing outside ±10 % of the reference price is refused beside the
price with what was typed kept; the trade's electronic confirmation answers a PDF. Every step asserts the page in
Chinese and in English and keeps a screenshot."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from ccer.auth import makerchecker
from ccer.auth.models import Organisation
from ccer.infra import clock
from ccer.issuance import trading
from ccer.market import accounts, instruments, positions
from ccer.market.models import Instrument, TradingAccount

from .conftest import shot
from .holdings_setup import (
    TRADING_MORNING,
    actor,
    issue,
    language,
    open_account,
    user_page,
)

SELLER, SELLER_CONFIRM, BUYER = "owner4", "owner4-confirm", "emitter"
MENUS = ["order", "lift", "block", "auction", "funds"]
#: the module's server starts there (tests/browser/conftest.py), before the demo parties' events
CLOCK_START = TRADING_MORNING



@pytest.fixture(scope="module")
def market(live_server):
    server = live_server
    with server.session() as s:
        clock.set_time(s, TRADING_MORNING, freeze=True)  # Monday 2026-12-07 10:00: moves and deposits allowed
        s.commit()
        account, project = issue(s, server, SELLER, "浏览器测试交易项目（光伏）", {2021: 5000})
        open_account(s, server, BUYER)
        ex = actor(s, server, "exchange")
        for username in (SELLER, BUYER):
            who = actor(s, server, username)
            org = s.get(Organisation, who.organisation_id)
            ta = accounts.open_account(s, ex, org.id, bank_name="中国工商银行", bank_account_no=f"6222{org.id:012d}",
                                       bank_account_name=org.name)
            accounts.add_operator(s, ex, ta.number, who.user_id, MENUS)
        seller = actor(s, server, SELLER)
        req = trading.propose_to_trading(s, seller, account.id, quantity=5000)
        makerchecker.confirm(s, actor(s, server, SELLER_CONFIRM), req.id)
        positions.take_in_moves(s, ex)
        code = s.execute(select(Instrument.code).where(Instrument.project_id == project.id)).scalar_one()
        instruments.propose(s, seller, code, "80.00")
        instruments.confirm(s, ex, code)  # listed from the next trading day, Tuesday 2026-12-08
        accounts.deposit(s, actor(s, server, BUYER), 100_000_000)  # 1,000,000.00 CNY in fen
        clock.set_time(s, datetime(2026, 12, 8, 10, 0, tzinfo=clock.CST), freeze=True)
        s.commit()
        numbers = {u: s.execute(select(TradingAccount.number).where(TradingAccount.organisation_id == actor(s, server, u).organisation_id))
                   .scalar_one() for u in (SELLER, BUYER)}
    yield code, numbers  # the clock stays ahead: the module's server and database end with it


def test_a_trader_lists_and_another_lifts(live_server, browser, market):
    code, numbers = market
    seller = user_page(browser, live_server, SELLER, "/workspace/trader/")
    assert seller.inner_text("#trading-account") == numbers[SELLER]
    assert code in seller.inner_text("#positions") and "5,000" in seller.inner_text("#positions")

    # ---- a listing outside ±10 % of the reference price (80.00 → 72.00–88.00): refused beside the price ---------
    seller.select_option("#order-instrument", code)
    seller.select_option("#order-side", "sell")
    seller.fill("#order input[name=price]", "95.00")
    seller.fill("#order input[name=quantity]", "1000")
    seller.click("#order button[type=submit]")
    # the error sits right after the price input (the form's field order), naming the day's range: 80.00 ± 10 %
    error = seller.locator("#order input[name=price] + .field-error")
    assert "95.00 CNY/t is outside 72.00–88.00 today" in error.inner_text()
    assert seller.input_value("#order input[name=price]") == "95.00" and seller.input_value("#order input[name=quantity]") == "1000"
    assert seller.input_value("#order-side") == "sell"
    shot(seller, "trader-1-refused-zh")

    # ---- listed at 80.00 --------------------------------------------------------------------------------------
    seller.fill("#order input[name=price]", "80.00")
    seller.click("#order button[type=submit]")
    assert seller.inner_text("p.flash").startswith("已挂牌，委托编号")
    book = seller.inner_text(f"#book-{code}")
    assert "卖出" in book and "80.00" in book and "1,000" in book
    assert "挂牌中" in seller.inner_text("#orders tbody")
    shot(seller, "trader-2-listed-zh")
    language(seller, "en")
    assert "Listed" in seller.inner_text("#orders tbody") and "Sell" in seller.inner_text(f"#book-{code}")
    shot(seller, "trader-2-listed-en")

    # ---- another participant lifts 600 t ----------------------------------------------------------------------
    buyer = user_page(browser, live_server, BUYER, "/workspace/trader/")
    language(buyer, "en")
    assert "80.00" in buyer.inner_text(f"#book-{code}")
    assert buyer.inner_text("#available") == "1,000,000.00"
    assert "2026-12-07 10:00" in buyer.inner_text("#funds table")  # the deposit, in Beijing time
    buyer.select_option("#lift-instrument", code)
    buyer.select_option("#lift-side", "buy")
    buyer.fill("#lift input[name=quantity]", "600")
    buyer.click("#lift button[type=submit]")
    # 600 t × 80.00 CNY/t = 48,000.00 CNY (the listed price, Trading Rules Art. 12)
    assert "Lifted: 600 t traded for CNY 48,000.00." in buyer.inner_text("p.flash")
    trades = buyer.inner_text("#trades tbody")
    assert "Buy" in trades and "48,000.00" in trades and "Awaiting settlement" in trades
    assert "400" in buyer.inner_text(f"#book-{code}")  # 1,000 − 600 still listed
    shot(buyer, "trader-3-lifted-en")
    language(buyer, "zh")
    assert "待结算" in buyer.inner_text("#trades tbody") and "买入" in buyer.inner_text("#trades tbody")
    shot(buyer, "trader-3-lifted-zh")
    href = buyer.get_attribute("#trades a.confirmation", "href")
    pdf = buyer.request.get(f"{live_server.url}{href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # ---- the seller sees the fill and cancels the rest ---------------------------------------------------------
    seller.goto(f"{live_server.url}/workspace/trader/")
    row = seller.locator("#orders tbody tr").first
    assert "600" in row.inner_text() and "Listed" in row.inner_text()
    row.locator("button").click()
    assert "The unfilled part of the order is cancelled." in seller.inner_text("p.flash")
    assert "Cancelled" in seller.locator("#orders tbody tr").first.inner_text()
    assert "Sale" not in seller.inner_text("#funds")  # nothing paid before settlement after the close
    shot(seller, "trader-4-cancelled-en")
    language(seller, "zh")
    assert "已撤单" in seller.locator("#orders tbody tr").first.inner_text()
    shot(seller, "trader-4-cancelled-zh")
    seller.context.close()
    buyer.context.close()
