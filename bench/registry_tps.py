"""Registry throughput against pgbench on the same PostgreSQL server, in the same run.

    .venv/bin/python bench/registry_tps.py [--clients 8] [--seconds 10] [--rounds 3] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Peer: `pgbench` TPC-B-like (scale 1, the default script: one account/teller/branch update, one history
insert per transaction) with the same number of clients. Ours: complete registry operations through the
services — a transfer or a retirement, each proposed by one user and confirmed by a second (two
transactions, maker–checker), each cutting serial blocks and writing hash-chained events — by the same
number of clients, each with its own session and pair of accounts: threads of one process sharing one
engine by default, as `ccer serve` (waitress) serves requests, or separate processes with --processes. On
PostgreSQL the services take their one-statement path (ccer/issuance/fastpath.py), and calls made at the
same moment share transactions (ccer/issuance/groupcommit.py). The ratio printed is complete operations /
pgbench transactions; the target is ≥ 0.5. The two sides alternate for several rounds on the same server
(its speed drifts by a third from minute to minute here), and the ratio is taken over the sums. The
invariants and the whole chain are verified after the run.
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
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCER_FAST_HASH", "1")

from sqlalchemy import create_engine, text  # noqa: E402

from ccer import ledger, load_models, migrate  # noqa: E402
from ccer.auth import makerchecker  # noqa: E402
from ccer.db import make_engine, make_session_factory  # noqa: E402
from ccer.issuance import invariants, retirements, services  # noqa: E402
from ccer.issuance.accounts import get_account  # noqa: E402
from ccer.projects import services as projects  # noqa: E402


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


def _seed(url: str, clients: int):
    from tests.conftest import Parties  # the test suite's party maker: valid demo USCCs, two users each
    from tests.registry_world import World

    load_models()
    session = make_session_factory(make_engine(url))()
    world = World(session, Parties(session))
    pairs = []
    for i in range(clients):
        a = world.holder(["project_owner"], f"基准业主{i}")
        b = world.holder(["trading_participant"], f"基准买方{i}")
        pairs.append(((a.maker, a.checker, a.account.number), (b.maker, b.checker, b.account.number)))
    for i in range(clients):  # one project per client, issued to its owner
        owner_id = get_account(session, pairs[i][0][2]).organisation_id
        p = projects.import_listed(session, world.registry, title=f"基准项目{i}", methodology_code="CCER-01-002-V01",
                                   owner_id=owner_id, province="江苏省", crediting_start=date(2021, 1, 1),
                                   crediting_end=date(2030, 12, 31), registered=True)
        services.issue(session, world.registry, project_id=p.id, batch=1, quantities={2021: 10_000_000})
    session.close()
    return pairs


def _client(url: str | None, pair, seconds: float, seed: int, engine=None) -> int:
    """One client: its own session (and, in a process of its own, its own engine) doing operations until the time is up."""
    load_models()
    own = engine is None
    engine = make_engine(url) if own else engine
    session = make_session_factory(engine)()
    rng = random.Random(seed)
    (a_maker, a_checker, a_no), (_, _, b_no) = pair
    done, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        if rng.random() < 0.7:
            req = services.propose_transfer(session, a_maker, a_no, b_no, quantity=rng.randint(1, 50))
        else:
            req = retirements.propose_retirement(session, a_maker, a_no, quantity=rng.randint(1, 20), purpose="public_good",
                                              beneficiary_name="基准测试")
        makerchecker.confirm(session, a_checker, req.id)
        done += 1
    session.close()
    if own:
        engine.dispose()
    return done


def _run_clients(url: str, pairs, seconds: int, processes: bool) -> list[int]:
    if processes:
        with mp.get_context("spawn").Pool(len(pairs)) as pool:
            return pool.starmap(_client, [(url, pairs[i], seconds, i) for i in range(len(pairs))])
    load_models()
    engine = make_engine(url, pool_size=len(pairs))  # one engine for all threads, as `ccer serve` has
    counts = [0] * len(pairs)

    def run(i: int) -> None:
        counts[i] = _client(None, pairs[i], seconds, i, engine)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10, help="per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--processes", action="store_true", help="one process per client instead of threads of one process")
    ap.add_argument("--pg", default=os.environ.get("CCER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()

    peer_db = pgbench_init(args.pg)
    name, url = _db(args.pg, "ccer_bench")
    try:
        migrate.upgrade(url)
        pairs = _seed(url, args.clients)
        print(f"{args.rounds} rounds of {args.seconds} s each: pgbench TPC-B, then the registry services; {args.clients} clients"
              f" ({'processes' if args.processes else 'threads'})", flush=True)
        peer_total = ours_total = 0.0
        for r in range(1, args.rounds + 1):
            peer = pgbench_tps(peer_db, args.clients, args.seconds)
            counts = _run_clients(url, pairs, args.seconds, args.processes)
            ours = sum(counts) / args.seconds
            peer_total, ours_total = peer_total + peer, ours_total + ours
            print(f"  round {r}: pgbench {peer:,.0f} tps; ccer {ours:,.1f} transfers and retirements/s (each propose + confirm,"
                  f" {2 * ours:,.0f} service calls/s) → {ours / peer:.3f}", flush=True)
        load_models()
        session = make_session_factory(make_engine(url))()
        problems = list(invariants.check(session))
        report = ledger.verify(session)
        print(f"  invariants: {'ok' if not problems else problems[:3]}; ledger verify: {'ok' if report.ok else report.problems[:3]} "
              f"({report.events:,} events chained, {report.pending} pending)")
        session.close()
        ratio = ours_total / peer_total
        print(f"ratio ccer/pgbench = {ratio:.3f} over all rounds (target ≥ 0.5: {'met' if ratio >= 0.5 else 'NOT met'})")
    finally:
        _drop(args.pg, name)
        _drop(args.pg, peer_db)


if __name__ == "__main__":
    main()
