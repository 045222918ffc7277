"""Picking units out of an account and cutting serial blocks: the only code that changes blocks.

A block's range never changes. Moving, freezing or retiring part of a block *supersedes* it (active =
False) by children that tile its range: the piece that moves, with its new account/status, and the
remainders, which keep the block's own. Every service that moves or re-labels units first locks the
accounts involved (`lock_accounts`: row locks on PostgreSQL in id order, so two operations in opposite
directions cannot deadlock; FOR NO KEY UPDATE, so the key-share locks that inserting a block referencing
an account takes never wait on them), then picks the units (`pick`), then cuts.

Cutting is planned in memory (`Cut`) and written set-wise (`Cut.write`): one UPDATE supersedes the picked
blocks — it must hit exactly the blocks planned, still active, so even a path that forgot the account lock
could not spend a block twice — and one multi-row INSERT adds the children, whose ids come from the
table's own sequence. A block cut twice inside one plan (the exchange's day of trades) is written once,
already superseded. One planner serves a single transfer and a day's 100,000 settlements alike.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..infra.db import allocate_ids, insert_many
from ..infra.errors import Conflict, ValidationError
from ..projects.models import Project
from . import legacy
from .models import AVAILABLE, Account, Issuance, SerialBlock
from .serials import RULE, Serial, format_serial

OVERSPEND_RULE = "no over-spending: only units the account holds in that status can move (Measures Art. 6)"
#: the columns of a block's vouched state (the ledger subject "serial_block")
STATE_FIELDS = ("issuance_id", "parent_id", "account_id", "first", "last", "status", "active", "freeze_id", "retirement_id")
_blocks = SerialBlock.__table__


@dataclass(frozen=True, slots=True)
class Block:
    """A serial block's row, as read or as planned (not an ORM object: cuts never load those)."""

    id: int
    issuance_id: int
    parent_id: int | None
    account_id: int
    project_id: int
    vintage: int
    first: int
    last: int
    status: str
    active: bool
    freeze_id: int | None
    retirement_id: int | None

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def state(self) -> dict:
        return {f: getattr(self, f) for f in STATE_FIELDS}


def block_state(row) -> dict:
    """The vouched state of a block (ORM object, row or Block)."""
    return {f: getattr(row, f) for f in STATE_FIELDS}


_BLOCK_COLUMNS = [_blocks.c[name] for name in Block.__dataclass_fields__]


def _rows(session: Session, stmt) -> list[Block]:
    return [Block(*row) for row in session.execute(stmt)]


def live_blocks(session: Session, *where) -> list[Block]:
    """Live blocks matching the conditions, in serial order."""
    return _rows(session, select(*_BLOCK_COLUMNS).where(_blocks.c.active, *where).order_by(_blocks.c.first))


@dataclass(frozen=True)
class Piece:
    """Units [first, last] of a block, about to change hands or status."""

    block: Block
    first: int
    last: int

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1


def lock_accounts(session: Session, *account_ids: int) -> dict[int, Account]:
    ids = sorted(set(account_ids))
    rows = session.execute(select(Account).where(Account.id.in_(ids)).order_by(Account.id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True)).scalars().all()
    return {a.id: a for a in rows}


def take(blocks: Iterable[Block], quantity: int) -> tuple[list[Piece], int]:
    """`quantity` units from the lowest serial numbers up: (pieces, units still missing)."""
    pieces, need = [], quantity
    for block in blocks:
        if need == 0:
            break
        n = min(need, block.quantity)
        pieces.append(Piece(block, block.first, block.first + n - 1))
        need -= n
    return pieces, need


def shortfall_message(account_number: str, held: int, asked: int, statuses: Iterable[str], project_no: int | None = None,
                      vintage: int | None = None) -> str:
    what = " ".join(x for x in (f"of project {project_no:06d}" if project_no else "", f"vintage {vintage}" if vintage else "") if x)
    return f"account {account_number} holds {held} tCO2e {'/'.join(statuses)} {what}".rstrip() + f"; {asked} asked for"


def pick(
    session: Session,
    account: Account,
    quantity: int | None,
    *,
    statuses: tuple[str, ...] = (AVAILABLE,),
    project: Project | None = None,
    vintage: int | None = None,
    serial: Serial | None = None,
    freeze_id: int | None = None,
) -> list[Piece]:
    """Units of `account` in one of `statuses` — a named serial range, or `quantity` units of the given
    project and vintage taken from the lowest serial numbers up. Refuses rather than returning fewer."""
    if serial is not None:
        return [_pick_range(session, account, serial, quantity, statuses)]
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValidationError("must be a whole number of tCO2e ≥ 1", field="quantity")
    where = [_blocks.c.account_id == account.id, _blocks.c.status.in_(statuses)]
    if project is not None:
        where.append(_blocks.c.project_id == project.id)
    if vintage is not None:
        where.append(_blocks.c.vintage == vintage)
    if freeze_id is not None:
        where.append(_blocks.c.freeze_id == freeze_id)
    pieces, missing = take(live_blocks(session, *where), quantity)
    if missing:
        raise ValidationError(shortfall_message(account.number, quantity - missing, quantity, statuses,
                                                project.registry_no if project else None, vintage),
                              field="quantity", rule=OVERSPEND_RULE)
    return pieces


def _pick_range(session: Session, account: Account, serial: Serial, quantity: int | None, statuses) -> Piece:
    if quantity is not None and quantity != serial.quantity:
        raise ValidationError(f"the serial range holds {serial.quantity} tCO2e, the quantity says {quantity}", field="quantity", rule=RULE)
    found = live_blocks(session, _blocks.c.first <= serial.first, _blocks.c.last >= serial.first)
    block = found[0] if found else None
    if block is None or block.last < serial.last:
        raise ValidationError("no block on record holds that whole serial range", field="serial", rule=OVERSPEND_RULE)
    project, batch = _serial_context(session, [block])[block.issuance_id]
    if (serial.sector, serial.project_no, serial.vintage, serial.batch) != (project[0], project[1], block.vintage, batch):
        raise ValidationError("the serial's project, vintage or batch does not match the units on record", field="serial", rule=RULE)
    if block.account_id != account.id:
        raise ValidationError(f"units {serial.first}–{serial.last} are not in account {account.number}", field="serial", rule=OVERSPEND_RULE)
    if block.status not in statuses:
        raise ValidationError(f"units {serial.first}–{serial.last} are {block.status}, not {'/'.join(statuses)}", field="serial", rule=OVERSPEND_RULE)
    return Piece(block, serial.first, serial.last)


# ---- cutting --------------------------------------------------------------------------------------------------


class Cut:
    """A plan of cuts, written at once. `apply` may be called many times; a block created by an earlier
    `apply` may be cut again by a later one (it is then written already superseded)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        #: existing blocks to supersede, by id
        self._stored: dict[int, Block] = {}
        #: blocks to insert, by id (their `active` as of the end of the plan)
        self._new: dict[int, Block] = {}
        self._ids: list[int] = []
        self._batch = 0

    def apply(self, pieces: list[Piece], **new) -> tuple[list[Block], list[Block]]:
        """Supersede each picked block by the piece with the `new` attributes (account_id, status,
        freeze_id, retirement_id) and the remainders with the block's own. Returns (the moved blocks,
        every block created or superseded) — the latter's states are what the event vouches for."""
        self._reserve(3 * len(pieces))
        moved, touched = [], []
        for piece in pieces:
            old = piece.block
            if old.id in self._new:
                if not self._new[old.id].active:
                    raise Conflict(f"serial block {old.id} was cut twice in one plan", field="serial")
            elif old.id in self._stored:
                raise Conflict(f"serial block {old.id} was cut twice in one plan", field="serial")
            gone = replace(old, active=False)
            (self._new if old.id in self._new else self._stored)[old.id] = gone
            parts = [replace(old, id=self._ids.pop(), parent_id=old.id, first=piece.first, last=piece.last, **new)]
            if old.first < piece.first:
                parts.append(replace(old, id=self._ids.pop(), parent_id=old.id, last=piece.first - 1))
            if piece.last < old.last:
                parts.append(replace(old, id=self._ids.pop(), parent_id=old.id, first=piece.last + 1))
            for part in parts:
                self._new[part.id] = part
            moved.append(parts[0])
            touched.extend([gone, *parts])
        return moved, touched

    def _reserve(self, n: int) -> None:
        """Ids for the next n blocks, taken from the sequence in growing batches (a long plan asks rarely;
        ids left unused are only gaps)."""
        if len(self._ids) < n:
            self._batch = min(max(n - len(self._ids), 2 * self._batch), 65_536)
            self._ids[:0] = reversed(allocate_ids(self.session, _blocks, self._batch))

    def write(self) -> None:
        """Supersede the stored blocks (each must still be active) and insert the new ones."""
        ids = list(self._stored)
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            hit = self.session.execute(update(_blocks).where(_blocks.c.id.in_(chunk), _blocks.c.active)
                                       .values(active=False)).rowcount
            if hit != len(chunk):
                raise Conflict("serial blocks changed while this operation ran; nothing was moved, try again", field="serial")
        insert_many(self.session, _blocks, [{f: getattr(b, f) for f in Block.__dataclass_fields__} for b in self._new.values()])
        for obj in list(self.session.identity_map.values()):  # ORM copies of blocks are stale now
            if isinstance(obj, SerialBlock):
                self.session.expire(obj)
        self._stored, self._new = {}, {}


def cut(session: Session, pieces: list[Piece], **new) -> tuple[list[Block], list[Block]]:
    """Plan and write one cut (see Cut.apply)."""
    plan = Cut(session)
    moved, touched = plan.apply(pieces, **new)
    plan.write()
    return moved, touched


def vouch(blocks: Iterable[Block]) -> dict[str, dict]:
    """The states an event vouches for, keyed as the ledger wants them ("serial_block:ID")."""
    return {f"serial_block:{b.id}": b.state() for b in blocks}


# ---- serial numbers --------------------------------------------------------------------------------------


def _serial_context(session: Session, blocks: Iterable[Block | SerialBlock]) -> dict[int, tuple[tuple[str, int], int]]:
    """issuance id -> ((project sector, registry number), batch), in one query."""
    ids = {b.issuance_id for b in blocks}
    if not ids:
        return {}
    rows = session.execute(select(Issuance.id, Project.methodology_code, Project.registry_no, Issuance.batch)
                           .join(Project, Project.id == Issuance.project_id).where(Issuance.id.in_(ids)))
    return {i: ((sector_of(code), no), batch) for i, code, no, batch in rows}


def sector_of(methodology_code: str) -> str:
    """The methodology's field, e.g. "14" of CCER-14-001-V01 (Project.sector, read without loading projects)."""
    return methodology_code.split("-")[1]


def serials(session: Session, blocks: list[Block | SerialBlock]) -> list[str]:
    """The serial numbers of blocks (CN-CCER-SS-PPPPPP-YYYY-BBB-F-L), in the order given."""
    ctx = _serial_context(session, blocks)
    return [format_serial(ctx[b.issuance_id][0][0], ctx[b.issuance_id][0][1], b.vintage, ctx[b.issuance_id][1], b.first, b.last)
            for b in blocks]


def block_serial(session: Session, block: Block | SerialBlock, first: int | None = None, last: int | None = None) -> str:
    (sector, no), batch = _serial_context(session, [block])[block.issuance_id]
    return format_serial(sector, no, block.vintage, batch, block.first if first is None else first, block.last if last is None else last)


# ---- holdings ----------------------------------------------------------------------------------------------


def holdings(session: Session, account_id: int, include_final: bool = True) -> list[dict]:
    """Quantity by project, vintage and status (Registry Rules Art. 12)."""
    q = func.sum(SerialBlock.last - SerialBlock.first + 1)
    stmt = (select(SerialBlock.project_id, Project.registry_no, Project.title, Project.methodology_code, SerialBlock.vintage,
                   SerialBlock.status, q)
            .join(Project, Project.id == SerialBlock.project_id)
            .where(SerialBlock.account_id == account_id, SerialBlock.active)
            .group_by(SerialBlock.project_id, Project.registry_no, Project.title, Project.methodology_code, SerialBlock.vintage,
                      SerialBlock.status)
            .order_by(SerialBlock.project_id, SerialBlock.vintage, SerialBlock.status))
    rows = []
    for project_id, no, title, code, vintage, status, quantity in session.execute(stmt):
        if not include_final and status in ("retired", "cancelled"):
            continue
        rows.append({"project_id": project_id, "project_no": no, "project": title, "methodology": code, "vintage": vintage,
                     "status": status, "quantity": int(quantity),
                     **({"legacy": legacy.uses_of_code(code)} if legacy.uses_of_code(code) else {})})  # old CCERs' uses (Art. 49)
    return rows


class Pool:
    """Live blocks of some accounts in memory, by (account, status, project, vintage), in serial order — what
    a plan of many cuts picks from (the exchange's day of settlements), updated as it cuts."""

    def __init__(self, blocks: Iterable[Block]) -> None:
        self._by: dict[tuple, list[tuple[int, Block]]] = {}
        for b in blocks:
            self.add(b)

    @staticmethod
    def _key(b: Block) -> tuple:
        return (b.account_id, b.status, b.project_id, b.vintage)

    def add(self, b: Block) -> None:
        bisect.insort(self._by.setdefault(self._key(b), []), (b.first, b))

    def blocks(self, account_id: int, status: str, project_id: int, vintage: int) -> list[Block]:
        return [b for _, b in self._by.get((account_id, status, project_id, vintage), [])]

    def held(self, account_id: int, status: str, project_id: int, vintage: int) -> int:
        return sum(b.quantity for _, b in self._by.get((account_id, status, project_id, vintage), []))

    def apply(self, touched: list[Block]) -> None:
        """Take superseded blocks out and put live ones in."""
        for b in touched:
            if b.active:
                self.add(b)
            else:
                entries = self._by.get(self._key(b), [])
                i = bisect.bisect_left(entries, (b.first,))
                while i < len(entries) and entries[i][1].id != b.id:
                    i += 1
                if i < len(entries):
                    entries.pop(i)
