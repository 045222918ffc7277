"""`ccer market …`: the exchange operator's console through a trading day — accounts, operators, deposit,
instrument confirmation and halt, settlement, confirmations — and `ccer market reconcile`, which exits
non-zero naming the first difference once a position, a registry holding or a fund balance is altered behind
the platform's back (an UPDATE as from psql). Figures as in tests/test_market.py."""
from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from ccer.infra import clock
from ccer.cli import main
from ccer.market import instruments, orders, positions
from ccer.market.models import Trade, TradingAccount
from tests.registry_world import World

CODE = "CCER-000001-2021"


def run(db_url, *args):
    return CliRunner().invoke(main, ["--database", db_url, *args])


def _at(session, *when):
    clock.set_time(session, datetime(*when, tzinfo=clock.CST), freeze=True)
    session.commit()


def _sql(engine, statement: str, **params) -> None:
    """An edit behind the platform's back, in a connection of its own (as psql would make it)."""
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_trading_day_from_the_console_then_reconcile_catches_edits(db_url, engine, session, parties, tmp_path):
    w = World(session, parties)
    w.issue({2021: 10_000})
    w.to_trading(w.owner, quantity=5_000)
    session.commit()
    trader_registry_id = w.trader.account.id
    for h in (w.owner, w.trader):
        out = run(db_url, "market", "accounts", "open", str(h.org.id), "--bank-name", "中国工商银行", "--bank-account-no", f"6222{h.org.id:012d}")
        assert out.exit_code == 0 and "trading account TA" in out.output, out.output
    numbers = {name: session.execute(select(TradingAccount.number).where(TradingAccount.organisation_id == getattr(w, name).org.id)).scalar_one()
               for name in ("owner", "trader")}
    session.rollback()
    for name in ("owner", "trader"):
        out = run(db_url, "market", "operators", "add", numbers[name], getattr(w, name).maker.label)
        assert out.exit_code == 0 and "funds lift order" in out.output, out.output
    wrong = run(db_url, "market", "operators", "add", numbers["owner"], w.trader.checker.label)
    assert wrong.exit_code == 2 and "a user of the participant itself" in wrong.output
    # the owner's 5,000 t moved in before its account opened: the opening seeded its position from the registry
    assert "0 registry moves taken in" in run(db_url, "market", "take-in").output
    instruments.propose(session, w.owner.maker, CODE, "80.00")
    session.commit()
    out = run(db_url, "market", "instrument", "confirm", CODE)
    assert out.exit_code == 0 and "listed from 2026-12-08 at 80.00" in out.output, out.output
    out = run(db_url, "market", "deposit", "200000.00", "--as", w.trader.maker.label)
    assert out.exit_code == 0 and "balance 200,000.00" in out.output, out.output
    bad = run(db_url, "market", "deposit", "1.001", "--as", w.trader.maker.label)
    assert bad.exit_code == 2 and bad.output.startswith("error: AMOUNT:") and bad.output.count("\n") == 1

    _at(session, 2026, 12, 8, 10, 0)
    out = run(db_url, "market", "instrument", "halt", CODE, "--reason", "异常波动（测试）")
    assert out.exit_code == 0 and "halted" in out.output
    session.rollback()
    try:
        orders.place(session, w.owner.maker, CODE, "sell", "80.00", 10)
        raise AssertionError("a halted instrument traded")
    except Exception as err:  # noqa: BLE001
        assert "Art. 23" in getattr(err, "rule", "")
    assert run(db_url, "market", "instrument", "resume", CODE, "--reason", "恢复").exit_code == 0
    session.rollback()
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 1_000)
    orders.place(session, w.owner.maker, CODE, "sell", "79.50", 1_000)
    orders.lift(session, w.trader.maker, CODE, "buy", 1_500)
    session.commit()
    early = run(db_url, "market", "settle")
    assert early.exit_code == 2 and "closes at 15:00" in early.output
    _at(session, 2026, 12, 8, 15, 30)
    out = run(db_url, "market", "settle", "2026-12-08")
    assert out.exit_code == 0 and "2 trades settled (119,500.00 CNY), 0 failed, 1 orders expired" in out.output, out.output

    ok = run(db_url, "market", "reconcile")
    assert ok.exit_code == 0, ok.output
    assert "reconciliation of 2026-12-08" in ok.output and "trades settled: 2 (1,500 t, 119,500.00 CNY" in ok.output
    assert "positions: 5,000 t in 2 trading accounts; the registry's trading holdings of those accounts: 5,000 t" in ok.output
    assert ok.output.rstrip().endswith("no order over-filled")

    ref = session.execute(select(Trade.ref).order_by(Trade.id)).scalars().first()
    session.rollback()
    pdf = tmp_path / "confirmation.pdf"
    out = run(db_url, "market", "confirmation", ref, "-o", str(pdf))
    assert out.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-") and "(settled)" in out.output

    # a position raised by 7 t behind the platform's back
    _sql(engine, "UPDATE market_positions SET quantity = quantity + 7 WHERE trading_account_id = "
                 "(SELECT id FROM market_trading_accounts WHERE number = :n)", n=numbers["trader"])
    bad = run(db_url, "market", "reconcile")
    assert bad.exit_code == 1
    first = f"{numbers['trader']} {CODE}: the exchange's position is 1507 t, the registry's trading holding 1500 t"
    assert f"DIFFERENCE: {first}" in bad.output and f"first: {first}" in bad.output
    _sql(engine, "UPDATE market_positions SET quantity = quantity - 7 WHERE trading_account_id = "
                 "(SELECT id FROM market_trading_accounts WHERE number = :n)", n=numbers["trader"])

    # a registry holding moved behind both institutions' backs: the trader's trading units set available
    _sql(engine, "UPDATE serial_blocks SET status = 'available' WHERE active AND status = 'trading' AND account_id = :a", a=trader_registry_id)
    bad = run(db_url, "market", "reconcile")
    assert bad.exit_code == 1 and "the exchange's position is 1500 t, the registry's trading holding 0 t" in bad.output
    _sql(engine, "UPDATE serial_blocks SET status = 'trading' WHERE active AND status = 'available' AND account_id = :a", a=trader_registry_id)
    again = run(db_url, "market", "reconcile")
    assert again.exit_code == 0, again.output

    # a fund balance raised by one fen
    _sql(engine, "UPDATE market_fund_accounts SET balance = balance + 1 WHERE trading_account_id = "
                 "(SELECT id FROM market_trading_accounts WHERE number = :n)", n=numbers["owner"])
    bad = run(db_url, "market", "reconcile")
    assert bad.exit_code == 1
    assert f"first: {numbers['owner']} fund balance 11878301 fen, its movements sum to 11878300 fen" in bad.output
    assert "deposits less withdrawals and fees" in bad.output  # the money in the system no longer adds up either
    # and the ledger, which vouched for the balance, names the edited row too
    assert run(db_url, "ledger", "verify").exit_code == 1


def test_console_refusals_are_one_line(db_url, session):
    session.close()
    out = run(db_url, "market", "settle", "2026-02-30")
    assert out.exit_code == 2 and "DATE: not a date" in out.output
    out = run(db_url, "market", "instrument", "confirm", "CCER-999999-2021")
    assert out.exit_code == 2 and out.output == "error: instrument: no instrument CCER-999999-2021\n"
    out = run(db_url, "market", "operators", "add", "TA99999999", "nobody")
    assert out.exit_code == 2 and "no user nobody" in out.output
    out = run(db_url, "market", "confirmation", "20261208-00000001")
    assert out.exit_code == 2 and "no trade" in out.output


def test_market_data_of_a_day(db_url, session, parties):
    w = World(session, parties)
    w.issue({2021: 10_000})
    w.to_trading(w.owner, quantity=5_000)
    session.commit()
    for org_id, username in [(h.org.id, h.maker.label) for h in (w.owner, w.trader)]:
        assert run(db_url, "market", "accounts", "open", str(org_id), "--bank-name", "银行", "--bank-account-no", "6222").exit_code == 0
        number = session.execute(select(TradingAccount.number).where(TradingAccount.organisation_id == org_id)).scalar_one()
        session.rollback()
        assert run(db_url, "market", "operators", "add", number, username).exit_code == 0
    run(db_url, "market", "take-in")
    instruments.propose(session, w.owner.maker, CODE, "80.00")
    session.commit()
    run(db_url, "market", "instrument", "confirm", CODE)
    run(db_url, "market", "deposit", "200000.00", "--as", w.trader.maker.label)
    _at(session, 2026, 12, 8, 10, 0)
    orders.place(session, w.owner.maker, CODE, "sell", "80.00", 1_000)
    orders.place(session, w.owner.maker, CODE, "sell", "79.50", 1_000)
    orders.lift(session, w.trader.maker, CODE, "buy", 1_500)
    _at(session, 2026, 12, 8, 15, 30)
    assert run(db_url, "market", "settle").exit_code == 0
    out = run(db_url, "market", "data", "2026-12-08")
    assert out.exit_code == 0, out.output
    # open 79.50 (the better-priced order filled first), high 80.00, low 79.50, close 80.00; VWAP 11,950,000 / 1,500 = 79.67
    row = next(line for line in out.output.splitlines() if line.startswith(CODE)).split()
    assert row[1:10] == ["79.50", "80.00", "79.50", "80.00", "79.67", "1,500", "119,500.00", "2", "80.00"] and row[10] == "79.67"
    csv_out = run(db_url, "market", "data", "2026-12-08", "--csv").output.splitlines()
    assert csv_out[1] == f"2026-12-08,{CODE},79.50,80.00,79.50,80.00,79.67,1500,119500.00,2,1500,0,0,80.00,79.67"
    assert run(db_url, "market", "data", "2026-12-32").exit_code == 2


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_trades_several_days_and_reconciles(db_url, session):
    session.close()
    out = run(db_url, "demo")
    assert out.exit_code == 0, out.output
    line = next(line for line in out.output.splitlines() if line.startswith("exchange:"))
    # the published first day of newly registered CCERs: 748,800 t, 60,241,800 CNY, 80.45 CNY/t
    assert "5 trading days" in line and "first day 748,800 t at 80.45 CNY/t" in line and "reconciliation clean" in line
    assert "1 block" in line and "auction" in line and out.output.rstrip().endswith("verify ok")
    trades = session.execute(select(Trade)).scalars().all()
    assert len({t.day for t in trades}) == 5 and all(t.status == "settled" for t in trades)
    first = min(t.day for t in trades)
    assert sum(t.amount for t in trades if t.day == first) == 6_024_180_000  # fen
    session.rollback()
    assert run(db_url, "market", "reconcile").exit_code == 0
    data = run(db_url, "market", "data", first.isoformat())
    assert "748,800" in data.output and "60,241,800.00" in data.output
    again = run(db_url, "demo")  # idempotent
    assert again.exit_code == 0 and "exchange:" not in again.output and again.output.rstrip().endswith("verify ok")


def test_units_moved_in_before_the_account_was_opened_reach_the_position(db_url, session, parties):
    from ccer.market import accounts

    w = World(session, parties)
    w.issue({2021: 10_000})
    w.transfer(w.owner, w.trader, quantity=1_000)  # a registry-level sale before either has an exchange account
    positions.take_in_moves(session, w.exchange)
    w.to_trading(w.trader, quantity=600)  # bound in the registry, not yet open at the exchange
    positions.take_in_moves(session, w.exchange)  # e.g. another participant's order
    accounts.open_account(session, w.exchange, w.trader.org.id, bank_name="银行", bank_account_no="6222", bank_account_name=w.trader.org.name)
    session.commit()
    out = run(db_url, "market", "reconcile")
    assert out.exit_code == 0, out.output


def test_fees_from_the_console(db_url, session, parties):
    from ccer.market import accounts

    w = World(session, parties)
    accounts.open_account(session, w.exchange, w.trader.org.id, bank_name="银行", bank_account_no="6222", bank_account_name=w.trader.org.name)
    session.commit()
    out = run(db_url, "market", "fees", "opening")
    assert out.exit_code == 0 and "opening fee charged to 0 accounts; owing: TA" in out.output, out.output  # no money in yet
    bad = run(db_url, "market", "fees", "annual")
    assert bad.exit_code != 0 and "year" in bad.output
