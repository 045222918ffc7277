"""Trade rows for every method — listing lifts (orders), negotiated blocks, auctions — with the method's
commissions, numbered by day and id, pending until the day's settlement delivers them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from ..infra.db import allocate_ids
from . import fees
from .models import Trade


@dataclass
class Deal:
    buyer_id: int
    seller_id: int
    buy_order_id: int | None
    sell_order_id: int | None
    price: int
    quantity: int


def make_trades(session: Session, method: str, instrument_id: int, day: date, now: datetime, deals: list[Deal]) -> list[Trade]:
    """Pending trades for these deals, added to the session (numbered like every trade: day and id)."""
    trades = []
    for tid, d in zip(allocate_ids(session, Trade.__table__, len(deals)), deals):
        amount = d.price * d.quantity
        trade = Trade(id=tid, ref=f"{day:%Y%m%d}-{tid:08d}", day=day, instrument_id=instrument_id, method=method, buyer_id=d.buyer_id,
                      seller_id=d.seller_id, buy_order_id=d.buy_order_id, sell_order_id=d.sell_order_id, price=d.price,
                      quantity=d.quantity, amount=amount, buyer_fee=fees.commission(method, "buy", amount),
                      seller_fee=fees.commission(method, "sell", amount), matched_at=now, status="pending")
        session.add(trade)
        trades.append(trade)
    session.flush()
    return trades
