"""Exchange throughput against pgbench on the same PostgreSQL server, in the same run.

    nice .venv/bin/python bench/market_tps.py [--clients 8] [--seconds 10] [--rounds 3] [--trades 100000]
                                              [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Peer: `pgbench` TPC-B-like (scale 1, the default script) with the same number of clients, alternating with
our rounds (this machine's speed drifts from minute to minute); ratios over the sums.

1. Interactive: 8 clients, threads of one process sharing one engine (as `ccer serve` runs them), each a
   seller and a buyer trading their own instrument: the seller lists a sell order (挂牌: the operator's
   account locked, the instrument listed and not halted, the restrictions, ±10 % of the reference, the
   5-trading-day rule, the position reserved, the order and its hash-chained event written), the buyer lifts
   it (摘牌: price-then-time candidates locked, funds reserved with the commission, the trade and its event
   written). Each is one service call, one transaction, every rule in Python. Ratio: lifts/s (each with its
   order entry) over pgbench tps. Target ≥ 0.5.
2. Bulk: a day of `--trades` pending trades among 40 participants (20 sellers, each its own instrument, and
   20 buyers) settled by one `settlement.settle_day` after the close: open orders expired, every trade
   delivered versus payment — the CCERs by the registry's `deliver_day`, the funds between fund accounts,
   each trade all-or-nothing — its events written, the next day's references set. The trades are written
   beforehand as the lifts would have left them (trade rows with their `market.traded` events, the sellers'
   positions and the buyers' funds reserved), in bulk, untimed. Ratio: trades/s over pgbench tps measured
   just before. Target ≥ 1.0.

Afterwards the reconciliation must be clean and the invariants and the whole chain verify.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from datetime import date, datetime, time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCER_FAST_HASH", "1")

from bench.registry_tps import _db, _drop, pgbench_init, pgbench_tps  # noqa: E402  (the same peer, run the same way)
from ccer import ledger, load_models  # noqa: E402
from ccer.infra import clock, migrate  # noqa: E402
from ccer.infra.db import allocate_ids, insert_many, make_engine, make_session_factory  # noqa: E402
from ccer.infra.errors import DomainError  # noqa: E402

TUESDAY = date(2026, 12, 8)  # the World stands on Monday 2026-12-07; instruments listed T+1
WEDNESDAY = date(2026, 12, 9)


def _at(session, day: date, hh: int, mm: int = 0) -> None:
    clock.set_time(session, datetime.combine(day, dtime(hh, mm), tzinfo=clock.CST), freeze=True)
    session.commit()


def _seed(url: str, clients: int, participants: int):
    """A seller and a buyer per client, and `participants` more for the bulk day (half sellers): every seller
    with its own project issued to it and CCERs moved into trading, every buyer with funds; all with
    trading accounts and one operator each; every instrument proposed and confirmed."""
    from sqlalchemy import select

    from ccer.market import accounts, instruments, positions
    from ccer.market.models import TradingAccount
    from tests.conftest import Parties
    from tests.registry_world import World

    load_models()
    session = make_session_factory(make_engine(url))()
    world = World(session, Parties(session))  # Monday 2026-12-07 10:00, a trading morning

    def participant(roles, name):
        h = world.holder(roles, name)
        account = accounts.open_account(session, world.exchange, h.org.id, bank_name="中国工商银行", bank_account_no=f"6222{h.org.id:012d}",
                                        bank_account_name=h.org.name)
        accounts.add_operator(session, world.exchange, account.number, h.maker.user_id, ["order", "lift", "funds"])
        return h, account

    def seller(name, quantity):
        h, account = participant(["project_owner"], name)
        project = _project(session, world, h, f"{name}的项目")
        world.issue({2022: quantity}, project=project)
        world.to_trading(h, quantity=quantity)
        return h, account, f"CCER-{project.registry_no:06d}-2022"

    def buyer(name, fen):
        h, account = participant(["trading_participant"], name)
        accounts.deposit(session, h.maker, fen)
        return h, account

    pairs = []
    for i in range(clients):
        s, _, code = seller(f"基准卖方{i}", 5_000_000)
        b, _ = buyer(f"基准买方{i}", 10**11)  # 1,000,000,000.00 CNY: never short
        pairs.append((s.maker, b.maker, code))
    day_sellers = [seller(f"结算卖方{i}", 5_000_000) for i in range(participants // 2)]
    day_buyers = [buyer(f"结算买方{i}", 5 * 10**10) for i in range(participants // 2)]
    positions.take_in_moves(session, world.exchange)
    for maker, code in [(s_maker, code) for s_maker, _, code in pairs] + [(h.maker, code) for h, _, code in day_sellers]:
        instruments.propose(session, maker, code, "80.00")
        instruments.confirm(session, world.exchange, code)
    session.commit()
    bulk = {"sellers": [(a.id, code) for _, a, code in day_sellers], "buyers": [a.id for _, a in day_buyers]}
    assert session.execute(select(TradingAccount.id)).first()
    session.close()
    return world.exchange, pairs, bulk


def _project(session, world, holder, title):
    from ccer.projects import services as projects

    return projects.import_listed(session, world.registry, title=title, methodology_code="CCER-01-002-V01", owner_id=holder.org.id,
                                  province="江苏省", crediting_start=date(2021, 1, 1), crediting_end=date(2030, 12, 31), registered=True)


def _client(engine, pair, seconds: float, seed: int, out: list, i: int) -> None:
    """One client: the seller lists, the buyer lifts, until the time is up."""
    from ccer.market import orders

    session = make_session_factory(engine)()
    rng = random.Random(seed)
    seller, buyer, code = pair
    lifts = trades = refused = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        q = rng.randint(1, 50)
        try:
            orders.place(session, seller, code, "sell", rng.randint(7950, 8050), q)
            trades += len(orders.lift(session, buyer, code, "buy", q))
            lifts += 1
        except DomainError:
            session.rollback()
            refused += 1
    session.close()
    out[i] = (lifts, trades, refused)


def _run_clients(engine, pairs, seconds: int, seed: int) -> list[tuple[int, int, int]]:
    out = [(0, 0, 0)] * len(pairs)
    threads = [threading.Thread(target=_client, args=(engine, pairs[i], seconds, seed * 100 + i, out, i)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _seed_day(url: str, exchange, bulk: dict, n: int, day: date, seed: int = 7) -> None:
    """`n` pending trades of `day` as lifts would have left them: rows and `market.traded` events, positions
    and funds reserved. Written in bulk; not timed."""
    from sqlalchemy import select, update

    from ccer.market import fees
    from ccer.market.models import FundAccount, Instrument, Position, Trade

    rng = random.Random(seed)
    load_models()
    engine = make_engine(url)
    session = make_session_factory(engine)()
    _at(session, day, 10, 0)
    inst = dict(session.execute(select(Instrument.code, Instrument.id)).all())
    sellers = [(account_id, inst[code]) for account_id, code in bulk["sellers"]]
    ids = allocate_ids(session, Trade.__table__, n)
    now = clock.now(session)
    rows, held, cost = [], {}, {}
    for tid in ids:
        seller_id, instrument_id = rng.choice(sellers)
        buyer_id = rng.choice(bulk["buyers"])
        price, q = rng.randint(7800, 8200), rng.randint(1, 40)
        amount = price * q
        row = {"id": tid, "ref": f"{day:%Y%m%d}-{tid:08d}", "day": day, "instrument_id": instrument_id, "method": "listing",
               "buyer_id": buyer_id, "seller_id": seller_id, "buy_order_id": None, "sell_order_id": None, "price": price, "quantity": q,
               "amount": amount, "buyer_fee": fees.commission("listing", "buy", amount), "seller_fee": fees.commission("listing", "sell", amount),
               "matched_at": now, "status": "pending", "settled_at": None, "transfer_id": None, "failure": None}
        rows.append(row)
        held[(seller_id, instrument_id)] = held.get((seller_id, instrument_id), 0) + q
        cost[buyer_id] = cost.get(buyer_id, 0) + amount + row["buyer_fee"]
    for i in range(0, n, 20_000):
        insert_many(session, Trade.__table__, rows[i:i + 20_000])
    for (account_id, instrument_id), q in held.items():
        session.execute(update(Position).where(Position.trading_account_id == account_id, Position.instrument_id == instrument_id)
                        .values(reserved=Position.reserved + q))
    for account_id, fen in cost.items():
        session.execute(update(FundAccount).where(FundAccount.trading_account_id == account_id).values(reserved=FundAccount.reserved + fen))
    fields = ("ref", "day", "instrument_id", "method", "buyer_id", "seller_id", "price", "quantity", "amount", "buyer_fee", "seller_fee",
              "status", "transfer_id")
    ledger.record_many(session, exchange, [("market.traded", "trade", r["id"], ledger.payload(session, "trade", r["id"],
                                                                                            state={f: r[f] for f in fields}))
                                           for r in rows])
    session.commit()
    session.close()
    engine.dispose()


def _settle(url: str, exchange, day: date) -> tuple[float, object]:
    from ccer.market import settlement

    load_models()
    engine = make_engine(url)
    session = make_session_factory(engine)()
    _at(session, day, 15, 30)
    t0 = time.perf_counter()
    report = settlement.settle_day(session, exchange, day)
    elapsed = time.perf_counter() - t0
    session.close()
    engine.dispose()
    return elapsed, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=10, help="per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trades", type=int, default=100_000, help="trades in the bulk day (0: skip it)")
    ap.add_argument("--pg", default=os.environ.get("CCER_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()

    peer_db = pgbench_init(args.pg)
    name, url = _db(args.pg, "ccer_market_bench")
    try:
        migrate.upgrade(url)
        t0 = time.perf_counter()
        exchange, pairs, bulk = _seed(url, args.clients, 40)
        print(f"seeded {len(pairs)} seller/buyer pairs and 40 settlement participants in {time.perf_counter() - t0:.0f} s", flush=True)
        load_models()
        engine = make_engine(url, pool_size=args.clients)
        session = make_session_factory(engine)()
        _at(session, TUESDAY, 10, 0)
        session.close()
        print(f"interactive: {args.rounds} rounds of {args.seconds} s each: pgbench TPC-B, then order entry + lifting; "
              f"{args.clients} clients (threads of one process, one engine)", flush=True)
        peer_total = ours_total = 0.0
        all_trades = 0
        for r in range(1, args.rounds + 1):
            peer = pgbench_tps(peer_db, args.clients, args.seconds)
            counts = _run_clients(engine, pairs, args.seconds, r)
            lifts, trades, refused = (sum(c[k] for c in counts) for k in range(3))
            all_trades += trades
            ours = lifts / args.seconds
            peer_total, ours_total = peer_total + peer, ours_total + ours
            print(f"  round {r}: pgbench {peer:,.0f} tps; ccer {ours:,.1f} lifts/s, each after its order entry "
                  f"({2 * lifts / args.seconds:,.1f} service transactions/s, {trades:,} trades, {refused} refused) → {ours / peer:.3f}", flush=True)
        engine.dispose()
        ratio = ours_total / peer_total
        print(f"interactive ratio lifts/s ÷ pgbench tps = {ratio:.3f} over all rounds (target ≥ 0.5: {'met' if ratio >= 0.5 else 'NOT met'})",
              flush=True)
        seconds, report = _settle(url, exchange, TUESDAY)
        print(f"the interactive day settled: {report.settled:,} trades in {seconds:.1f} s ({report.failed} failed, {report.expired} expired)",
              flush=True)
        if args.trades:
            t0 = time.perf_counter()
            _seed_day(url, exchange, bulk, args.trades, WEDNESDAY)
            print(f"bulk: {args.trades:,} pending trades of {WEDNESDAY} written in {time.perf_counter() - t0:.0f} s (untimed)", flush=True)
            peer = pgbench_tps(peer_db, args.clients, args.seconds)
            seconds, report = _settle(url, exchange, WEDNESDAY)
            rate = report.settled / seconds
            print(f"bulk: one day of {args.trades:,} trades settled in {seconds:.1f} s ({report.settled:,} settled, {report.failed:,} failed), "
                  f"{rate:,.0f} trades/s; pgbench {peer:,.0f} tps → ratio {rate / peer:.3f} (target ≥ 1.0: {'met' if rate / peer >= 1.0 else 'NOT met'})",
                  flush=True)
        from ccer.issuance import invariants
        from ccer.market import reconcile

        session = make_session_factory(make_engine(url))()
        diffs = reconcile.differences(session)
        problems = list(invariants.check(session))
        ledger.seal_pending(session)
        verified = ledger.verify(session)
        print(f"reconciliation: {'clean' if not diffs else diffs[:3]}; invariants: {'ok' if not problems else problems[:3]}; "
              f"ledger verify: {'ok' if verified.ok else [str(p) for p in verified.problems[:3]]} ({verified.events:,} events)")
        session.close()
    finally:
        _drop(args.pg, name)
        _drop(args.pg, peer_db)


if __name__ == "__main__":
    main()
