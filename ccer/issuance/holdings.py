"""Picking units out of an account and cutting serial blocks: the only code that changes blocks.

Every service that moves or re-labels units first locks the accounts involved (`lock_accounts`, row locks
on PostgreSQL taken in id order so two transfers in opposite directions cannot deadlock; FOR NO KEY UPDATE,
so the key-share locks that inserting a block referencing an account takes never wait on them), then picks the
units (`pick`), then `cut`s: each picked block is superseded by a conditional UPDATE that must hit exactly
one still-active row, so even a path that forgot the account lock could not spend a block twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationError
from ..projects.models import Project
from .models import AVAILABLE, Account, SerialBlock
from .serials import RULE, Serial, format_serial

OVERSPEND_RULE = "no over-spending: only units the account holds in that status can move (Measures Art. 6)"


@dataclass(frozen=True)
class Piece:
    """Units [first, last] of a block, about to change hands or status."""

    block: SerialBlock
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


def block_serial(session: Session, block: SerialBlock, first: int | None = None, last: int | None = None) -> str:
    issuance = block.issuance
    project = session.get(Project, block.project_id)
    return format_serial(project.sector, project.registry_no, issuance.vintage, issuance.batch,
                         block.first if first is None else first, block.last if last is None else last)


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
    stmt = select(SerialBlock).where(SerialBlock.account_id == account.id, SerialBlock.active, SerialBlock.status.in_(statuses))
    if project is not None:
        stmt = stmt.where(SerialBlock.project_id == project.id)
    if vintage is not None:
        stmt = stmt.where(SerialBlock.vintage == vintage)
    if freeze_id is not None:
        stmt = stmt.where(SerialBlock.freeze_id == freeze_id)
    pieces, need = [], quantity
    for block in session.execute(stmt.order_by(SerialBlock.first)).scalars():
        take = min(need, block.quantity)
        pieces.append(Piece(block, block.first, block.first + take - 1))
        need -= take
        if need == 0:
            return pieces
    held = quantity - need
    what = " ".join(x for x in (f"of project {project.registry_no:06d}" if project and project.registry_no else "",
                                f"vintage {vintage}" if vintage else "") if x)
    raise ValidationError(f"account {account.number} holds {held} tCO2e {'/'.join(statuses)} {what}".rstrip() + f"; {quantity} asked for",
                          field="quantity", rule=OVERSPEND_RULE)


def _pick_range(session: Session, account: Account, serial: Serial, quantity: int | None, statuses) -> Piece:
    if quantity is not None and quantity != serial.quantity:
        raise ValidationError(f"the serial range holds {serial.quantity} tCO2e, the quantity says {quantity}", field="quantity", rule=RULE)
    block = session.execute(
        select(SerialBlock).where(SerialBlock.active, SerialBlock.first <= serial.first, SerialBlock.last >= serial.first)
    ).scalar_one_or_none()
    if block is None or block.last < serial.last:
        raise ValidationError("no block on record holds that whole serial range", field="serial", rule=OVERSPEND_RULE)
    issuance, project = block.issuance, session.get(Project, block.project_id)
    if (serial.sector, serial.project_no, serial.vintage, serial.batch) != (project.sector, project.registry_no, issuance.vintage, issuance.batch):
        raise ValidationError("the serial's project, vintage or batch does not match the units on record", field="serial", rule=RULE)
    if block.account_id != account.id:
        raise ValidationError(f"units {serial.first}–{serial.last} are not in account {account.number}", field="serial", rule=OVERSPEND_RULE)
    if block.status not in statuses:
        raise ValidationError(f"units {serial.first}–{serial.last} are {block.status}, not {'/'.join(statuses)}", field="serial", rule=OVERSPEND_RULE)
    return Piece(block, serial.first, serial.last)


def cut(session: Session, pieces: list[Piece], **new) -> tuple[list[SerialBlock], list[SerialBlock]]:
    """Supersede each picked block by the piece with the `new` attributes (account_id, status, freeze_id,
    retirement_id) and the remainders with the block's own. Returns (the moved blocks, every block
    created or superseded), the latter for the event's vouched states."""
    moved, touched = [], []
    for piece in pieces:
        old = piece.block
        hit = session.execute(
            update(SerialBlock).where(SerialBlock.id == old.id, SerialBlock.active).values(active=False)
        ).rowcount
        if hit != 1:
            raise Conflict(f"serial block {old.id} changed while this operation ran; nothing was moved, try again", field="serial")
        keep = {"account_id": old.account_id, "status": old.status, "freeze_id": old.freeze_id, "retirement_id": old.retirement_id}
        parts = [(piece.first, piece.last, {**keep, **new})]
        if old.first < piece.first:
            parts.append((old.first, piece.first - 1, keep))
        if piece.last < old.last:
            parts.append((piece.last + 1, old.last, keep))
        children = [SerialBlock(issuance_id=old.issuance_id, parent_id=old.id, project_id=old.project_id, vintage=old.vintage,
                                first=f, last=l, active=True, **attrs) for f, l, attrs in parts]
        session.add_all(children)
        moved.append(children[0])
        touched.extend([old, *children])
    session.flush()
    return moved, touched


def touches(blocks: list[SerialBlock]) -> list[tuple[str, int]]:
    return [("serial_block", b.id) for b in blocks]


def holdings(session: Session, account_id: int, include_final: bool = True) -> list[dict]:
    """Quantity by project, vintage and status (Registry Rules Art. 12)."""
    q = func.sum(SerialBlock.last - SerialBlock.first + 1)
    stmt = (select(SerialBlock.project_id, SerialBlock.vintage, SerialBlock.status, q)
            .where(SerialBlock.account_id == account_id, SerialBlock.active)
            .group_by(SerialBlock.project_id, SerialBlock.vintage, SerialBlock.status)
            .order_by(SerialBlock.project_id, SerialBlock.vintage, SerialBlock.status))
    rows = []
    for project_id, vintage, status, quantity in session.execute(stmt):
        if not include_final and status in ("retired", "cancelled"):
            continue
        project = session.get(Project, project_id)
        rows.append({"project_id": project_id, "project_no": project.registry_no, "project": project.title,
                     "methodology": project.methodology_code, "vintage": vintage, "status": status, "quantity": int(quantity)})
    return rows
