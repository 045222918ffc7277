"""The exchange over REST: who may do what (the services' policy), an order–lift–settle round trip with its
electronic trade confirmation, public instruments, book and halt notices, and bad input refused with a 4xx
naming the field — never a 5xx. Figures are those of tests/test_market.py, computed by hand there."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import select

from ccer import ledger

from ccer.infra import clock
from ccer.market.models import TradingAccount
from tests.registry_world import World

PASSWORD = "correct-horse-battery"
CODE = "CCER-000001-2021"


def _auth(client, actor):
    resp = client.post("/api/v1/auth/tokens", json={"username": actor.label, "password": PASSWORD})
    assert resp.status_code == 201, resp.json
    return {"Authorization": f"Bearer {resp.json['token']}"}


def _at(session, *when):
    clock.set_time(session, datetime(*when, tzinfo=clock.CST), freeze=True)
    session.commit()


class RestMarket:
    """The registry's test world (Monday 2026-12-07 10:00), with the exchange set up over REST: trading
    accounts for the owner, the trader and the emitter, each with its initiator as operator; 5,000 t of the
    owner's CCERs moved into trading before its account opened (seeded from the registry at the opening); the instrument proposed at 80.00 and confirmed (trading
    from Tuesday 12-08); the trader deposits 200,000.00 CNY, the emitter 50,000.00."""

    def __init__(self, client, session, parties):
        self.client, self.session = client, session
        self.w = w = World(session, parties)
        w.issue({2021: 10_000})
        w.to_trading(w.owner, quantity=5_000)
        self.ex = _auth(client, w.exchange)
        self.owner, self.trader, self.emitter = (_auth(client, h.maker) for h in (w.owner, w.trader, w.emitter))
        for h in (w.owner, w.trader, w.emitter):
            opened = client.post("/api/v1/market/accounts", headers=self.ex, json={
                "organisation_id": h.org.id, "bank_name": "中国工商银行", "bank_account_no": f"6222{h.org.id:012d}", "bank_account_name": h.org.name})
            assert opened.status_code == 201, opened.json
            added = client.post(f"/api/v1/market/accounts/{opened.json['number']}/operators", headers=self.ex,
                                json={"username": h.maker.label, "permissions": ["order", "lift", "funds"]})
            assert added.status_code == 201 and added.json["permissions"] == ["funds", "lift", "order"], added.json
        # the owner's 5,000 t moved in before its account opened: the opening seeded the position from the registry
        assert client.post("/api/v1/market/registry-moves", headers=self.owner).json == {"taken_in": 0}
        proposed = client.post(f"/api/v1/market/instruments/{CODE}/proposal", headers=self.owner, json={"initial_price": "80.00"})
        assert proposed.status_code == 200 and proposed.json["status"] == "proposed", proposed.json
        assert client.post(f"/api/v1/market/instruments/{CODE}/confirmation", headers=self.owner).status_code == 403
        listed = client.post(f"/api/v1/market/instruments/{CODE}/confirmation", headers=self.ex)
        assert listed.status_code == 200 and listed.json["listed_from"] == "2026-12-08"  # T+1 (Art. 17)
        assert client.post("/api/v1/market/funds/deposits", headers=self.trader, json={"amount": "200000.00"}).json["balance_fen"] == 20_000_000
        assert client.post("/api/v1/market/funds/deposits", headers=self.emitter, json={"amount": 5_000_000}).json["balance"] == "50000.00"
        _at(session, 2026, 12, 8, 10, 0)

    def number(self, h) -> str:
        number = self.session.execute(select(TradingAccount.number).where(TradingAccount.organisation_id == h.org.id)).scalar_one()
        self.session.rollback()  # end the read (SQLite: every transaction takes the write lock)
        return number


@pytest.fixture()
def rm(client, session, parties):
    return RestMarket(client, session, parties)


def test_roles(client, session, parties):
    w = World(session, parties)
    owner, ex = _auth(client, w.owner.maker), _auth(client, w.exchange)
    body = {"organisation_id": w.owner.org.id, "bank_name": "银行", "bank_account_no": "6222", "bank_account_name": w.owner.org.name}
    assert client.post("/api/v1/market/accounts", json=body).status_code == 401  # anonymous: log in first
    denied = client.post("/api/v1/market/accounts", headers=owner, json=body)
    assert denied.status_code == 403 and denied.json["rule"] == "market.account.open"
    number = client.post("/api/v1/market/accounts", headers=ex, json=body).json["number"]
    staff = client.post("/api/v1/market/accounts", headers=ex, json={**body, "organisation_id": w.vvb.org.id, "bank_account_name": w.vvb.org.name})
    assert staff.status_code == 403 and "do not trade" in staff.json["message"]  # Measures Art. 6–7, 31
    # the exchange does not trade; a user who is no operator does not either
    order = {"instrument": CODE, "side": "sell", "price": "80.00", "quantity": 1}
    assert client.post("/api/v1/market/orders", headers=ex, json=order).json["field"] == "actor"
    assert client.post("/api/v1/market/orders", headers=owner, json=order).status_code == 403
    assert client.get("/api/v1/market/reconciliation", headers=owner).status_code == 403
    assert client.get("/api/v1/market/reconciliation").status_code == 401
    assert client.post("/api/v1/market/settlements", headers=owner, json={}).status_code == 403
    assert client.post(f"/api/v1/market/accounts/{number}/restriction", headers=owner, json={"action": "restrict", "reason": "x"}).status_code == 403
    assert client.get("/api/v1/market/accounts", headers=ex).json["items"][0]["number"] == number
    # operators: at most five per account ([S7])
    for i in range(5):
        user = parties.user(w.owner.org)
        assert client.post(f"/api/v1/market/accounts/{number}/operators", headers=ex, json={"user_id": user.id, "permissions": ["order"]}).status_code == 201
    sixth = client.post(f"/api/v1/market/accounts/{number}/operators", headers=ex, json={"user_id": parties.user(w.owner.org).id, "permissions": ["order"]})
    assert sixth.status_code == 409 and "5 operators" in sixth.json["rule"]
    assert client.get(f"/api/v1/market/accounts/{number}/operators", headers=ex).status_code == 200


def test_order_lift_settle_round_trip(rm, client, session):
    w = rm.w
    inst = client.get(f"/api/v1/market/instruments/{CODE}").json  # public
    assert (inst["reference_price"], inst["reference_basis"], inst["listing_limits"], inst["block_limits"]) == (
        "80.00", "initial", ["72.00", "88.00"], ["56.00", "104.00"])  # ±10 % and ±30 % of 80.00
    a = client.post("/api/v1/market/orders", headers=rm.owner, json={"instrument": CODE, "side": "sell", "price": "80.00", "quantity": 1_000})
    assert a.status_code == 201 and a.json["remaining"] == 1_000 and a.json["price_fen"] == 8000, a.json
    b = client.post("/api/v1/market/orders", headers=rm.owner, json={"instrument": CODE, "side": "sell", "price": 7950, "quantity": 1_000})
    assert b.status_code == 201 and b.json["price"] == "79.50"
    bid = client.post("/api/v1/market/orders", headers=rm.emitter, json={"instrument": CODE, "side": "buy", "price": "78.00", "quantity": 100})
    assert bid.status_code == 201

    book = client.get(f"/api/v1/market/instruments/{CODE}/book")  # anonymous: price levels, best first, no names
    assert book.json["asks"] == [{"price": "79.50", "price_fen": 7950, "quantity": 1_000, "orders": 1},
                                 {"price": "80.00", "price_fen": 8000, "quantity": 1_000, "orders": 1}]
    assert book.json["bids"] == [{"price": "78.00", "price_fen": 7800, "quantity": 100, "orders": 1}]
    text = book.get_data(as_text=True)
    assert w.owner.org.name not in text and rm.number(w.owner) not in text and rm.number(w.emitter) not in text

    lifted = client.post("/api/v1/market/lifts", headers=rm.trader, json={"instrument": CODE, "side": "buy", "quantity": 1_500})
    assert lifted.status_code == 201, lifted.json
    # price then time: 1,000 @ 79.50 (b), then 500 @ 80.00 (a) = 7,950,000 + 4,000,000 fen
    assert [(t["price"], t["quantity"], t["side"]) for t in lifted.json["trades"]] == [("79.50", 1_000, "buy"), ("80.00", 500, "buy")]
    assert (lifted.json["quantity"], lifted.json["amount"]) == (1_500, "119500.00")
    assert lifted.json["trades"][0]["fee"] == "477.00"  # 6‰ of 79,500.00
    cancelled = client.post(f"/api/v1/market/orders/{a.json['id']}/cancellation", headers=rm.owner)
    assert cancelled.status_code == 200 and (cancelled.json["status"], cancelled.json["filled"]) == ("cancelled", 500)
    again = client.post(f"/api/v1/market/orders/{b.json['id']}/cancellation", headers=rm.owner)
    assert again.status_code == 409 and "Art. 19" in again.json["rule"]  # filled: final
    other = client.post(f"/api/v1/market/orders/{bid.json['id']}/cancellation", headers=rm.owner)
    assert other.status_code == 403 and other.json["field"] == "order_id"
    assert client.get(f"/api/v1/market/orders/{bid.json['id']}", headers=rm.owner).status_code == 404

    mine = client.get("/api/v1/market/orders?status=filled", headers=rm.owner).json["items"]
    assert [o["id"] for o in mine] == [b.json["id"]]
    trades = client.get("/api/v1/market/trades", headers=rm.owner).json["items"]
    assert [(t["side"], t["status"], t["buyer"]) for t in trades] == [("sell", "pending", None)] * 2
    assert client.get("/api/v1/market/funds", headers=rm.trader).json["reserved_fen"] == 12_021_700  # 11,950,000 + 6‰
    everyone = client.get("/api/v1/market/trades", headers=rm.ex).json["items"]
    assert {(t["buyer"], t["seller"]) for t in everyone} == {(rm.number(w.trader), rm.number(w.owner))}

    early = client.post("/api/v1/market/settlements", headers=rm.ex, json={})
    assert early.status_code == 409 and early.json["field"] == "time"
    _at(session, 2026, 12, 8, 15, 30)
    day = client.post("/api/v1/market/settlements", headers=rm.ex, json={"day": "2026-12-08"})
    assert day.status_code == 200, day.json
    assert (day.json["settled"], day.json["failed"], day.json["expired"], day.json["turnover"]) == (2, 0, 1, "119500.00")  # the bid expired

    funds = client.get("/api/v1/market/funds", headers=rm.trader).json
    assert (funds["balance_fen"], funds["reserved_fen"]) == (20_000_000 - 12_021_700, 0)
    assert client.get("/api/v1/market/funds", headers=rm.owner).json["balance"] == "118783.00"  # 119,500 − 477 − 240
    kinds = [m["kind"] for m in client.get("/api/v1/market/funds/movements", headers=rm.trader).json["items"]]
    assert kinds == ["deposit", "purchase", "fee", "purchase", "fee"]
    assert client.get("/api/v1/market/positions", headers=rm.trader).json == [
        {"instrument": CODE, "project_no": 1, "vintage": 2021, "quantity": 1_500, "reserved": 0, "available": 1_500}]
    assert client.get(f"/api/v1/market/positions?account={rm.number(w.trader)}", headers=rm.owner).status_code == 403
    assert client.get(f"/api/v1/market/positions?account={rm.number(w.trader)}", headers=rm.ex).json[0]["quantity"] == 1_500
    assert w.balance(w.trader, "trading") == 1_500  # the registry agrees
    session.rollback()
    nxt = client.get("/api/v1/market/instruments").json[0]
    assert nxt["reference_price"] == "80.00"  # still Tuesday; Wednesday's is the VWAP (below)
    rec = client.get("/api/v1/market/reconciliation", headers=rm.ex).json
    assert rec["ok"] and rec["differences"] == [] and rec["positions"] == 5_000

    ref = trades[0]["ref"]
    settled = client.get(f"/api/v1/market/trades/{ref}", headers=rm.trader).json
    assert settled["status"] == "settled" and settled["transfer_id"] and settled["side"] == "buy"
    pdf = client.get(f"/api/v1/market/trades/{ref}/confirmation.pdf", headers=rm.trader)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and len(pdf.headers["X-SHA256"]) == 64
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf.data)).pages
    text = " ".join(" ".join(p.extract_text() for p in pages).split())
    assert len(pages) == 1
    assert ref in text and CODE in text and "79.50" in text and "79,500.00" in text and f"transfer #{settled['transfer_id']}" in text
    assert "matches this confirmation" in text
    assert client.get(f"/api/v1/market/trades/{ref}/confirmation.pdf", headers=rm.ex).status_code == 200
    assert client.get(f"/api/v1/market/trades/{ref}/confirmation.pdf", headers=rm.emitter).status_code == 403  # not a party
    assert client.get(f"/api/v1/market/trades/{ref}/confirmation.pdf").status_code == 401

    _at(session, 2026, 12, 9, 10, 0)
    assert client.get(f"/api/v1/market/instruments/{CODE}").json["reference_price"] == "79.67"  # VWAP 11,950,000 / 1,500
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def test_halts_and_restrictions_are_public_and_immediate(rm, client, session):
    halted = client.post(f"/api/v1/market/instruments/{CODE}/halt", headers=rm.ex, json={"reason": "异常波动（测试）"})
    assert halted.status_code == 200 and halted.json["halted"] is True
    refused = client.post("/api/v1/market/orders", headers=rm.owner, json={"instrument": CODE, "side": "sell", "price": "80.00", "quantity": 1})
    assert refused.status_code == 409 and "Art. 23" in refused.json["rule"]
    client.post(f"/api/v1/market/instruments/{CODE}/resumption", headers=rm.ex, json={"reason": "恢复交易（测试）"})
    notices = client.get("/api/v1/market/halts").json
    assert [(n["instrument"], n["kind"], n["reason"]) for n in notices] == [
        (CODE, "resume", "恢复交易（测试）"), (CODE, "halt", "异常波动（测试）")]
    number = rm.number(rm.w.owner)
    assert client.post(f"/api/v1/market/accounts/{number}/restriction", headers=rm.ex, json={"action": "restrict"}).json["field"] == "reason"
    assert client.post(f"/api/v1/market/accounts/{number}/restriction", headers=rm.ex, json={"action": "restrict", "reason": "违规（测试）"}).json["status"] == "restricted"
    refused = client.post("/api/v1/market/orders", headers=rm.owner, json={"instrument": CODE, "side": "sell", "price": "80.00", "quantity": 1})
    assert refused.status_code == 409 and "Art. 27" in refused.json["rule"]
    assert client.get("/api/v1/market/orders", headers=rm.owner).status_code == 200  # a restricted participant still reads its own
    assert client.post(f"/api/v1/market/accounts/{number}/restriction", headers=rm.ex, json={"action": "restore"}).json["status"] == "open"


ORDER = {"instrument": CODE, "side": "sell", "price": "80.00", "quantity": 10}


@pytest.mark.parametrize("path, body, status, field", [
    ("/api/v1/market/orders", {**ORDER, "price": "80.001"}, 422, "price"),  # off the tick (Art. 11)
    ("/api/v1/market/orders", {**ORDER, "price": "88.01"}, 422, "price"),  # one tick beyond +10 % (Art. 16)
    ("/api/v1/market/orders", {**ORDER, "price": "71.99"}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "price": 80.5}, 422, "price"),  # a float is neither CNY text nor fen
    ("/api/v1/market/orders", {**ORDER, "price": "eighty"}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "price": "-80.00"}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "price": 0}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "price": True}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "price": 10**30}, 422, "price"),
    ("/api/v1/market/orders", {**ORDER, "quantity": "10"}, 422, "quantity"),  # strict integers
    ("/api/v1/market/orders", {**ORDER, "quantity": 1.5}, 422, "quantity"),
    ("/api/v1/market/orders", {**ORDER, "quantity": 0}, 422, "quantity"),  # the lot is 1 t
    ("/api/v1/market/orders", {**ORDER, "quantity": 10**13}, 422, "quantity"),
    ("/api/v1/market/orders", {**ORDER, "quantity": 5_001}, 422, "quantity"),  # 5,000 t in trading: no short selling (Art. 18)
    ("/api/v1/market/orders", {**ORDER, "side": "hold"}, 422, "side"),
    ("/api/v1/market/orders", {k: v for k, v in ORDER.items() if k != "instrument"}, 422, "instrument"),
    ("/api/v1/market/orders", {**ORDER, "instrument": "CCER-999999-2021"}, 404, "instrument"),
    ("/api/v1/market/orders", {**ORDER, "instrument": ["x"]}, 422, "instrument"),
    ("/api/v1/market/lifts", {"instrument": CODE, "side": "buy", "quantity": 10}, 409, "quantity"),  # nothing listed to lift
    ("/api/v1/market/lifts", {"instrument": CODE, "side": "buy", "quantity": 10, "limit_price": "1.234"}, 422, "limit_price"),
    ("/api/v1/market/funds/deposits", {"amount": "1.001"}, 422, "amount"),
    ("/api/v1/market/funds/deposits", {"amount": -5}, 422, "amount"),
    ("/api/v1/market/funds/deposits", {"amount": 10**13}, 422, "amount"),
    ("/api/v1/market/funds/withdrawals", {"amount": "1.00"}, 422, "amount"),  # the owner holds no funds
    ("/api/v1/market/orders/99999999999/cancellation", None, 404, "order_id"),
    ("/api/v1/market/orders/123/cancellation", None, 404, "order_id"),
    (f"/api/v1/market/instruments/{CODE}/proposal", {"initial_price": "81.00"}, 409, "instrument"),  # already listed
    ("/api/v1/market/blocks", {**ORDER, "price": "90.001", "counterparty": "TA00000002"}, 422, "price"),
    ("/api/v1/market/blocks", {**ORDER, "quantity": "10", "counterparty": "TA00000002"}, 422, "quantity"),
    ("/api/v1/market/blocks", ORDER, 422, "counterparty"),
    ("/api/v1/market/blocks/99999999999/acceptance", None, 404, "agreement_id"),
    ("/api/v1/market/auctions", {"instrument": CODE, "side": "sell", "quantity": 10, "reserve_price": "80.00", "window_start": 5,
                                 "window_end": "2026-12-08T11:00"}, 422, "window_start"),
    ("/api/v1/market/auctions/99999999999/bids", {"price": "80.00", "quantity": 1}, 404, "auction_id"),
    ("/api/v1/market/auctions/7/bids", {"price": "80.00", "quantity": -1}, 422, "quantity"),
    ("/api/v1/market/disputes", {"trade": "20261208-00000001"}, 422, "statement"),
    ("/api/v1/market/disputes", {"trade": "\x00-1", "statement": "x"}, 422, "trade"),  # NUL: PostgreSQL refuses it in text
    ("/api/v1/market/disputes", {"trade": "99999999999", "statement": "x"}, 404, "trade"),  # beyond the integer column
    ("/api/v1/market/disputes", {"trade": "²", "statement": "x"}, 404, "trade"),  # a digit to str.isdigit, not to int()
    ("/api/v1/market/disputes", {"trade": "20261208-00000001", "statement": "a\x00b"}, 422, "statement"),
    ("/api/v1/market/accounts/TA00000001/operators", {"username": "x\x00", "permissions": ["order"]}, 422, "username"),
    ("/api/v1/market/blocks", {**ORDER, "counterparty": "TA\x00"}, 422, "counterparty"),
    ("/api/v1/market/orders", {**ORDER, "instrument": "CCER\x00"}, 422, "instrument"),
    ("/api/v1/market/position-limits", {"max_quantity": "5"}, 422, "max_quantity"),
])
def test_bad_input_is_refused_naming_the_field(rm, client, path, body, status, field):
    resp = client.post(path, headers=rm.owner, json=body) if body is not None else client.post(path, headers=rm.owner)
    assert (resp.status_code, resp.json["field"]) == (status, field), resp.json
    assert set(resp.json) >= {"status", "code", "message", "field"} and resp.json["status"] == status


@pytest.mark.parametrize("path", [
    "/api/v1/market/orders?day=yesterday", "/api/v1/market/orders?status=lost", "/api/v1/market/orders?limit=0",
    "/api/v1/market/orders?cursor=@@", f"/api/v1/market/instruments/{CODE}/book?depth=0", "/api/v1/market/trades?day=2026-13-01",
    "/api/v1/market/instruments/%00/book", "/api/v1/market/trades/" + "9" * 60 + "/confirmation.pdf", "/api/v1/market/accounts/TA999/operators",
    "/api/v1/market/data?day=x", "/api/v1/market/data?instrument=%00", "/api/v1/market/data/history?start=2026-12-08",
    "/api/v1/market/data.csv?start=2026-12-09&end=2026-12-08", "/api/v1/market/auctions?status=x", "/api/v1/market/auctions/99999999999",
    "/api/v1/market/notices?kind=x", "/api/v1/market/disputes?status=x", "/api/v1/market/orders?account=%00",
    "/api/v1/market/positions?account=TA%00", "/api/v1/market/data/history?start=2026-12-01&end=2026-12-08&instrument=%01",
])
def test_bad_queries_are_4xx(rm, client, path):
    resp = client.get(path, headers=rm.owner)
    assert 400 <= resp.status_code < 500 and resp.json["field"], resp.json


@pytest.mark.parametrize("path", ["/api/v1/market/accounts/99999999999", "/api/v1/market/accounts/99999999999/operators",
                                  "/api/v1/market/positions?account=99999999999", "/api/v1/market/funds?account=%C2%B2"])
def test_the_exchange_reading_a_missing_account_gets_404(rm, client, path):
    resp = client.get(path, headers=rm.ex)  # an id beyond the integer column: no such account, not a 5xx on PostgreSQL
    assert (resp.status_code, resp.json["field"]) == (404, "trading_account"), resp.json


def test_malformed_bodies_are_4xx(rm, client):
    resp = client.post("/api/v1/market/orders", headers={**rm.owner, "Content-Type": "application/json"}, data="{not json")
    assert 400 <= resp.status_code < 500 and resp.json["status"] == resp.status_code
    resp = client.post("/api/v1/market/orders", headers=rm.owner, json=[1, 2])
    assert resp.status_code == 422
    resp = client.post("/api/v1/market/settlements", headers=rm.ex, json={"day": "not a day"})
    assert (resp.status_code, resp.json["field"]) == (422, "day")


def test_blocks_auctions_market_data_and_disputes_over_rest(client, session, parties, monkeypatch):
    from tests.market_world import MarketWorld

    monkeypatch.setenv("CCER_MARKET_BLOCK_MINIMUM", "1000")
    mw = MarketWorld(session, parties)  # the owner holds 200,000 t in trading; Tuesday 2026-12-08 10:00
    w = mw.w
    ex, owner, trader, emitter, buyer2 = (_auth(client, a) for a in (w.exchange, w.owner.maker, w.trader.maker, w.emitter.maker, mw.buyer2.maker))
    trader_no = mw.account(w.trader).number
    session.rollback()

    # 大宗协议: entered by the owner naming the trader, confirmed by the trader, then by the exchange
    block = {"instrument": CODE, "side": "sell", "price": "90.00", "quantity": 10_000, "counterparty": trader_no}
    beyond = client.post("/api/v1/market/blocks", headers=owner, json={**block, "price": "104.01"})  # 80.00 + 30 % = 104.00
    assert (beyond.status_code, beyond.json["field"]) == (422, "price") and "±30 %" in beyond.json["rule"]
    small = client.post("/api/v1/market/blocks", headers=owner, json={**block, "quantity": 999})
    assert (small.status_code, small.json["field"]) == (422, "quantity")
    ag = client.post("/api/v1/market/blocks", headers=owner, json=block)
    assert ag.status_code == 201 and (ag.json["status"], ag.json["amount"]) == ("proposed", "900000.00"), ag.json
    assert client.post(f"/api/v1/market/blocks/{ag.json['id']}/confirmation", headers=ex).status_code == 409  # not agreed yet
    assert client.post(f"/api/v1/market/blocks/{ag.json['id']}/acceptance", headers=emitter).status_code == 403  # not the named side
    assert client.post(f"/api/v1/market/blocks/{ag.json['id']}/acceptance", headers=trader).json["status"] == "agreed"
    assert client.post(f"/api/v1/market/blocks/{ag.json['id']}/confirmation", headers=trader).status_code == 403
    done = client.post(f"/api/v1/market/blocks/{ag.json['id']}/confirmation", headers=ex)
    assert done.status_code == 200 and done.json["status"] == "confirmed" and done.json["trade"]
    assert [b["id"] for b in client.get("/api/v1/market/blocks", headers=trader).json] == [ag.json["id"]]
    assert client.get("/api/v1/market/blocks", headers=emitter).json == []

    # 单向竞价: the owner sells 5,000 t, reserve 80.00, bids 10:30–11:00, uniform pricing
    auction = client.post("/api/v1/market/auctions", headers=owner, json={
        "instrument": CODE, "side": "sell", "quantity": 5_000, "reserve_price": "80.00", "window_start": "2026-12-08T10:30:00",
        "window_end": "2026-12-08T11:00:00", "pricing": "uniform"})
    assert auction.status_code == 201 and auction.json["status"] == "announced", auction.json
    aid = auction.json["id"]
    _at(session, 2026, 12, 8, 10, 40)
    low = client.post(f"/api/v1/market/auctions/{aid}/bids", headers=emitter, json={"price": "79.99", "quantity": 100})
    assert (low.status_code, low.json["field"]) == (422, "price")  # below the reserve
    assert client.post(f"/api/v1/market/auctions/{aid}/bids", headers=emitter, json={"price": "82.00", "quantity": 3_000}).status_code == 201
    assert client.post(f"/api/v1/market/auctions/{aid}/bids", headers=buyer2, json={"price": "81.00", "quantity": 3_000}).status_code == 201
    sealed = client.get(f"/api/v1/market/auctions/{aid}").json
    assert sealed["bids"] == [] and not sealed.get("allocations")  # sealed until the close
    assert [b["price"] for b in client.get(f"/api/v1/market/auctions/{aid}/bids", headers=emitter).json] == ["82.00"]
    _at(session, 2026, 12, 8, 11, 5)
    closed = client.post(f"/api/v1/market/auctions/{aid}/close", headers=ex)
    assert closed.status_code == 200, closed.json
    # 3,000 to the 82.00 bid, the remaining 2,000 to the 81.00 one; uniform: both at 81.00 → 405,000.00 CNY
    assert (closed.json["results"]["allocated"], closed.json["results"]["clearing_price"], closed.json["results"]["turnover"]) == (5_000, "81.00", "405000.00")
    public = client.get(f"/api/v1/market/auctions/{aid}").json["allocations"]
    assert [(a["price"], a["allocated"], a["trade_price"], a["bidder"]) for a in public] == [("82.00", 3_000, "81.00", None), ("81.00", 2_000, "81.00", None)]

    _at(session, 2026, 12, 8, 15, 30)
    day = client.post("/api/v1/market/settlements", headers=ex, json={})
    assert (day.json["settled"], day.json["failed"]) == (3, 0), day.json
    data = client.get("/api/v1/market/data?day=2026-12-08").json
    methods = data["market"]["by_method"]
    assert (methods["block"]["volume"], methods["auction"]["volume"], methods["listing"]["volume"]) == (10_000, 5_000, 0)
    assert data["market"]["turnover"] == "1305000.00" and data["market"]["vwap"] == "87.00"  # (900,000 + 405,000) / 15,000
    row = data["instruments"][0]
    assert (row["open"], row["close"], row["next_reference_price"], row["next_reference_basis"]) == (None, None, "80.00", "carried")  # no listing trade
    csv_text = client.get("/api/v1/market/data.csv?start=2026-12-08&end=2026-12-08").get_data(as_text=True)
    assert csv_text.splitlines()[-1] == "2026-12-08,ALL,,,,,87.00,15000,1305000.00,3,0,10000,5000,,"

    ref = done.json["trade"]
    assert client.post("/api/v1/market/disputes", headers=emitter, json={"trade": ref, "statement": "x"}).status_code == 403
    raised = client.post("/api/v1/market/disputes", headers=trader, json={"trade": ref, "statement": "交收数量有误（测试）"})
    assert raised.status_code == 201 and raised.json["deadline"].startswith("2026-12-09T09:30")
    resolved = client.post(f"/api/v1/market/disputes/{raised.json['id']}/resolution", headers=ex,
                           json={"outcome": "dismissed", "resolution": "经核对，交收数据无误（测试）"})
    assert resolved.json["status"] == "dismissed"

    # a maximum position and the large-holder report it makes public
    limit = client.post("/api/v1/market/position-limits", headers=ex, json={"max_quantity": 10_000, "instrument": CODE, "trading_account": trader_no})
    assert limit.status_code == 200 and limit.json["max_quantity"] == 10_000
    assert client.post("/api/v1/market/position-limits", headers=owner, json={"max_quantity": 1}).status_code == 403
    filed = client.post("/api/v1/market/large-holders/monitor", headers=ex).json
    assert [(n["trading_account"], n["quantity"], n["threshold"]) for n in filed] == [(trader_no, 10_000, 8_000)]  # 80 % of 10,000
    assert [n["kind"] for n in client.get("/api/v1/market/notices?kind=large_holder").json] == ["large_holder"]

    assert client.get("/api/v1/market/reconciliation", headers=ex).json["differences"] == []
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def test_fees_over_rest(rm, client):
    # Art. 24: the exchange bills the opening fee; participants may not; a bad fee name is a 422 naming the field
    m = rm
    assert client.post("/api/v1/market/fees", headers=m.trader, json={"fee": "opening"}).status_code == 403
    bad = client.post("/api/v1/market/fees", headers=m.ex, json={"fee": "monthly"})
    assert bad.status_code == 422 and bad.json["field"] == "fee"
    out = client.post("/api/v1/market/fees", headers=m.ex, json={"fee": "opening"})
    assert out.status_code == 200 and out.json["charged"] == 1  # the trader; the emitter is exempt, the owner has no money in
