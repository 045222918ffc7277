"""Several processes — or threads of one process on one engine — hammer the same blocks on the real
PostgreSQL: moves into and out of trading accounts, the exchange's deliveries both ways (single trades and
days of trades), retirements by quantity, and every worker trying to retire the very same serial range.
Afterwards nothing was over-spent or retired twice: the invariants and the chain verify, units are
conserved, the contested range was retired exactly once, and each account holds, status by status,
exactly what the successful operations say."""
from __future__ import annotations

import multiprocessing as mp
from multiprocessing.pool import ThreadPool
import random
from collections import Counter

import pytest

from ccer import ledger, load_models
from ccer.auth import makerchecker
from ccer.infra.db import make_engine, make_session_factory
from ccer.infra.errors import DomainError
from ccer.issuance import invariants, retirements, trading
from ccer.issuance.holdings import holdings
from ccer.issuance.serials import format_serial
from tests.registry_world import World

WORKERS, OPS = 4, 40
#: ten units of their own vintage that every worker tries to retire at once; the other operations name
#: vintage 2021, so only the contest touches them
CONTESTED = format_serial("01", 1, 2022, 2, 1501, 1510)


def _worker(url: str | None, seed: int, owner, trader, exchange, numbers, engine=None) -> dict:
    """One worker: its own session, and its own engine unless it is a thread given the shared one; returns
    what it did that succeeded, as signed quantities per (holder, status)."""
    load_models()
    own = engine is None
    engine = make_engine(url) if own else engine
    session = make_session_factory(engine)()
    rng = random.Random(seed)
    done = Counter()
    holders = {"owner": owner, "trader": trader}
    trades = iter(range(10**6))

    def trade(src, dst, q):
        return {"trade_ref": f"W{seed}-{next(trades)}", "seller": numbers[src], "buyer": numbers[dst], "project_no": 1,
                "vintage": 2021, "quantity": q}

    try:
        for i in range(OPS):
            op = "contested" if i == 0 else rng.choice(["in", "out", "sell", "retire", "day"])
            h = rng.choice(["owner", "trader"])
            other = "trader" if h == "owner" else "owner"
            q = rng.randint(1, 60)
            try:
                if op == "contested":
                    req = retirements.propose_retirement(session, owner[0], numbers["owner"], serial=CONTESTED,
                                                         purpose="public_good", beneficiary_name="争用测试")
                    makerchecker.confirm(session, owner[1], req.id)
                    done[("owner", "retired")] += 10
                    done[("owner", "available")] -= 10
                    done["contested"] += 1
                elif op in ("in", "out"):
                    propose = trading.propose_to_trading if op == "in" else trading.propose_from_trading
                    req = propose(session, holders[h][0], numbers[h], quantity=q, vintage=2021)
                    makerchecker.confirm(session, holders[h][1], req.id)
                    src, dst = ("available", "trading") if op == "in" else ("trading", "available")
                    done[(h, src)] -= q
                    done[(h, dst)] += q
                elif op == "sell":
                    trading.deliver(session, exchange, trade(h, other, q))
                    done[(h, "trading")] -= q
                    done[(other, "trading")] += q
                elif op == "retire":
                    req = retirements.propose_retirement(session, holders[h][0], numbers[h], quantity=q, vintage=2021,
                                                         purpose="public_good", beneficiary_name="并发测试")
                    makerchecker.confirm(session, holders[h][1], req.id)
                    done[(h, "available")] -= q
                    done[(h, "retired")] += q
                else:  # a day's settlement racing the others: each trade its own outcome
                    day = [trade(*rng.sample(["owner", "trader"], 2), rng.randint(1, 40)) for _ in range(3)]
                    for t, outcome in zip(day, trading.deliver_day(session, exchange, day)):
                        if outcome.ok:
                            src = "owner" if t["seller"] == numbers["owner"] else "trader"
                            done[(src, "trading")] -= t["quantity"]
                            done[("trader" if src == "owner" else "owner", "trading")] += t["quantity"]
                            done["delivered"] += 1
            except DomainError:
                session.rollback()
                done["refused"] += 1
    finally:
        session.close()
        if own:
            engine.dispose()
    return dict(done)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("workers", ["processes", "threads"])
def test_concurrent_transfers_and_retirements_never_overspend(db_url, session, parties, workers, monkeypatch):
    w = World(session, parties)
    w.issue({2021: 1500})
    w.issue({2022: 10}, batch=2)
    session.commit()
    numbers = {"owner": w.owner.account.number, "trader": w.trader.account.number}
    w.to_trading(w.owner, quantity=500, vintage=2021)  # something to sell from the start
    w.transfer(w.owner, w.trader, quantity=300, vintage=2021)
    session.commit()
    start = Counter()
    for name, h in (("owner", w.owner), ("trader", w.trader)):
        for r in holdings(session, h.account.id):
            start[(name, r["status"])] += r["quantity"]
    args = [(db_url, seed, (w.owner.maker, w.owner.checker), (w.trader.maker, w.trader.checker), w.exchange, numbers)
            for seed in range(WORKERS)]
    if workers == "processes":
        with mp.get_context("spawn").Pool(WORKERS) as pool:
            results = pool.starmap(_worker, args)
    else:  # threads of this process on one engine, as `ccer serve` runs them
        engine = make_engine(db_url)
        try:
            with ThreadPool(WORKERS) as pool:
                results = pool.starmap(_worker, [a + (engine,) for a in args])
        finally:
            engine.dispose()
    done = Counter()
    for r in results:
        done.update(r)
    session.expire_all()
    assert list(invariants.check(session)) == []
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]
    assert done["contested"] == 1  # the same serial range is retired once, whoever came first
    got = Counter()
    for name, h in (("owner", w.owner), ("trader", w.trader)):
        for r in holdings(session, h.account.id):
            got[(name, r["status"])] += r["quantity"]
    # every successful operation accounted for, nothing else: each account's holdings by status
    for key in {*got, *start, *(k for k in done if isinstance(k, tuple))}:
        assert got[key] == start[key] + done[key], key
    assert sum(got.values()) == 1510  # 1510 issued to the owner
    assert done["delivered"] > 0 and done[("owner", "retired")] + done[("trader", "retired")] > 0  # the workers did real work
