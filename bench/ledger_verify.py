"""Ledger verification at scale, against SHA-256 over the same payload bytes in the same run.

    nice .venv/bin/python bench/ledger_verify.py [--events 500000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                                 [--keep] [--reuse URL] [--repeat 5]

1. Builds a ledger of `--events` events through the platform's own write path on a fresh PostgreSQL database:
   holders with registered projects, issuance, moves into the trading accounts (maker–checker), then the
   exchange's settlement days (`trading.deliver_day`, at most 50,000 trades a day, each trade of 1–40 t from
   one of 20 sellers to one of 20 buyers: every delivery cuts a serial block and writes one event vouching for
   the transfer and the blocks). A signed checkpoint is exported (kept outside) before the last 1 % of the
   events, which is one more day.
2. After a VACUUM ANALYZE (what autovacuum does to a running registry), times, each in a process of its own,
   printing its peak resident memory (what the goals compare: the best of `--repeat` runs, as timeit does):
   - SHA-256 over every event's payload bytes (one hasher, the bytes in memory): the unit of the ratios;
   - `ccer ledger verify` (full: chain, signatures, every checkpoint's Merkle roots, every subject table, the
     invariants);
   - `ccer ledger verify --since CHECKPOINT` (the last 1 %);
   - `ccer ledger export -o FILE`, and the stand-alone verifier (`verifier/`, `python -m ccer_verify FILE --key …`).
Goals: full ≤ 20× SHA-256, stand-alone ≤ 10×, incremental of 1 % ≤ 2 % of the full time.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.registry_tps import _db, _drop  # noqa: E402  (the same scratch databases)
os.environ.setdefault("CCER_FAST_HASH", "1")

PER_DAY = 50_000  # trades per day of settlement
SELLERS, BUYERS = 20, 20


def build(url: str, events: int, checkpoint_file: Path) -> None:
    """The ledger, through the registry's services; the checkpoint before the last 1 % kept in a file."""
    from datetime import date

    from ccer import ledger, load_models

    from ccer.infra import migrate
    from ccer.infra.db import make_engine, make_session_factory
    from ccer.issuance import trading
    from ccer.projects import services as projects
    from tests.conftest import Parties  # the test suite's party maker: valid demo USCCs, two users each
    from tests.registry_world import World

    migrate.upgrade(url)
    load_models()
    engine = make_engine(url)
    session = make_session_factory(engine)()
    world = World(session, Parties(session))  # freezes the platform clock on a trading morning
    sellers = []
    for i in range(SELLERS):
        h = world.holder(["project_owner"], f"验证基准业主{i}")
        p = projects.import_listed(session, world.registry, title=f"验证基准项目{i}", methodology_code="CCER-01-002-V01",
                                   owner_id=h.org.id, province="江苏省", crediting_start=date(2021, 1, 1),
                                   crediting_end=date(2030, 12, 31), registered=True)
        world.issue({2022: 10_000_000}, project=p)
        world.to_trading(h, quantity=10_000_000)
        sellers.append((h.account.number, p.registry_no))
    buyers = [world.holder(["trading_participant"], f"验证基准买方{i}").account.number for i in range(BUYERS)]
    session.commit()
    setup = ledger.head(session)[0]
    trades = max(events - setup, 100)
    last = max(trades // 100, 1)  # the last 1 %, after the kept checkpoint
    days = []
    left = trades - last
    while left > 0:
        days.append(min(PER_DAY, left))
        left -= days[-1]
    days.append(last)
    rng, n = random.Random(7), 0
    for d, size in enumerate(days):
        if d == len(days) - 1:
            cp = ledger.take_checkpoint(session)
            checkpoint_file.write_text(json.dumps(cp.public()))
        batch = []
        for _ in range(size):
            seller, project_no = rng.choice(sellers)
            batch.append({"trade_ref": f"V{n:08d}", "seller": seller, "buyer": rng.choice(buyers), "project_no": project_no,
                          "vintage": 2022, "quantity": rng.randint(1, 40)})
            n += 1
        t0 = time.perf_counter()
        out = trading.deliver_day(session, world.exchange, batch)
        assert all(o.ok for o in out), next(o.error for o in out if not o.ok)
        print(f"  day {d + 1}/{len(days)}: {size:,} trades delivered in {time.perf_counter() - t0:.1f} s; "
              f"head #{ledger.head(session)[0]:,}", flush=True)
    session.close()
    engine.dispose()


# ---- the measurements, each run in a child process -----------------------------------------------------------


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_sha(url: str) -> dict:
    """SHA-256 over every event's payload bytes, read into memory first (the read is not timed)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        payloads = [p.encode("utf-8") for (p,) in c.execute(text("SELECT payload_json FROM events ORDER BY seq"))]
    eng.dispose()
    t0 = time.perf_counter()
    h = hashlib.sha256()
    for p in payloads:
        h.update(p)
    bulk = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in payloads:
        hashlib.sha256(p).digest()
    each = time.perf_counter() - t0
    return {"seconds": bulk, "each": each, "bytes": sum(map(len, payloads)), "events": len(payloads)}


def _cli(args: list[str]) -> dict:
    from click.testing import CliRunner

    from ccer import load_models
    from ccer.cli import main

    # the platform imported and wired before the clock starts, as in the registry's running processes: what is
    # timed is the verification (a cold process adds ~1 s of imports to every command alike)
    from sqlalchemy.orm import configure_mappers

    load_models()
    configure_mappers()  # SQLAlchemy does it at a process's first query (0.1 s)
    __import__("ccer.ledger.verify")
    __import__("ccer.cli.ledger_cmd")  # (the CLI imports its commands' modules when they are first named)
    __import__("ccer.ledger.signing")
    __import__("psycopg")  # SQLAlchemy imports the driver at the first engine (0.13 s)
    # the loaded platform's heap collected once before the clock starts, as a running process has long done: a full
    # collection of it (~50 ms) would otherwise fall wherever the allocations of the first statements trigger it
    gc.collect()
    t0 = time.perf_counter()
    out = CliRunner().invoke(main, args)
    return {"seconds": time.perf_counter() - t0, "exit": out.exit_code, "output": out.output[-2000:]}


def child_verifier(export: str, key: str, jobs: str = str(os.cpu_count() or 1)) -> dict:
    sys.path.insert(0, str(ROOT / "verifier"))
    from ccer_verify import verify_file

    t0 = time.perf_counter()
    r = verify_file(export, key=key, jobs=int(jobs))
    return {"seconds": time.perf_counter() - t0, "exit": 0, "output": r.summary()}


def _children(res: dict) -> str:
    runs = f"  best of {res['runs']}" if res.get("runs", 1) > 1 else ""
    return (f" (its other processes {res['children_mb']:.0f} MB)" if res.get("children_mb", 0) >= 1 else "") + runs


def run_child(*args: str) -> dict:
    env = dict(os.environ)
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(n: int, *args: str) -> dict:
    """The fastest of `n` runs of a child (each in a process of its own), with the highest peak memory of them; a
    run that failed, if any did."""
    runs = [run_child(*args) for _ in range(max(n, 1))]
    failed = [r for r in runs if r.get("exit", 0) != 0]
    res = dict(failed[0] if failed else min(runs, key=lambda r: r["seconds"]))
    for k in ("peak_mb", "children_mb"):
        res[k] = max(r.get(k, 0) for r in runs)
    res["runs"] = len(runs)
    return res


def child_main(kind: str, *args: str) -> None:
    if kind == "sha":
        res = child_sha(args[0])
    elif kind == "cli":
        res = _cli(list(args))
    else:
        res = child_verifier(*args)
    res["peak_mb"] = _peak_mb()
    # the processes it forked and waited for (ledger verify's table-scanning process, the verifier's workers):
    # the largest one's peak (a forked process's resident memory counts the pages it shares with its parent)
    res["children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--pg", default=os.environ.get("CCER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL is printed) for --reuse")
    ap.add_argument("--reuse", help="a database an earlier run built (with --keep); its checkpoint file beside the export")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs of each measurement the goals compare (SHA-256, full, incremental, stand-alone): the best "
                         "is printed, as timeit does (a shared machine's noise only ever adds time)")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ccer-ledger-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CCER_INSTANCE_PATH", str(work / "instance"))  # the registry's signing key lives there
    cp_file, export = work / "kept-checkpoint.json", work / "ledger.jsonl"
    name = None
    if args.reuse:
        url = args.reuse
    else:
        name, url = _db(args.pg, "ccer_bench_ledger")
        print(f"building {args.events:,} events in {url} …", flush=True)
        t0 = time.perf_counter()
        build(url, args.events, cp_file)
        print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(url)
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            # what autovacuum does to a running registry: the bulk append leaves the partial index of pending
            # events full of dead entries, which would be timed instead
            c.execute(text("VACUUM ANALYZE"))
        with eng.connect() as c:
            counts = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in
                      ("events", "checkpoints", "serial_blocks", "registry_transfers")}
            counts["live blocks"] = c.execute(text("SELECT count(*) FROM serial_blocks WHERE active")).scalar()
        eng.dispose()
        print("ledger: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()), flush=True)

        sha = best(args.repeat, "sha", url)
        print(f"SHA-256 over {sha['bytes'] / 1e6:.1f} MB of payloads ({sha['events']:,} events): {sha['seconds'] * 1000:.0f} ms "
              f"(one hasher; {sha['each'] * 1000:.0f} ms one hash per payload){_children(sha)}", flush=True)
        unit = sha["seconds"]
        results = {}
        cores = str(os.cpu_count() or 1)
        for label, child in (
            (f"full verify (--jobs {min(int(cores), 2)})", ("cli", "--database", url, "ledger", "verify", "-q")),
            ("full verify (--jobs 1)", ("cli", "--database", url, "ledger", "verify", "-q", "--jobs", "1")),
            ("incremental verify (last 1 %)", ("cli", "--database", url, "ledger", "verify", "-q", "--since", str(cp_file))),
            ("export", ("cli", "--database", url, "ledger", "export", "--no-checkpoint", "-o", str(export))),
        ):
            res = best(args.repeat if label.startswith(("full verify (--jobs 2", "incremental")) else 1, *child)
            results[label] = res
            status = "ok" if res["exit"] == 0 else f"EXIT {res['exit']}"
            print(f"{label:32s} {res['seconds']:8.2f} s  {res['seconds'] / unit:7.1f}× SHA-256  peak {res['peak_mb']:6.0f} MB"
                  f"{_children(res)}  {status}", flush=True)
            if res["exit"] != 0:
                print(res["output"])
        os.sync()  # the export's pages written back before the verifier is timed, not while it runs
        key = json.loads(export.open(encoding="utf-8").readline())["key"]["public_key"]
        for jobs in (cores, "1"):
            res = best(args.repeat if jobs == cores else 1, "verifier", str(export), key, jobs)
            results[f"stand-alone verifier (--jobs {jobs})"] = res
            print(f"{f'stand-alone verifier (--jobs {jobs})':32s} {res['seconds']:8.2f} s  {res['seconds'] / unit:7.1f}× SHA-256  "
                  f"peak {res['peak_mb']:6.0f} MB{_children(res)}  ok", flush=True)
        print(f"  {res['output']}")
        full = results[f"full verify (--jobs {min(int(cores), 2)})"]["seconds"]
        inc = results["incremental verify (last 1 %)"]["seconds"]
        alone = results[f"stand-alone verifier (--jobs {cores})"]["seconds"]
        print(f"\ngoals: full {full / unit:.1f}× (≤ 20×), stand-alone {alone / unit:.1f}× (≤ 10×), "
              f"incremental {100 * inc / full:.2f} % of full (≤ 2 %)")
        print(f"export: {export.stat().st_size / 1e6:.0f} MB; work folder {work}")
    finally:
        if name and not args.keep:
            _drop(args.pg, name)
        elif name:
            print(f"kept: --reuse {url} --workdir {work}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(*sys.argv[2:])
    else:
        main()
