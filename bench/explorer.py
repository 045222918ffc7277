"""The public explorer at national scale: server time per request and SQL statements per page.

    nice -n 10 .venv/bin/python bench/explorer.py [--projects 200000] [--blocks 1000000] [--requests 200]
                                                  [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep]

Data (PostgreSQL, a scratch database created and dropped by the script):
- a small real registry through the services (tests/registry_world.py): a registered project, its issuance, a sale
  and retirements with their ledger events — what a certificate verification checks;
- then, set-based (INSERT … SELECT over generate_series, no row-by-row work): `--projects` projects drawn from the
  real listing (/work/shared/data/ccer_registry_projects.csv via ccer/demo/data: each bench project copies a
  listing row's methodology, province, owner and expected size, so their distributions are the listing's), a
  quarter of them registered (with a reduction batch, two vintages issued and one retirement each), a quarter
  listed, a quarter in publicity, a quarter drafts (never shown); one owner organisation per 10 projects; and
  `--blocks` serial blocks cut from those issuances.

Measured (Flask test client, in process: the server's time without the network), `--requests` each:
filtered list (methodology and/or province, first page and the page after), search (a substring of a listing
name, Chinese), project page (a bulk registered project, and the real one with its timeline), certificate
verification (the page a certificate's QR code opens), the open-data page, and the open-data credits API list.
Printed: p50/p95/p99 in ms and the SQL statements per request (a SQLAlchemy `before_cursor_execute` listener).
Target: p99 < 50 ms; statements per page bounded whatever the data size (tests/test_explorer.py checks that
they do not grow with the data).
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CCER_FAST_HASH", "1")

from sqlalchemy import event, text

from bench.registry_tps import _db, _drop
from ccer import PACKAGE, create_app, load_models
from ccer.infra import migrate
from ccer.infra.db import make_engine, make_session_factory

LISTING = PACKAGE / "demo" / "data" / "ccer_registry_projects.csv"


def listing_rows() -> list[dict]:
    with LISTING.open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["methodology"] and r["name"]]


def seed_world(url: str) -> dict:
    """A real registry through the services: the project, its issuance, a sale and retirements with events."""
    from tests.conftest import Parties
    from tests.registry_world import World

    engine = make_engine(url)
    session = make_session_factory(engine)()
    w = World(session, Parties(session))
    w.issue({2021: 10_000, 2022: 5_000})
    numbers = []
    for i in range(5):
        r = w.retire(w.owner, quantity=100 + i, project_no=w.project.registry_no, vintage=2021)
        numbers.append(r.number)
    session.commit()
    out = {"project_id": w.project.id, "certificates": numbers, "account_id": w.owner.account.id}
    session.close()
    engine.dispose()
    return out


def bulk(url: str, n_projects: int, n_blocks: int, account_id: int) -> dict:
    """The bulk registry, set-based."""
    rows = listing_rows()
    engine = make_engine(url)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("CREATE TEMP TABLE listing (k int PRIMARY KEY, methodology text, province text, name text, owner text, "
                          "size bigint)"))
        conn.execute(text("INSERT INTO listing VALUES (:k, :m, :p, :n, :o, :s)"),
                     [{"k": k, "m": r["methodology"], "p": r["province"] or None, "n": r["name"], "o": r["owner"] or r["name"][:20],
                       "s": max(1000, int(float(r["expected_total"] or 0) or 100_000))} for k, r in enumerate(rows)])
        n_list, n_orgs = len(rows), max(1, n_projects // 10)
        base_org = conn.execute(text("SELECT coalesce(max(id), 0) FROM organisations")).scalar_one()
        conn.execute(text(
            "INSERT INTO organisations (uscc, name, status, created_at) "
            "SELECT 'BENCH' || lpad(g::text, 13, '0'), l.owner || '（' || g || '）', 'active', now() "
            "FROM generate_series(1, :n) g JOIN listing l ON l.k = g % :nl"), {"n": n_orgs, "nl": n_list})
        base_no = conn.execute(text("SELECT coalesce(max(registry_no), 0) FROM projects")).scalar_one()
        base_project = conn.execute(text("SELECT coalesce(max(id), 0) FROM projects")).scalar_one()
        # a quarter each: registered, listed, in publicity, draft
        conn.execute(text(
            "INSERT INTO projects (title, methodology_code, owner_id, province, status, crediting_start, crediting_end, "
            " estimate_tco2e, origin, created_at, registry_no, registered_at, publicity_start, publicity_end, other_mechanism, ets_covered) "
            "SELECT l.name || '（第' || g || '期）', l.methodology, :bo + 1 + (g % :no), l.province, "
            " (ARRAY['registered','listed','publicity','draft'])[1 + g % 4], "
            " make_date(2015 + g % 10, 1, 1), make_date(2024 + g % 10, 12, 31), l.size, 'listing', now(), "
            " CASE WHEN g % 4 = 0 THEN :bn + g / 4 END, CASE WHEN g % 4 = 0 THEN now() END, "
            " CASE WHEN g % 4 = 2 THEN current_date - (g % 20) END, CASE WHEN g % 4 = 2 THEN current_date + 30 - (g % 20) END, false, false "
            "FROM generate_series(1, :n) g JOIN listing l ON l.k = g % :nl"),
            {"n": n_projects, "nl": n_list, "bo": base_org, "no": n_orgs, "bn": base_no})
        conn.execute(text(
            "INSERT INTO monitoring_periods (project_id, number, start, \"end\", status, data_json, green_certificates_mwh, created_at, "
            " origin, verified_quantity) "
            "SELECT id, 1, DATE '2021-01-01', DATE '2022-12-31', 'registered', '{}', 0, now(), 'listing', estimate_tco2e "
            "FROM projects WHERE id > :bp AND status = 'registered'"), {"bp": base_project})
        # two vintages a registered project; the quantity a multiple of the blocks per issuance
        per = max(1, n_blocks // max(1, 2 * (n_projects // 4)))
        conn.execute(text(
            "INSERT INTO issuances (project_id, batch, vintage, first, last, quantity, account_id, issued_at, monitoring_period_id) "
            "SELECT p.id, 1, v, 1 + (v - 2021) * q, (v - 2020) * q, q, :acc, now() - ((p.id % 700) || ' days')::interval, m.id "
            "FROM projects p JOIN monitoring_periods m ON m.project_id = p.id "
            "CROSS JOIN generate_series(2021, 2022) v "
            "CROSS JOIN LATERAL (SELECT (:per * greatest(1, p.estimate_tco2e / 20 / :per))::bigint AS q) s "
            "WHERE p.id > :bp AND p.status = 'registered'"), {"acc": account_id, "per": per, "bp": base_project})
        conn.execute(text(
            "INSERT INTO retirements (account_id, project_id, vintage, quantity, purpose, beneficiary_name, retired_at) "
            "SELECT :acc, i.project_id, 2021, i.quantity / :per, 'public_good', '碳中和测试单位' || i.project_id, "
            " now() - ((i.project_id % 500) || ' days')::interval "
            "FROM issuances i WHERE i.project_id > :bp AND i.vintage = 2021"), {"acc": account_id, "per": per, "bp": base_project})
        conn.execute(text(
            "INSERT INTO serial_blocks (issuance_id, parent_id, account_id, project_id, vintage, first, last, status, active) "
            "SELECT i.id, NULL, :acc, i.project_id, i.vintage, i.first + k * (i.quantity / :per), i.first + (k + 1) * (i.quantity / :per) - 1, "
            " CASE WHEN k = 0 AND i.vintage = 2021 THEN 'retired' ELSE 'available' END, true "
            "FROM issuances i CROSS JOIN generate_series(0, :per - 1) k WHERE i.project_id > :bp"),
            {"acc": account_id, "per": per, "bp": base_project})
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("projects", "organisations", "issuances", "serial_blocks", "retirements")}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


class Counter:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kw):
        self.n += 1


def measure(client, counter: Counter, paths: list[str], expect=(200,)) -> dict:
    times, queries = [], []
    for path in paths:
        counter.n = 0
        t = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        queries.append(counter.n)
        if r.status_code not in expect:
            raise SystemExit(f"{path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(round(p / 100 * len(times))) - 1)]

    return {"p50": statistics.median(times), "p95": pct(95), "p99": pct(99), "q_min": min(queries), "q_max": max(queries)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=200_000)
    ap.add_argument("--blocks", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--pg", default=os.environ.get("CCER_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = ap.parse_args()
    load_models()
    name, url = _db(args.pg, "ccer_explorer")
    try:
        migrate.upgrade(url, "heads")  # every head: other work in progress may have a second one
        world = seed_world(url)
        counts = bulk(url, args.projects, args.blocks, world["account_id"])
        print(f"data: {counts['projects']:,} projects, {counts['organisations']:,} organisations, {counts['issuances']:,} issuances, "
              f"{counts['serial_blocks']:,} serial blocks, {counts['retirements']:,} retirements (bulk load {counts['seconds']} s)")
        app = create_app({"database_url": url, "secret_key": "bench", "instance_path": str(Path("/tmp") / name)})
        counter = Counter(app.extensions["ccer.engine"])
        client = app.test_client()
        rng = random.Random(17)
        rows = listing_rows()
        engine = app.extensions["ccer.engine"]
        with engine.connect() as conn:
            registered = [i for (i,) in conn.execute(text("SELECT id FROM projects WHERE status = 'registered' ORDER BY random() LIMIT :n"),
                                                     {"n": args.requests})]
        methods = sorted({r["methodology"] for r in rows})
        provinces = sorted({r["province"] for r in rows if r["province"]})

        def filtered():
            out = []
            for _ in range(args.requests):
                choice = rng.random()
                q = {"methodology": rng.choice(methods)} if choice < 0.4 else {"province": rng.choice(provinces)} if choice < 0.8 else \
                    {"methodology": rng.choice(methods), "province": rng.choice(provinces)}
                out.append("/projects/?" + "&".join(f"{k}={v}" for k, v in q.items()))
            return out

        def second_pages(firsts):
            out = []
            for path in firsts[: args.requests // 2]:
                page = client.get(path).get_data(as_text=True)
                marker = 'rel="next" href="'
                if marker in page:
                    out.append(page.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&"))
            return out or firsts[:1]

        def searches():
            out = []
            for _ in range(args.requests):
                name = rng.choice(rows)["name"]
                start = rng.randrange(0, max(1, len(name) - 4))
                out.append("/projects/?q=" + name[start:start + rng.choice((3, 4, 6))])
            return out

        firsts = filtered()
        cases = [
            ("filtered list", firsts),
            ("filtered list, next page", second_pages(firsts)),
            ("search", searches()),
            ("project page (bulk)", [f"/projects/{i}" for i in registered]),
            ("project page (real, timeline)", [f"/projects/{world['project_id']}"] * args.requests),
            ("certificate verification", [f"/registry/retirements/{rng.choice(world['certificates'])}" for _ in range(args.requests)]),
            ("open-data page", ["/open-data/"] * args.requests),
            ("open-data credits API (50)", ["/api/v1/open-data/credits?limit=50"] * args.requests),
        ]
        print(f"{'request':34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL/request':>12}")
        worst = 0.0
        for label, paths in cases:
            client.get(paths[0])  # warm: templates compiled, plans cached
            m = measure(client, counter, paths)
            worst = max(worst, m["p99"]) if "API" not in label else worst
            q = f"{m['q_min']}" if m["q_min"] == m["q_max"] else f"{m['q_min']}–{m['q_max']}"
            print(f"{label:34} {m['p50']:8.1f} {m['p95']:8.1f} {m['p99']:8.1f} {q:>12}")
        print(f"worst explorer page p99: {worst:.1f} ms (target < 50 ms): {'met' if worst < 50 else 'NOT met'}")
        engine.dispose()
    finally:
        if not args.keep:
            _drop(args.pg, name)


if __name__ == "__main__":
    main()
