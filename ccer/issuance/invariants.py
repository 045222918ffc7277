"""Conservation invariants of the registry, proven over every record by `ccer ledger verify`:

1. issuances never overlap on the unit axis, and each one's quantity = last − first + 1;
2. the active blocks of every issuance partition exactly its serial range — so every unit is in exactly one
   account and one status, and no balance can be negative (every block holds ≥ 1 unit);
3. every superseded block is partitioned exactly by the blocks cut from it (nothing created or lost in a cut);
4. retired and force-cancelled units never move again (their blocks are never superseded), each
   retirement's quantity equals its blocks, in its own account, project and vintage;
5. frozen units belong to an active freeze of their account.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from .models import FINAL, FROZEN, RETIRED, STATUSES, Freeze, Issuance, Retirement, SerialBlock
from .purposes import CANCELLATIONS

_B = SerialBlock


def _gaps(ranges: list[tuple[int, int]], first: int, last: int) -> str | None:
    """None when the sorted ranges tile [first, last] exactly; else what is wrong."""
    expect = first
    for a, b in sorted(ranges):
        if a < expect:
            return f"units {a}–{min(b, expect - 1)} are in two blocks"
        if a > expect:
            return f"units {expect}–{a - 1} are in no block"
        expect = b + 1
    if expect != last + 1:
        return f"units {expect}–{last} are in no block" if expect <= last else f"units {last + 1}–{expect - 1} lie outside the range"
    return None


def check(session: Session) -> Iterator[str]:
    issuances = {i.id: i for i in session.execute(select(Issuance)).scalars()}
    cols = (_B.id, _B.issuance_id, _B.parent_id, _B.account_id, _B.project_id, _B.vintage, _B.first, _B.last,
            _B.status, _B.active, _B.freeze_id, _B.retirement_id)
    blocks = [dict(zip(("id", "issuance_id", "parent_id", "account_id", "project_id", "vintage", "first", "last",
                        "status", "active", "freeze_id", "retirement_id"), row)) for row in session.execute(select(*cols))]

    # 1. issuance ranges
    prev = None
    for iss in sorted(issuances.values(), key=lambda i: i.first):
        if iss.quantity != iss.last - iss.first + 1:
            yield f"issuance {iss.id}: quantity {iss.quantity} ≠ last − first + 1 = {iss.last - iss.first + 1}"
        if prev is not None and iss.first <= prev.last:
            yield f"issuances {prev.id} and {iss.id} overlap on units {iss.first}–{min(iss.last, prev.last)}"
        prev = iss

    active_by_issuance, children, roots = defaultdict(list), defaultdict(list), defaultdict(list)
    for b in blocks:
        iss = issuances.get(b["issuance_id"])
        if b["last"] < b["first"]:
            yield f"serial block {b['id']} holds {b['last'] - b['first'] + 1} units (negative balance)"
        if b["status"] not in STATUSES:
            yield f"serial block {b['id']} has unknown status {b['status']!r}"
        if iss is None or (b["project_id"], b["vintage"]) != (iss.project_id, iss.vintage):
            yield f"serial block {b['id']} does not match its issuance's project and vintage"
        if b["active"]:
            active_by_issuance[b["issuance_id"]].append((b["first"], b["last"]))
        (children[b["parent_id"]] if b["parent_id"] else roots[b["issuance_id"]]).append(b)

    # 2. active blocks partition each issuance
    for iss in issuances.values():
        gap = _gaps(active_by_issuance.get(iss.id, []), iss.first, iss.last)
        if gap:
            yield f"issuance {iss.id} ({iss.first}–{iss.last}): {gap}"
        root_ranges = [(r["first"], r["last"]) for r in roots.get(iss.id, [])]
        if root_ranges != [(iss.first, iss.last)]:
            yield f"issuance {iss.id}: its first block does not cover exactly {iss.first}–{iss.last}"

    # 3. lineage
    freezes = {f.id: f for f in session.execute(select(Freeze)).scalars()}
    for b in blocks:
        kids = [(k["first"], k["last"]) for k in children.get(b["id"], [])]
        if b["active"] and kids:
            yield f"serial block {b['id']} is active but was cut into blocks {[k['id'] for k in children[b['id']]]}"
        if not b["active"]:
            gap = _gaps(kids, b["first"], b["last"])
            if gap:
                yield f"serial block {b['id']} was superseded but its children do not tile it: {gap}"
        # 4. final units never move again
        if b["status"] in FINAL and not b["active"]:
            yield f"serial block {b['id']} was {b['status']} and then moved again"
        if b["status"] in FINAL and b["retirement_id"] is None:
            yield f"serial block {b['id']} is {b['status']} without a retirement record"
        # 5. frozen units
        if b["active"] and b["status"] == FROZEN:
            f = freezes.get(b["freeze_id"])
            if f is None or f.status != "active" or f.account_id != b["account_id"]:
                yield f"serial block {b['id']} is frozen without an active freeze of its account"

    held_by_retirement = defaultdict(list)
    for b in blocks:
        if b["active"] and b["retirement_id"] is not None:
            held_by_retirement[b["retirement_id"]].append(b)
    for r in session.execute(select(Retirement)).scalars():
        rb = held_by_retirement.get(r.id, [])
        total = sum(b["last"] - b["first"] + 1 for b in rb)
        if total != r.quantity:
            yield f"retirement {r.number}: {r.quantity} tCO2e on the certificate, {total} in its blocks"
        want = "cancelled" if r.purpose in CANCELLATIONS else RETIRED
        for b in rb:
            if (b["account_id"], b["project_id"], b["vintage"], b["status"]) != (r.account_id, r.project_id, r.vintage, want):
                yield f"retirement {r.number}: block {b['id']} is not {want} in its account, project and vintage"


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_invariant(check)
