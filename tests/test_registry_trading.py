"""The registry's side of the exchange (ccer/issuance/trading.py): CCERs into and out of the bound trading
account — maker–checker, trading days 9:30–15:00 only — and the settlement verbs: one trade delivered
atomically, a day's trades delivered each all-or-nothing with its own outcome. Both databases."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from ccer import ledger

from ccer.infra import clock
from ccer.auth import makerchecker
from ccer.infra.errors import Conflict, Forbidden, NotFound, ValidationError
from ccer.issuance import invariants, trading
from ccer.issuance.models import SerialBlock, Transfer

from tests.registry_world import World


@pytest.fixture()
def world(session, parties):
    return World(session, parties)


def _ok(session):
    assert list(invariants.check(session)) == []
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]


def _at(session, *when):
    clock.set_time(session, datetime(*when, tzinfo=clock.CST), freeze=True)
    session.commit()


def _trade(world, ref, seller, buyer, quantity, vintage=2021, project_no=1):
    return {"trade_ref": ref, "seller": seller.account.number, "buyer": buyer.account.number, "project_no": project_no,
            "vintage": vintage, "quantity": quantity}


def _counts(session):
    session.rollback()
    return (session.execute(select(func.count()).select_from(SerialBlock)).scalar_one(), ledger.count(session),
            session.execute(select(func.count()).select_from(Transfer)).scalar_one())


# ---- in and out of the trading account -----------------------------------------------------------------------


@pytest.mark.parametrize("when, ok", [
    ((2026, 12, 7, 9, 29, 59), False),   # one second before the open
    ((2026, 12, 7, 9, 30), True),        # the open
    ((2026, 12, 7, 12, 15), True),       # the lunch break: the registry moves 9:30–15:00 ([S7])
    ((2026, 12, 7, 14, 59, 59), True),
    ((2026, 12, 7, 15, 0), False),       # the close
    ((2026, 2, 14, 10, 0), False),       # Saturday 2026-02-14: a make-up working day (调休), not a trading day
    ((2026, 10, 1, 10, 0), False),       # National Day, a Thursday
    ((2026, 12, 6, 10, 0), False),       # a Sunday
])
def test_moves_only_on_trading_days_from_9_30_to_15_00(session, parties, when, ok):
    # the world is made on Thursday 2026-02-12 10:00, a trading day before every instant tried: the clock then
    # moves forward to `when` (it never goes back once events exist, ccer.infra.clock)
    world = World(session, parties, at=datetime(2026, 2, 12, 10, 0, tzinfo=clock.CST))
    world.issue({2021: 100})
    _at(session, *when)
    if ok:
        world.to_trading(world.owner, quantity=10)
        assert world.balance(world.owner, "trading") == 10
    else:
        with pytest.raises(Conflict) as err:
            world.to_trading(world.owner, quantity=10)
        assert err.value.field == "time" and "Trading Rules Art. 21" in err.value.rule
        assert world.balance(world.owner) == 100


def test_a_request_proposed_in_hours_is_refused_when_confirmed_after_the_close(world, session):
    world.issue({2021: 100})
    _at(session, 2026, 12, 7, 14, 59)
    req = trading.propose_to_trading(session, world.owner.maker, world.owner.account.id, quantity=10)
    _at(session, 2026, 12, 7, 15, 1)
    with pytest.raises(Conflict, match="outside 9:30–15:00"):
        makerchecker.confirm(session, world.owner.checker, req.id)
    assert world.balance(world.owner) == 100


def test_an_unbound_account_cannot_move_to_trading_or_be_delivered_to(world, session):
    h = world.holder(["trading_participant"], "未绑定交易账户的公司", bind=False)
    world.issue({2021: 100})
    world.transfer(world.owner, world.trader, quantity=30)
    with pytest.raises(Conflict) as err:
        trading.propose_to_trading(session, h.maker, h.account.id, quantity=1)
    assert err.value.field == "account" and err.value.rule.startswith("[S7] 账户绑定")
    world.to_trading(world.trader, quantity=30)
    with pytest.raises(Conflict) as err:
        trading.deliver(session, world.exchange, _trade(world, "U1", world.trader, h, 30))
    assert err.value.field == "buyer" and err.value.rule.startswith("[S7] 账户绑定")


def test_binding_is_one_to_one_and_the_exchanges_act(world, session):
    with pytest.raises(Conflict, match="already bound"):
        trading.bind_trading_account(session, world.exchange, world.owner.account.id, "TA-OTHER")
    with pytest.raises(Forbidden):
        trading.bind_trading_account(session, world.owner.maker, world.owner.account.id, "TA-MINE")


def test_units_come_back_from_trading(world, session):
    world.issue({2021: 100})
    world.to_trading(world.owner, quantity=40)
    world.from_trading(world.owner, quantity=15)
    assert (world.balance(world.owner), world.balance(world.owner, "trading")) == (75, 25)  # 100 − 40 + 15; 40 − 15
    with pytest.raises(ValidationError, match="holds 25"):
        world.from_trading(world.owner, quantity=26)
    _ok(session)


# ---- settlement: one trade ---------------------------------------------------------------------------------


def test_delivery_moves_trading_units_to_the_buyers_trading_holding(world, session):
    world.issue({2021: 1000})
    world.to_trading(world.owner, quantity=500)
    t = trading.deliver(session, world.exchange, _trade(world, "20261207-000001", world.owner, world.trader, 120))
    assert (t.kind, t.quantity, t.trade_ref) == ("settlement", 120, "20261207-000001")
    assert world.balance(world.owner, "trading") == 380 and world.balance(world.trader, "trading") == 120
    serial = session.execute(select(ledger.Event).where(ledger.Event.action == "ccer.delivered")).scalar_one().payload["serials"]
    assert serial == ["CN-CCER-01-000001-2021-001-000000000001-000000000120"]  # the seller's lowest serials
    _ok(session)


@pytest.mark.parametrize("bad, field, error", [
    ({"quantity": 501}, "quantity", ValidationError),           # the seller holds 500 in trading
    ({"vintage": 2022}, "quantity", ValidationError),           # none of that vintage
    ({"seller": "RA99999999"}, "seller", NotFound),
    ({"project_no": 42}, "project_no", NotFound),
    ({"quantity": 0}, "quantity", ValidationError),
    ({"trade_ref": ""}, "trade_ref", ValidationError),
])
def test_a_refused_delivery_moves_nothing(world, session, bad, field, error):
    world.issue({2021: 1000})
    world.to_trading(world.owner, quantity=500)
    before = _counts(session)
    with pytest.raises(error) as err:
        trading.deliver(session, world.exchange, {**_trade(world, "T1", world.owner, world.trader, 10), **bad})
    assert err.value.field == field
    assert _counts(session) == before and world.balance(world.owner, "trading") == 500


def test_a_trade_is_delivered_once_and_only_by_the_exchange(world, session):
    world.issue({2021: 100})
    world.to_trading(world.owner, quantity=100)
    trading.deliver(session, world.exchange, _trade(world, "T1", world.owner, world.trader, 10))
    with pytest.raises(Conflict, match="already delivered"):
        trading.deliver(session, world.exchange, _trade(world, "T1", world.owner, world.trader, 10))
    with pytest.raises(Forbidden):
        trading.deliver(session, world.owner.maker, _trade(world, "T2", world.owner, world.trader, 10))
    with pytest.raises(Conflict, match="vvb account"):  # a VVB's account only holds (Registry Rules Art. 5)
        trading.deliver(session, world.exchange, _trade(world, "T3", world.owner, world.vvb, 10))
    assert world.balance(world.trader, "trading") == 10


# ---- settlement: a day's trades ------------------------------------------------------------------------------


def test_a_days_delivery_gives_each_trade_its_own_outcome(world, session):
    world.issue({2021: 1000})
    world.issue({2022: 300}, batch=2)
    world.to_trading(world.owner, quantity=600, vintage=2021)
    world.to_trading(world.owner, quantity=300, vintage=2022)
    trades = [
        _trade(world, "D1", world.owner, world.trader, 250),
        _trade(world, "D2", world.owner, world.emitter, 400),              # 350 left after D1: refused whole
        _trade(world, "D3", world.owner, world.emitter, 350),              # the 350 left: delivered
        _trade(world, "D4", world.owner, world.trader, 300, vintage=2022),
        _trade(world, "D1", world.owner, world.trader, 1),                 # the same trade number again
        _trade(world, "D5", world.trader, world.emitter, 100),             # bought in D1 this day: it holds it now
        {"trade_ref": "D6", "seller": world.owner.account.number},         # malformed
    ]
    out = trading.deliver_day(session, world.exchange, trades)
    assert [o.ok for o in out] == [True, False, True, True, False, True, False]
    assert out[1].error.field == "quantity" and "holds 350" in out[1].error.message
    assert "already delivered" in out[4].error.message and out[6].error.field == "buyer"
    assert world.balance(world.owner, "trading") == 0  # 600 − 250 − 350, 300 − 300
    assert world.balance(world.trader, "trading") == 250 - 100 + 300
    assert world.balance(world.emitter, "trading") == 350 + 100
    assert session.execute(select(func.count()).select_from(Transfer)).scalar_one() == 4
    _ok(session)


def test_an_empty_or_wholly_refused_day_writes_nothing(world, session):
    world.issue({2021: 10})
    before = _counts(session)
    assert trading.deliver_day(session, world.exchange, []) == []
    out = trading.deliver_day(session, world.exchange, [_trade(world, "X", world.owner, world.trader, 5)])  # nothing in trading
    assert not out[0].ok and _counts(session) == before
