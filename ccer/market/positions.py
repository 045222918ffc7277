"""The exchange's positions (Trading Rules Art. 10; [S7] 转移至交易平台): CCERs reach them from the registry's
moves into and out of trading accounts, taken in once and in order (a cursor), and from the registry's trading
holdings when an account is opened; settlement moves them between participants. They must equal the registry's
trading holdings after each day (reconcile.py). The registry's record is final (Measures Art. 6)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra.actor import Actor
from ..infra.db import mutating
from ..issuance import trading as registry_trading
from ..issuance.holdings import holdings as registry_holdings
from ..issuance.models import TRADING, Account, TradingMove
from ..projects.models import Project
from . import sessions
from .models import Instrument, Order, Position, RegistryCursor, TradingAccount


def position(session: Session, account_id: int, instrument_id: int, lock: bool = False) -> Position:
    stmt = select(Position).where(Position.trading_account_id == account_id, Position.instrument_id == instrument_id)
    pos = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if pos is None:
        pos = Position(trading_account_id=account_id, instrument_id=instrument_id, quantity=0, reserved=0)
        session.add(pos)
        session.flush()
    return pos


def _instrument_for(session: Session, project_id: int, vintage: int, account_id: int) -> Instrument:
    inst = session.execute(select(Instrument).where(Instrument.project_id == project_id, Instrument.vintage == vintage)).scalar_one_or_none()
    if inst is None:
        project = session.get(Project, project_id)
        inst = Instrument(code=Instrument.code_for(project.registry_no, vintage), project_id=project_id, vintage=vintage, status="unlisted",
                          initial_price=0, proposed_by=account_id, proposed_at=sessions.local_now(session))
        session.add(inst)
        session.flush()
    return inst


@mutating
def take_in_moves(session: Session, actor: Actor) -> int:
    """Take the registry's moves into and out of trading accounts into the exchange's positions (in order,
    once: a cursor). A move out below what open sell orders reserve cancels those orders, newest first —
    the registry's record is final (Measures Art. 6)."""
    newest, seen = session.execute(select(select(func.max(TradingMove.id)).scalar_subquery(),
                                          select(RegistryCursor.last_move_id).where(RegistryCursor.id == 1).scalar_subquery())).one()
    if newest is None or (seen is not None and seen >= newest):  # nothing new (one round trip, no lock): every order asks
        return 0
    cursor = session.execute(select(RegistryCursor).where(RegistryCursor.id == 1).with_for_update()).scalar_one_or_none()
    if cursor is None:
        cursor = RegistryCursor(id=1, last_move_id=0)
        session.add(cursor)
        session.flush()
    moves = registry_trading.moves_since(session, cursor.last_move_id)
    if not moves:
        return 0
    accounts = {a.registry_account_id: a for a in session.execute(select(TradingAccount).where(
        TradingAccount.registry_account_id.in_({m.account_id for m in moves}))).scalars()}
    for move in moves:
        account = accounts.get(move.account_id)
        cursor.last_move_id = move.id
        if account is None:  # bound by the registry to a trading account the exchange has not opened here
            continue
        inst = _instrument_for(session, move.project_id, move.vintage, account.id)
        pos = position(session, account.id, inst.id, lock=True)
        pos.quantity += move.quantity
        cancelled = _cancel_to_cover(session, pos) if pos.reserved > pos.quantity else []
        session.flush()
        ledger.record(session, actor, "market.position_moved", "position", pos.id, {"registry_move": move.id, "quantity": move.quantity},
                      touches=[("instrument", inst.id), *(("order", oid) for oid in cancelled)])
    return len(moves)


def _cancel_to_cover(session: Session, pos: Position) -> list[int]:
    cancelled = []
    orders = session.execute(select(Order).where(Order.trading_account_id == pos.trading_account_id, Order.instrument_id == pos.instrument_id,
                                                 Order.side == "sell", Order.status == "open").order_by(Order.id.desc())).scalars()
    for order in orders:
        if pos.reserved <= pos.quantity:
            break
        pos.reserved -= order.quantity - order.filled
        order.status = "cancelled"
        cancelled.append(order.id)
    return cancelled


def seed(session: Session, actor: Actor, account: TradingAccount) -> int:
    """A newly opened trading account's positions: what its registry account already holds in trading. The
    caller holds the registry account's row lock (no move of it commits meanwhile) and has taken in every
    earlier move, so nothing is counted twice; later moves come through take_in_moves."""
    n = 0
    for row in registry_holdings(session, account.registry_account_id):
        if row["status"] != TRADING:
            continue
        inst = _instrument_for(session, row["project_id"], row["vintage"], account.id)
        pos = position(session, account.id, inst.id, lock=True)
        pos.quantity += row["quantity"]
        session.flush()
        ledger.record(session, actor, "market.position_seeded", "position", pos.id, {"quantity": row["quantity"]},
                      touches=[("instrument", inst.id)])
        n += 1
    return n


def lock_registry_account(session: Session, account_id: int) -> None:
    """Hold the registry account as its moves do (FOR NO KEY UPDATE), so none of them commits meanwhile."""
    session.execute(select(Account.id).where(Account.id == account_id).with_for_update(key_share=True)).all()


def wire() -> None:
    """This module's event subject; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_fields("position", Position, ("trading_account_id", "instrument_id", "quantity", "reserved"))
