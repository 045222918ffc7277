"""Conservation invariants of the registry, proven over every record by `ccer ledger verify`:

1. issuances never overlap on the unit axis, and each one's quantity = last − first + 1;
2. the active blocks of every issuance partition exactly its serial range — so every unit is in exactly one
   account and one status, and no balance can be negative (every block holds ≥ 1 unit);
3. every superseded block is partitioned exactly by the blocks cut from it (nothing created or lost in a cut);
4. retired and force-cancelled units never move again (their blocks are never superseded), each
   retirement's quantity equals its blocks, in its own account, project and vintage;
5. frozen units belong to an active freeze of their account.

Streamed, so that memory stays flat in the registry's size (issue #20): the blocks are read through a few
ordered scans of plain columns (server-side cursors on PostgreSQL), and only the issuances, the active
freezes and one group of blocks (a block's children, a retirement's blocks) are held at a time. The database
only selects and orders; every rule is decided here.
"""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.db import stream_rows
from .models import FINAL, FROZEN, RETIRED, STATUSES, Freeze, Issuance, Retirement, SerialBlock
from .purposes import CANCELLATIONS

_B = SerialBlock
#: rows fetched per round trip of a streamed scan
PAGE = 10_000


# A tiling of [first, last] by blocks taken in (first, last) order is checked one block at a time: each must start
# at the unit after the previous one (`_misfit`), and the last end at `last` (`_tail`); the first misfit is reported.

def _misfit(expect: int, a: int, b: int) -> str | None:
    """None when the next block of a tiling, [a, b], starts at `expect` (the unit after the previous block)."""
    if a < expect:
        return f"units {a}–{min(b, expect - 1)} are in two blocks"
    if a > expect:
        return f"units {expect}–{a - 1} are in no block"
    return None


def _tail(expect: int, last: int) -> str | None:
    """None when a tiling whose blocks end at `expect` − 1 ends exactly at `last`."""
    if expect != last + 1:
        return f"units {expect}–{last} are in no block" if expect <= last else f"units {last + 1}–{expect - 1} lie outside the range"
    return None


def _scan(session: Session, stmt) -> Iterator:
    """Rows of `stmt` as they come, `PAGE` at a time, no ORM machinery per row (plain integer, string and boolean
    columns: on PostgreSQL the driver's tuples)."""
    return stream_rows(session, stmt, PAGE)


def check(session: Session) -> Iterator[str]:
    """Every rule, in order (the ledger runs the three parts as separate invariants, so that `ledger verify` can
    share them between its processes)."""
    for part in PARTS:
        yield from part(session)


def _issuances(session: Session) -> tuple[dict[int, tuple[int, int, int, int]], list[str]]:
    """Issuance id → (project_id, vintage, first, last), O(issuances), and rule 1 over them, in unit order."""
    issuances: dict[int, tuple[int, int, int, int]] = {}
    problems, prev = [], None
    for iid, project_id, vintage, first, last, quantity in session.execute(
            select(Issuance.id, Issuance.project_id, Issuance.vintage, Issuance.first, Issuance.last, Issuance.quantity)
            .order_by(Issuance.first, Issuance.id)):
        issuances[iid] = (project_id, vintage, first, last)
        if quantity != last - first + 1:
            problems.append(f"issuance {iid}: quantity {quantity} ≠ last − first + 1 = {last - first + 1}")
        if prev is not None and first <= prev[1]:
            problems.append(f"issuances {prev[0]} and {iid} overlap on units {first}–{min(last, prev[1])}")
        prev = (iid, last)
    return issuances, problems


def check_blocks(session: Session) -> Iterator[str]:
    """Rule 1, then rules 3–5 block by block."""
    issuances, problems = _issuances(session)
    yield from problems
    yield from _blocks(session, issuances)


def check_partitions(session: Session) -> Iterator[str]:
    """Rule 2."""
    yield from _partitions(session, _issuances(session)[0])


def check_retirements(session: Session) -> Iterator[str]:
    """Rule 4, retirement by retirement."""
    yield from _retirements(session)


def _blocks(session: Session, issuances: dict[int, tuple[int, int, int, int]]) -> Iterator[str]:
    """Each block on its own (rules 2, 4 and 5), and rule 3: every block, in id order (the primary key), merged
    with the blocks cut from it in (parent, first) order — so one block's children are held at a time. No index
    serves that order (a parent index would be paid by every cut, models.SerialBlock): PostgreSQL sorts it, in
    its own bounded work memory, spilling to disk."""
    # rule 5: the active freezes by id → their account (few: the court orders in force)
    frozen_in = dict(session.execute(select(Freeze.id, Freeze.account_id).where(Freeze.status == "active")).all())
    blocks = _scan(session, select(_B.id, _B.issuance_id, _B.project_id, _B.vintage, _B.first, _B.last, _B.status,
                                   _B.active, _B.account_id, _B.freeze_id, _B.retirement_id).order_by(_B.id))
    cuts = iter(_scan(session, select(_B.parent_id, _B.first, _B.last, _B.id)
                      .where(_B.parent_id.is_not(None)).order_by(_B.parent_id, _B.first, _B.last, _B.id)))
    cut = next(cuts, None)
    for bid, issuance_id, project_id, vintage, first, last, status, active, account_id, freeze_id, retirement_id in blocks:
        if last < first:
            yield f"serial block {bid} holds {last - first + 1} units (negative balance)"
        if status not in STATUSES:
            yield f"serial block {bid} has unknown status {status!r}"
        iss = issuances.get(issuance_id)
        if iss is None or project_id != iss[0] or vintage != iss[1]:
            yield f"serial block {bid} does not match its issuance's project and vintage"

        # 3. lineage: the children of this block (children of no block cannot exist: the foreign key)
        while cut is not None and cut[0] < bid:
            cut = next(cuts, None)
        if active:
            if cut is not None and cut[0] == bid:
                kids = []
                while cut is not None and cut[0] == bid:
                    kids.append(cut[3])
                    cut = next(cuts, None)
                yield f"serial block {bid} is active but was cut into blocks {sorted(kids)}"
        else:  # its children, in unit order, tile it exactly
            expect, gap = first, None
            while cut is not None and cut[0] == bid:
                if gap is None:
                    gap = _misfit(expect, cut[1], cut[2]) if cut[1] != expect else None
                    expect = cut[2] + 1
                cut = next(cuts, None)
            gap = gap or _tail(expect, last)
            if gap:
                yield f"serial block {bid} was superseded but its children do not tile it: {gap}"

        # 4. final units never move again
        if status in FINAL:
            if not active:
                yield f"serial block {bid} was {status} and then moved again"
            if retirement_id is None:
                yield f"serial block {bid} is {status} without a retirement record"
        # 5. frozen units
        elif active and status == FROZEN and (freeze_id not in frozen_in or frozen_in[freeze_id] != account_id):
            yield f"serial block {bid} is frozen without an active freeze of its account"


def _partitions(session: Session, issuances: dict[int, tuple[int, int, int, int]]) -> Iterator[str]:
    """Rule 2 over the active blocks in unit order (the live range index, ix_serial_blocks_range): each issuance's
    blocks come among them in its own unit order, so one position per issuance is all there is to hold."""
    expect = {iid: iss[2] for iid, iss in issuances.items()}  # the next unit each issuance's blocks must start at
    wrong: dict[int, str] = {}  # an issuance's first misfit, after which its blocks are not followed
    for issuance_id, a, b in _scan(session, select(_B.issuance_id, _B.first, _B.last)
                                   .where(_B.active).order_by(_B.first, _B.last)):
        at = expect.get(issuance_id)
        if at is None:  # an unknown issuance (a block of it is named above) or one already wrong
            continue
        if a != at:
            wrong[issuance_id] = _misfit(at, a, b)
            del expect[issuance_id]
        else:
            expect[issuance_id] = b + 1

    # an issuance's first block (the one with no parent): one, covering exactly its range
    roots: dict[int, list] = {}  # issuance id → [how many, first, last of one]
    for issuance_id, a, b in _scan(session, select(_B.issuance_id, _B.first, _B.last).where(_B.parent_id.is_(None))):
        seen = roots.setdefault(issuance_id, [0, a, b])
        seen[0] += 1

    for iid in sorted(issuances):
        first, last = issuances[iid][2:]
        gap = wrong.get(iid) or _tail(expect[iid], last)
        if gap:
            yield f"issuance {iid} ({first}–{last}): {gap}"
        if roots.get(iid) != [1, first, last]:
            yield f"issuance {iid}: its first block does not cover exactly {first}–{last}"


def _retirements(session: Session) -> Iterator[str]:
    """Rule 4: each retirement, in id order, merged with the active blocks that name it (the retirement index)."""
    held = iter(_scan(session, select(_B.retirement_id, _B.id, _B.account_id, _B.project_id, _B.vintage, _B.status,
                                      _B.first, _B.last)
                      .where(_B.retirement_id.is_not(None), _B.active).order_by(_B.retirement_id, _B.id)))
    block = next(held, None)
    for rid, quantity, purpose, account_id, project_id, vintage in _scan(session, select(
            Retirement.id, Retirement.quantity, Retirement.purpose, Retirement.account_id, Retirement.project_id,
            Retirement.vintage).order_by(Retirement.id)):
        while block is not None and block[0] < rid:
            block = next(held, None)
        rb = []
        while block is not None and block[0] == rid:
            rb.append(block)
            block = next(held, None)
        total = sum(b[7] - b[6] + 1 for b in rb)
        if total != quantity:
            yield f"retirement {_number(session, rid)}: {quantity} tCO2e on the certificate, {total} in its blocks"
        want = "cancelled" if purpose in CANCELLATIONS else RETIRED
        for b in rb:
            if (b[2], b[3], b[4], b[5]) != (account_id, project_id, vintage, want):
                yield f"retirement {_number(session, rid)}: block {b[1]} is not {want} in its account, project and vintage"


def _number(session: Session, retirement_id: int) -> str:
    """The certificate number, as the record itself gives it (only when there is something wrong to say)."""
    return session.get(Retirement, retirement_id).number


#: the rules in three parts that read different scans (the largest first)
PARTS = (check_blocks, check_partitions, check_retirements)


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    for part in PARTS:
        ledger.register_invariant(part)
