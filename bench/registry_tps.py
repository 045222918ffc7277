"""Registry throughput against pgbench on the same PostgreSQL server, in the same run.

    .venv/bin/python bench/registry_tps.py [--clients 8] [--seconds 10] [--rounds 3] [--trades 100000]
                                           [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Peer: `pgbench` TPC-B-like (scale 1, the default script: one account/teller/branch update, one history
insert per transaction) with the same number of clients.

1. Interactive: complete registry operations through the services by the same number of clients, threads
   of one process sharing one engine (as `ccer serve` runs them; `--processes` for one process each), each
   with its own holder and counterparty: a move into the trading account (proposed by one user, confirmed
   by a second: two transactions, maker–checker), the exchange's delivery of a trade, or a retirement
   (maker–checker) — each cutting serial blocks and writing hash-chained events, every rule in Python.
   Ratio: complete operations/s over pgbench tps, alternating rounds (this machine's speed drifts by a
   third from minute to minute), taken over the sums. Target ≥ 0.5.
2. Bulk: one day's settlement of `--trades` trades among 40 participants in one `deliver_day` call (each
   trade all-or-nothing with its own outcome). Ratio: trades/s over pgbench tps measured just before.
   Target ≥ 1.0.

The invariants and the whole chain are verified after the run.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCER_FAST_HASH", "1")

from sqlalchemy import create_engine, text  # noqa: E402

from ccer import ledger, load_models  # noqa: E402

from ccer.infra import migrate  # noqa: E402
from ccer.auth import makerchecker  # noqa: E402
from ccer.infra.db import make_engine, make_session_factory  # noqa: E402
from ccer.issuance import invariants, retirements, trading  # noqa: E402


def _db(admin_url: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def _drop(admin_url: str, name: str) -> None:
    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def pgbench_init(admin_url: str) -> str:
    name, _ = _db(admin_url, "ccer_pgbench")
    subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-q", name], check=True, capture_output=True)
    return name


def pgbench_tps(name: str, clients: int, seconds: int) -> float:
    out = subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
                          "-T", str(seconds), "-n", name], check=True, capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def _seed(url: str, clients: int, participants: int):
    """Pairs of holders for the interactive clients and `participants` more for the bulk day; each client's
    holder has its own project, issued to it (10 Mt), half of it moved into its trading account."""
    from tests.conftest import Parties  # the test suite's party maker: valid demo USCCs, two users each
    from tests.registry_world import World

    load_models()
    session = make_session_factory(make_engine(url))()
    world = World(session, Parties(session))  # freezes the platform clock on a trading morning
    pairs = []
    for i in range(clients):
        a = world.holder(["project_owner"], f"基准业主{i}")
        b = world.holder(["trading_participant"], f"基准买方{i}")
        project = _project(session, world, a, f"基准项目{i}")
        world.issue({2021: 10_000_000}, project=project)
        world.to_trading(a, quantity=5_000_000)
        pairs.append(((a.maker, a.checker, a.account.number, project.registry_no), (b.maker, b.checker, b.account.number)))
    day = [world.holder(["project_owner" if i % 2 == 0 else "trading_participant"], f"结算参与人{i}") for i in range(participants)]
    sellers = day[0::2]
    for i, s in enumerate(sellers):
        world.issue({2022: 5_000_000}, project=_project(session, world, s, f"结算项目{i}"))
        world.to_trading(s, quantity=5_000_000)
    session.commit()
    day_accounts = [(h.account.number, _no(session, h)) for h in day]
    session.close()
    return world.exchange, pairs, day_accounts


def _project(session, world, holder, title):
    from datetime import date

    from ccer.projects import services as projects

    return projects.import_listed(session, world.registry, title=title, methodology_code="CCER-01-002-V01",
                                  owner_id=holder.org.id, province="江苏省", crediting_start=date(2021, 1, 1),
                                  crediting_end=date(2030, 12, 31), registered=True)


def _no(session, holder):
    """The registry number of the project a seller holds (None for buyers)."""
    from sqlalchemy import select

    from ccer.projects.models import Project

    return session.execute(select(Project.registry_no).where(Project.owner_id == holder.org.id)).scalar()


def _client(url: str | None, exchange, pair, seconds: float, seed: int, engine=None) -> int:
    """One client: its own session (and, in a process of its own, its own engine) doing complete operations
    until the time is up."""
    load_models()
    own = engine is None
    engine = make_engine(url) if own else engine
    session = make_session_factory(engine)()
    rng = random.Random(seed)
    (a_maker, a_checker, a_no, project_no), (_, _, b_no) = pair
    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        roll = rng.random()
        if roll < 0.4:
            req = trading.propose_to_trading(session, a_maker, a_no, quantity=rng.randint(1, 50))
            makerchecker.confirm(session, a_checker, req.id)
        elif roll < 0.7:
            trading.deliver(session, exchange, {"trade_ref": f"I{seed}-{done}-{uuid.uuid4().hex[:8]}", "seller": a_no, "buyer": b_no,
                                                "project_no": project_no, "vintage": 2021, "quantity": rng.randint(1, 50)})
        else:
            req = retirements.propose_retirement(session, a_maker, a_no, quantity=rng.randint(1, 20), purpose="public_good",
                                                 beneficiary_name="基准测试")
            makerchecker.confirm(session, a_checker, req.id)
        done += 1
    session.close()
    if own:
        engine.dispose()
    return done


def _run_clients(url: str, exchange, pairs, seconds: int, processes: bool) -> list[int]:
    if processes:
        with mp.get_context("spawn").Pool(len(pairs)) as pool:
            return pool.starmap(_client, [(url, exchange, pairs[i], seconds, i) for i in range(len(pairs))])
    load_models()
    engine = make_engine(url, pool_size=len(pairs))  # one engine for all threads, as `ccer serve` has
    counts = [0] * len(pairs)

    def run(i: int) -> None:
        counts[i] = _client(None, exchange, pairs[i], seconds, i, engine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return counts


def _bulk(url: str, exchange, day_accounts, n: int, seed: int = 7) -> tuple[float, int]:
    """One day's settlement of n trades; (seconds, trades delivered)."""
    rng = random.Random(seed)
    sellers = [(no, p) for no, p in day_accounts[0::2]]
    buyers = [no for no, _ in day_accounts[1::2]]
    trades = []
    for i in range(n):
        seller, project_no = rng.choice(sellers)
        trades.append({"trade_ref": f"B{i:07d}", "seller": seller, "buyer": rng.choice(buyers), "project_no": project_no,
                       "vintage": 2022, "quantity": rng.randint(1, 40)})
    load_models()
    engine = make_engine(url)
    session = make_session_factory(engine)()
    t0 = time.perf_counter()
    out = trading.deliver_day(session, exchange, trades)
    elapsed = time.perf_counter() - t0
    session.close()
    engine.dispose()
    return elapsed, sum(o.ok for o in out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10, help="per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trades", type=int, default=100_000, help="trades in the bulk day (0: skip it)")
    ap.add_argument("--processes", action="store_true", help="one process per client instead of threads of one process")
    ap.add_argument("--pg", default=os.environ.get("CCER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()

    peer_db = pgbench_init(args.pg)
    name, url = _db(args.pg, "ccer_bench")
    try:
        migrate.upgrade(url)
        exchange, pairs, day_accounts = _seed(url, args.clients, 40)
        print(f"interactive: {args.rounds} rounds of {args.seconds} s each: pgbench TPC-B, then the registry services; "
              f"{args.clients} clients ({'processes' if args.processes else 'threads'})", flush=True)
        peer_total = ours_total = 0.0
        for r in range(1, args.rounds + 1):
            peer = pgbench_tps(peer_db, args.clients, args.seconds)
            counts = _run_clients(url, exchange, pairs, args.seconds, args.processes)
            ours = sum(counts) / args.seconds
            peer_total, ours_total = peer_total + peer, ours_total + ours
            print(f"  round {r}: pgbench {peer:,.0f} tps; ccer {ours:,.1f} complete operations/s (moves in, deliveries, "
                  f"retirements; maker–checker ones count once) → {ours / peer:.3f}", flush=True)
        ratio = ours_total / peer_total
        print(f"interactive ratio ccer/pgbench = {ratio:.3f} over all rounds (target ≥ 0.5: {'met' if ratio >= 0.5 else 'NOT met'})",
              flush=True)
        if args.trades:
            peer = pgbench_tps(peer_db, args.clients, args.seconds)
            seconds, delivered = _bulk(url, exchange, day_accounts, args.trades)
            rate = args.trades / seconds
            print(f"bulk: one day of {args.trades:,} trades delivered in {seconds:.1f} s ({delivered:,} delivered, "
                  f"{args.trades - delivered:,} refused), {rate:,.0f} trades/s; pgbench {peer:,.0f} tps → ratio {rate / peer:.3f} "
                  f"(target ≥ 1.0: {'met' if rate / peer >= 1.0 else 'NOT met'})", flush=True)
        load_models()
        session = make_session_factory(make_engine(url))()
        problems = list(invariants.check(session))
        ledger.seal_pending(session)
        report = ledger.verify(session)
        print(f"invariants: {'ok' if not problems else problems[:3]}; ledger verify: {'ok' if report.ok else report.problems[:3]} "
              f"({report.events:,} events chained, {report.pending} pending)")
        session.close()
    finally:
        _drop(args.pg, name)
        _drop(args.pg, peer_db)


if __name__ == "__main__":
    main()
