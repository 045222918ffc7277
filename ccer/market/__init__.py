"""The exchange (交易机构, Trading and Settlement Rules): participants' trading and fund accounts, instruments,
sessions, the listing agreement (orders and lifts), risk rules, fees, end-of-day settlement through the
registry's settlement verbs, reconciliation and market data. It never touches serial blocks.

    models       the exchange's own records
    sessions     trading days and sessions
    bank         the settlement bank interface (simulated by default)
    accounts     trading accounts, operators, funds
    instruments  instruments, listing, halts, reference prices and limits
    positions    the exchange's positions: from the registry's moves and trading holdings, moved by settlement
    orders       挂牌协议: orders, lifts, cancellation, expiry; the 5-trading-day rule
    blocks       大宗协议: negotiated block trades, confirmed by the counterparty and the exchange
    auctions     单向竞价: one-way auctions with sealed, funded bids; uniform or pay-as-bid
    deals        the trade rows blocks and auctions make
    risk         position limits and large-holder reports
    marketdata   daily open/high/low/close, VWAP, volume, turnover, notices; CSV
    disputes     objections to a trade before the next open
    fees         commissions per method and side
    settlement   end-of-day delivery versus payment
    reconcile    the two ledgers agree, to the tonne and the fen
"""
from __future__ import annotations


def wire() -> None:
    """The exchange's event subjects and policy rules; once, by ccer.load_models."""
    from . import accounts, auctions, blocks, confirmations, disputes, instruments, orders, positions, risk, settlement

    for module in (accounts, auctions, blocks, confirmations, disputes, instruments, orders, positions, risk, settlement):
        module.wire()
