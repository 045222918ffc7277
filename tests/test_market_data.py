"""Market data (Trading Rules Art. 33–35): a trading day's open, high, low, close, VWAP, volume, turnover and number
of trades per instrument and for the market, by method; the next day's reference price; history, the CSV
export and the public notices (large holders, halts). Figures by hand in the comments; both databases."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from ccer.infra.errors import ValidationError
from ccer.market import blocks, instruments, marketdata, orders, risk, settlement

from tests.market_world import CODE, MarketWorld, at


@pytest.fixture()
def m(session, parties, monkeypatch):
    for name in ("CCER_MARKET_FEES", blocks.MINIMUM_ENV, risk.LIMIT_ENV, risk.SHARE_ENV):
        monkeypatch.delenv(name, raising=False)
    return MarketWorld(session, parties)


def _a_day(m, session):
    """Tuesday 2026-12-08, reference 80.00. Listing trades, in order:
        10:05 the trader lifts 1,200: 1,000 × 80.00 and 200 × 81.00     (8,000,000 + 1,620,000 fen)
        10:10 the emitter lifts 300 × 81.00                              (2,430,000)
        10:20 buyer2 lifts 400 × 79.00                                   (3,160,000)
    → open 80.00, high 81.00, low 79.00, close 79.00; 1,900 t, 15,210,000 fen, VWAP 8,005.26 → 80.05.
    A block: the owner sells buyer3 100,000 × 85.00 = 850,000,000 fen.
    → the day: 101,900 t, 865,210,000 fen in 5 trades, VWAP 8,490.78 → 84.91."""
    w = m.w
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 1_000)
    orders.place(session, w.owner.maker, CODE, "sell", "81.00", 500)
    at(session, 2026, 12, 8, 10, 5)
    orders.lift(session, w.trader.maker, CODE, "buy", 1_200)
    at(session, 2026, 12, 8, 10, 10)
    orders.lift(session, w.emitter.maker, CODE, "buy", 300)
    at(session, 2026, 12, 8, 10, 15)
    orders.place(session, w.owner.maker, CODE, "sell", "79.00", 400)
    at(session, 2026, 12, 8, 10, 20)
    orders.lift(session, m.buyer2.maker, CODE, "buy", 400)
    ag = blocks.propose(session, w.owner.maker, CODE, "sell", "85.00", 100_000, m.account(m.buyer3).number)
    blocks.accept(session, m.buyer3.maker, ag.id)
    blocks.confirm(session, m.ex, ag.id)


def test_a_days_figures_per_instrument_and_for_the_market(m, session):
    _a_day(m, session)
    d = marketdata.daily(session, "2026-12-08")
    [row] = d["instruments"]
    assert (row["open"], row["high"], row["low"], row["close"]) == (8000, 8100, 7900, 7900)
    assert (row["volume"], row["turnover"], row["trades"], row["vwap"]) == (101_900, 865_210_000, 5, 8491)
    assert row["by_method"]["listing"] == {"volume": 1_900, "turnover": 15_210_000, "trades": 4, "vwap": 8005, "high": 8100, "low": 7900}
    assert row["by_method"]["block"]["volume"] == 100_000 and row["by_method"]["auction"]["trades"] == 0
    # before settlement the next reference is provisional: the listing VWAP 80.05
    assert (row["reference_price"], row["next_reference_price"], row["next_reference_basis"]) == (8000, 8005, "provisional")
    mk = d["market"]
    assert (mk["volume"], mk["turnover"], mk["trades"], mk["vwap"], mk["instruments_listed"], mk["instruments_traded"]) == (
        101_900, 865_210_000, 5, 8491, 1, 1)
    assert mk["by_method"]["block"] == {"volume": 100_000, "turnover": 850_000_000, "trades": 1, "vwap": 8500}

    at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    row = marketdata.daily(session, date(2026, 12, 8))["instruments"][0]
    assert (row["next_reference_price"], row["next_reference_basis"]) == (8005, "vwap")
    # Wednesday: no trades, reference 80.05; Thursday's carried forward
    quiet = marketdata.daily(session, date(2026, 12, 9))["instruments"][0]
    assert (quiet["volume"], quiet["open"], quiet["vwap"], quiet["reference_price"], quiet["next_reference_price"]) == (0, None, None, 8005, 8005)
    m.check()


def test_history_and_csv_export(m, session):
    _a_day(m, session)
    at(session, 2026, 12, 8, 15, 30)
    settlement.settle_day(session, m.ex)
    # 12-07 (before listing) … 12-13 (a Sunday): the instrument's trading days from its listing, the market's every trading day
    rows = marketdata.history(session, "2026-12-07", "2026-12-13", CODE)
    assert [r["day"] for r in rows] == ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"]
    assert [r["volume"] for r in rows] == [101_900, 0, 0, 0]
    market = marketdata.history(session, date(2026, 12, 7), date(2026, 12, 8))
    assert [(r["day"], r["volume"], r["instruments_listed"]) for r in market] == [("2026-12-07", 0, 0), ("2026-12-08", 101_900, 1)]
    text = marketdata.export_csv(session, "2026-12-08", "2026-12-09")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["day"], r["instrument"]) for r in table] == [("2026-12-08", CODE), ("2026-12-08", "ALL"), ("2026-12-09", CODE), ("2026-12-09", "ALL")]
    first = table[0]
    assert (first["open"], first["close"], first["vwap"], first["volume_t"], first["turnover_cny"], first["block_volume_t"],
            first["next_reference_price"]) == ("80.00", "79.00", "84.91", "101900", "8652100.00", "100000", "80.05")
    with pytest.raises(ValidationError) as err:
        marketdata.history(session, "2026-12-09", "2026-12-08")
    assert err.value.field == "end"
    with pytest.raises(ValidationError):
        marketdata.export_csv(session, "yesterday", "2026-12-08")
    m.check()


def test_notices_list_halts_and_large_holders(m, session, monkeypatch):
    instruments.halt(session, m.ex, CODE, reason="异常波动（测试）")
    at(session, 2026, 12, 8, 10, 30)
    instruments.halt(session, m.ex, CODE, resume=True)
    monkeypatch.setenv(risk.LIMIT_ENV, "100000")
    risk.monitor(session, m.ex)  # the owner holds 200,000 t ≥ 80 % of 100,000
    out = marketdata.notices(session)
    kinds = [(n["kind"], n["instrument"]) for n in out]
    assert ("halt", CODE) in kinds and ("resume", CODE) in kinds and ("large_holder", CODE) in kinds
    halt = next(n for n in out if n["kind"] == "halt")
    assert halt["reason"] == "异常波动（测试）" and halt["day"] == "2026-12-08"
    holder = next(n for n in out if n["kind"] == "large_holder")
    assert (holder["trading_account"], holder["quantity"], holder["threshold"]) == (m.account(m.w.owner).number, 200_000, 80_000)
    assert marketdata.notices(session, since="2026-12-09") == []
    m.check()
