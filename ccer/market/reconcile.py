"""Reconciliation (Trading Rules Art. 25–32; the two institutions' ledgers must always agree): the exchange's
positions equal the registry's trading holdings account by account, project and vintage; every fund balance
equals the sum of its movements and the money in the system equals deposits less withdrawals and fees; what
is reserved equals what open orders and unsettled trades hold; no order is over-filled. `ccer market
reconcile` exits non-zero naming the first difference."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..issuance.models import TRADING, SerialBlock
from .models import FundAccount, FundMovement, Instrument, Order, Position, Trade, TradingAccount
from .fees import buy_cost, schedule


def differences(session: Session) -> list[str]:
    out: list[str] = []
    accounts = {a.id: a for a in session.execute(select(TradingAccount)).scalars()}
    by_registry = {a.registry_account_id: a for a in accounts.values()}
    insts = {i.id: i for i in session.execute(select(Instrument)).scalars()}
    inst_of = {(i.project_id, i.vintage): i for i in insts.values()}

    # positions against the registry's trading holdings
    registry = Counter()
    for account_id, project_id, vintage, q in session.execute(
            select(SerialBlock.account_id, SerialBlock.project_id, SerialBlock.vintage, func.sum(SerialBlock.last - SerialBlock.first + 1))
            .where(SerialBlock.active, SerialBlock.status == TRADING,
                   SerialBlock.account_id.in_(list(by_registry)) if by_registry else False)
            .group_by(SerialBlock.account_id, SerialBlock.project_id, SerialBlock.vintage)):
        inst = inst_of.get((project_id, vintage))
        registry[(by_registry[account_id].id, inst.id if inst else f"{project_id}/{vintage}")] += int(q)
    exchange = Counter()
    reserved_pos = {}
    for p in session.execute(select(Position)).scalars():
        exchange[(p.trading_account_id, p.instrument_id)] += p.quantity
        reserved_pos[(p.trading_account_id, p.instrument_id)] = p.reserved
        if p.quantity < 0 or p.reserved < 0 or p.reserved > p.quantity:
            out.append(f"position {accounts[p.trading_account_id].number} {insts[p.instrument_id].code}: quantity {p.quantity}, reserved {p.reserved}")
    for key in sorted(set(registry) | set(exchange), key=str):
        if registry[key] != exchange[key]:
            account, inst = accounts[key[0]], insts.get(key[1])
            out.append(f"{account.number} {inst.code if inst else key[1]}: the exchange's position is {exchange[key]} t, "
                       f"the registry's trading holding {registry[key]} t")

    # funds: balances are their movements; reservations are what orders and unsettled trades hold
    moved = dict(session.execute(select(FundMovement.fund_account_id, func.sum(FundMovement.amount)).group_by(FundMovement.fund_account_id)).all())
    expect_funds, expect_pos = Counter(), Counter()
    for o in session.execute(select(Order).where(Order.status == "open")).scalars():
        remaining = o.quantity - o.filled
        if o.side == "buy":
            expect_funds[o.trading_account_id] += buy_cost(schedule(o.method), o.price * remaining)
        else:
            expect_pos[(o.trading_account_id, o.instrument_id)] += remaining
    for t in session.execute(select(Trade).where(Trade.status == "pending")).scalars():
        expect_funds[t.buyer_id] += t.amount + t.buyer_fee
        expect_pos[(t.seller_id, t.instrument_id)] += t.quantity
    for f in session.execute(select(FundAccount).order_by(FundAccount.id)).scalars():
        number = accounts[f.trading_account_id].number
        if f.balance != int(moved.get(f.id, 0)):
            out.append(f"{number} fund balance {f.balance} fen, its movements sum to {int(moved.get(f.id, 0))} fen")
        if f.reserved != expect_funds[f.trading_account_id]:
            out.append(f"{number} reserves {f.reserved} fen; open buy orders and unsettled purchases hold {expect_funds[f.trading_account_id]} fen")
        if f.reserved < 0 or f.reserved > f.balance:
            out.append(f"{number} reserves {f.reserved} fen of a balance of {f.balance}")
    for key, reserved in reserved_pos.items():
        if reserved != expect_pos[key]:
            out.append(f"{accounts[key[0]].number} {insts[key[1]].code} reserves {reserved} t; open sell orders and unsettled sales hold {expect_pos[key]} t")
    for o in session.execute(select(Order).where(Order.filled > Order.quantity)).scalars():
        out.append(f"order {o.id} filled {o.filled} of {o.quantity}")
    external = session.execute(select(func.coalesce(func.sum(FundMovement.amount), 0)).where(
        FundMovement.kind.in_(("deposit", "withdrawal", "fee")))).scalar_one()
    total = session.execute(select(func.coalesce(func.sum(FundAccount.balance), 0))).scalar_one()
    if total != external:
        out.append(f"the fund accounts hold {total} fen; deposits less withdrawals and fees are {external} fen")
    return out
