"""Several processes — or threads of one process, whose fast-path calls share transactions by group commit —
hammer the same blocks on the real PostgreSQL: transfers both ways, retirements by quantity, and every
worker trying to retire the very same serial range. Afterwards nothing was
over-spent or retired twice: the invariants and the chain verify, units are conserved, the contested
range was retired exactly once, and each account holds exactly what the successful operations say."""
from __future__ import annotations

import multiprocessing as mp
from multiprocessing.pool import ThreadPool
import random
from collections import Counter

import pytest

from ccer import ledger, load_models
from ccer.auth import makerchecker
from ccer.db import make_engine, make_session_factory
from ccer.errors import DomainError
from ccer.issuance import invariants, retirements, services
from ccer.issuance.holdings import holdings
from ccer.issuance.serials import format_serial
from tests.registry_world import World

WORKERS, OPS = 4, 40
#: ten units of their own vintage that every worker tries to retire at once; the other operations name
#: vintage 2021, so only the contest touches them
CONTESTED = format_serial("01", 1, 2022, 2, 1501, 1510)


def _worker(url: str | None, seed: int, owner, trader, numbers, engine=None) -> dict:
    """One worker: its own session, and its own engine unless it is a thread given the shared one; returns
    what it did that succeeded."""
    load_models()
    own = engine is None
    engine = make_engine(url) if own else engine
    session = make_session_factory(engine)()
    rng = random.Random(seed)
    done = Counter()
    holders = {"owner": owner, "trader": trader}
    try:
        for i in range(OPS):
            op = "contested" if i == 0 else rng.choice(["transfer", "back", "retire"])
            try:
                if op == "contested":
                    req = retirements.propose_retirement(session, owner[0], numbers["owner"], serial=CONTESTED,
                                                      purpose="public_good", beneficiary_name="争用测试")
                    makerchecker.confirm(session, owner[1], req.id)
                    done["retired:owner"] += 10
                    done["contested"] += 1
                    continue
                q = rng.randint(1, 60)
                src, dst = ("owner", "trader") if op in ("transfer", "retire") else ("trader", "owner")
                if op == "retire":
                    req = retirements.propose_retirement(session, holders[src][0], numbers[src], quantity=q, vintage=2021,
                                                      purpose="public_good", beneficiary_name="并发测试")
                else:
                    req = services.propose_transfer(session, holders[src][0], numbers[src], numbers[dst], quantity=q, vintage=2021)
                makerchecker.confirm(session, holders[src][1], req.id)
                if op == "retire":
                    done[f"retired:{src}"] += q
                else:
                    done[f"out:{src}"] += q
                    done[f"in:{dst}"] += q
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
    args = [(db_url, seed, (w.owner.maker, w.owner.checker), (w.trader.maker, w.trader.checker), numbers) for seed in range(WORKERS)]
    if workers == "processes":
        with mp.get_context("spawn").Pool(WORKERS) as pool:
            results = pool.starmap(_worker, args)
    else:  # threads of this process on one engine: their calls travel in shared transactions, two groups at a time
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
    got = {"owner": Counter(), "trader": Counter()}
    for name, h in (("owner", w.owner), ("trader", w.trader)):
        for r in holdings(session, h.account.id):
            got[name][r["status"]] += r["quantity"]
    # 1510 issued to the owner; every successful operation accounted for, nothing else
    assert got["owner"]["available"] == 1510 - done["out:owner"] + done["in:owner"] - done["retired:owner"]
    assert got["trader"]["available"] == done["in:trader"] - done["out:trader"] - done["retired:trader"]
    assert got["owner"]["retired"] == done["retired:owner"] and got["trader"]["retired"] == done["retired:trader"]
    assert sum(sum(c.values()) for c in got.values()) == 1510
    assert sum(v for k, v in done.items() if k.startswith(("in:", "retired:"))) > 0  # the workers did real work
