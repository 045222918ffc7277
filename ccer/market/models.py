"""The exchange's own records (Trading and Settlement Rules, ccer-rules.md §7): participants' trading and fund
accounts, instruments, orders, trades, positions and funds. The exchange never touches serial blocks: CCERs
reach its positions from the registry's moves into trading accounts, and settled trades go back to the
registry through its settlement verbs (ccer/issuance/trading.py). Money is integer fen; prices are fen per
tCO2e (the 0.01 CNY tick is one fen); quantities are whole tCO2e.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..infra.db import Base


class TradingAccount(Base):
    """One trading account per participant (Trading Rules Art. 7), bound to its registry account."""

    __tablename__ = "market_trading_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the account number the registry binding names, e.g. TA00000012
    number: Mapped[str] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    registry_account_id: Mapped[int] = mapped_column(ForeignKey("registry_accounts.id"), unique=True)
    #: open | restricted | closed (Art. 8; restrictions Art. 27)
    status: Mapped[str] = mapped_column(String(12), default="open")
    #: key emitting units are exempt from the opening and annual fees (ccer-rules.md §7 Fees)
    fee_exempt: Mapped[bool] = mapped_column(default=False)
    opened_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    organisation: Mapped[Organisation] = relationship()


class Operator(Base):
    """A user who trades for a participant: at most five per account, each with its permissions ([S7])."""

    __tablename__ = "market_operators"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trading_account_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    #: space-separated permissions: order lift block auction funds
    permissions: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime]


class FundAccount(Base):
    """The participant's sub-account of the segregated settlement funds, bound to one same-name bank account."""

    __tablename__ = "market_fund_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trading_account_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), unique=True)
    bank_name: Mapped[str] = mapped_column(String(120))
    bank_account_no: Mapped[str] = mapped_column(String(40))
    #: the bank account holder's name: must be the participant's own (same-name account, [S7])
    bank_account_name: Mapped[str] = mapped_column(String(200))
    #: fen
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    #: fen held for open buy orders, bids and unsettled purchases
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)


class FundMovement(Base):
    """Every change of a fund balance: deposit, withdrawal, purchase, sale, fee (in fen, signed)."""

    __tablename__ = "market_fund_movements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fund_account_id: Mapped[int] = mapped_column(ForeignKey("market_fund_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    #: the bank's reference, or the trade number
    ref: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime]


class Instrument(Base):
    """CCERs of one project and vintage moved into the trading system (Trading Rules Art. 10)."""

    __tablename__ = "market_instruments"
    __table_args__ = (UniqueConstraint("project_id", "vintage"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: e.g. CCER-000001-2021 (project registry number, vintage)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    #: proposed | listed ([S7] 标的物维护/上市: the first participant proposes, the exchange confirms)
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    #: the initial reference price the first participant proposed, fen/t
    initial_price: Mapped[int] = mapped_column(BigInteger)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"))
    proposed_at: Mapped[datetime]
    #: the first trading day (T+1 after the exchange confirmed, Art. 17)
    listed_from: Mapped[date | None] = mapped_column(nullable=True)
    #: halted until resumed (Art. 21–23: time lost is not made up)
    halted: Mapped[bool] = mapped_column(default=False)

    @staticmethod
    def code_for(registry_no: int, vintage: int) -> str:
        """CCER-000001-2021: the project's registry number and the vintage."""
        return f"CCER-{registry_no:06d}-{vintage}"


class ReferencePrice(Base):
    """The day's reference price (基准价): the previous trading day's VWAP of listing-agreement trades,
    rounded to the tick, carried forward when there were none (Art. 17)."""

    __tablename__ = "market_reference_prices"
    __table_args__ = (UniqueConstraint("instrument_id", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    day: Mapped[date]
    price: Mapped[int] = mapped_column(BigInteger)
    #: vwap | carried | initial
    basis: Mapped[str] = mapped_column(String(8))


class Position(Base):
    """The exchange's record of a participant's CCERs of one instrument; must equal the registry's trading
    holding of that account, project and vintage after each day's settlement (reconcile.py)."""

    __tablename__ = "market_positions"
    __table_args__ = (UniqueConstraint("trading_account_id", "instrument_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trading_account_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    #: held for open sell orders and unsettled sales
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)


class Order(Base):
    """A listing-agreement order (挂牌), a block-agreement proposal (大宗) or an auction bid (竞价)."""

    __tablename__ = "market_orders"
    __table_args__ = (
        # the book: open listing orders of an instrument and side, best price first, then time
        Index("ix_market_orders_book", "instrument_id", "side", "price", "id",
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    trading_account_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    operator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    #: listing | block | bid | auction (an auction initiator's reserving order)
    method: Mapped[str] = mapped_column(String(8))
    #: buy | sell
    side: Mapped[str] = mapped_column(String(4))
    #: fen/t
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    filled: Mapped[int] = mapped_column(BigInteger, default=0)
    #: open | filled | cancelled | expired (unfilled at the close)
    status: Mapped[str] = mapped_column(String(10), default="open")
    #: the trading day it was entered on
    day: Mapped[date]
    entered_at: Mapped[datetime]
    #: block agreement: the counterparty named; auction bids: the auction
    counterparty_id: Mapped[int | None] = mapped_column(ForeignKey("market_trading_accounts.id"), nullable=True)
    auction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Trade(Base):
    """A matched trade, final when matched (Art. 19), settled after the close (Art. 25–32)."""

    __tablename__ = "market_trades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the trade number sent to the registry, e.g. 20261207-000042
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    day: Mapped[date] = mapped_column(index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    buy_order_id: Mapped[int | None] = mapped_column(ForeignKey("market_orders.id"), nullable=True)
    sell_order_id: Mapped[int | None] = mapped_column(ForeignKey("market_orders.id"), nullable=True)
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: price × quantity, fen
    amount: Mapped[int] = mapped_column(BigInteger)
    buyer_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    seller_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    matched_at: Mapped[datetime]
    #: pending | settled | failed
    status: Mapped[str] = mapped_column(String(8), default="pending")
    settled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: the registry's delivery (registry_transfers.id), or why it failed
    transfer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegistryCursor(Base):
    """How far the exchange has taken in the registry's moves into and out of trading accounts."""

    __tablename__ = "market_registry_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_move_id: Mapped[int] = mapped_column(Integer, default=0)


class BlockAgreement(Base):
    """A 大宗协议 (block agreement, Trading Rules Art. 13, 16): one side enters it naming the counterparty, the
    counterparty confirms, the exchange confirms, and the trade is made. Each side's reservation is an Order
    (method "block") so that what is held is accounted for like any order's (reconcile.py)."""

    __tablename__ = "market_block_agreements"
    __table_args__ = (Index("ix_market_block_agreements_day_status", "day", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    #: the side that entered it, and the side it took (buy | sell)
    initiator_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    side: Mapped[str] = mapped_column(String(4))
    #: the counterparty it names
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    #: fen/t
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: the initiator's reservation, and the counterparty's once it confirms
    initiator_order_id: Mapped[int] = mapped_column(ForeignKey("market_orders.id"))
    counterparty_order_id: Mapped[int | None] = mapped_column(ForeignKey("market_orders.id"), nullable=True)
    #: proposed | agreed (the counterparty confirmed) | confirmed (the exchange confirmed: traded) |
    #: cancelled (by the initiator) | declined (by the counterparty) | rejected (by the exchange) | expired (at the close)
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    #: the trading day it was entered on (it expires at that day's close)
    day: Mapped[date]
    entered_at: Mapped[datetime]
    agreed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("market_trades.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Auction(Base):
    """A 单向竞价 (one-way auction, Trading Rules Art. 14): the initiator sells (or buys) a quantity with a reserve
    price; bidders submit sealed, funded bids (Orders of method "bid" naming the auction) within the window;
    at its end bids are allocated by price then time, under uniform or pay-as-bid pricing."""

    __tablename__ = "market_auctions"
    __table_args__ = (Index("ix_market_auctions_day_status", "day", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    initiator_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    #: the initiator's side: sell (bidders buy) | buy (bidders sell)
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: fen/t: the lowest bid a sell auction accepts, the highest offer a buy auction accepts
    reserve_price: Mapped[int] = mapped_column(BigInteger)
    #: uniform | pay_as_bid
    pricing: Mapped[str] = mapped_column(String(10))
    #: the trading day of the window, and the window itself [start, end)
    day: Mapped[date]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    #: the initiator's reservation (an Order of method "auction")
    order_id: Mapped[int] = mapped_column(ForeignKey("market_orders.id"))
    #: announced | closed (results published) | cancelled
    status: Mapped[str] = mapped_column(String(10), default="announced")
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: results: bids received (valid at the close), bidders, winning bids, tonnes allocated, turnover in fen, and
    #: under uniform pricing the clearing price (fen/t)
    bids: Mapped[int] = mapped_column(Integer, default=0)
    bidders: Mapped[int] = mapped_column(Integer, default=0)
    winners: Mapped[int] = mapped_column(Integer, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    turnover: Mapped[int] = mapped_column(BigInteger, default=0)
    clearing_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class PositionLimit(Base):
    """A maximum position (最大持仓量, Trading Rules Art. 36–43) the exchange sets: for one participant or all
    (trading_account_id NULL), in one instrument or all (instrument_id NULL); the most specific applies."""

    __tablename__ = "market_position_limits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("market_instruments.id"), nullable=True)
    trading_account_id: Mapped[int | None] = mapped_column(ForeignKey("market_trading_accounts.id"), nullable=True)
    #: tCO2e
    max_quantity: Mapped[int] = mapped_column(BigInteger)
    set_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class LargeHolderReport(Base):
    """A large-holder report (大户报告, Art. 36–43): a participant's position reached the configured share of its
    limit. Public; open until the position falls below the threshold again."""

    __tablename__ = "market_large_holder_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the trading day whose end-of-day position reached the threshold
    day: Mapped[date] = mapped_column(index=True)
    trading_account_id: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("market_instruments.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    max_quantity: Mapped[int] = mapped_column(BigInteger)
    #: the threshold in tCO2e (share × limit, rounded up)
    threshold: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[datetime]
    #: open | cleared
    status: Mapped[str] = mapped_column(String(8), default="open")
    cleared_on: Mapped[date | None] = mapped_column(nullable=True)


class Dispute(Base):
    """A participant's written objection to a trade's settlement data, raised before the next open; without
    one the data are accepted (Trading Rules Art. 32). The exchange resolves it (mediation, Art. 49–51)."""

    __tablename__ = "market_disputes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trade_id: Mapped[int] = mapped_column(ForeignKey("market_trades.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("market_trading_accounts.id"))
    statement: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    #: open | upheld | dismissed
    status: Mapped[str] = mapped_column(String(10), default="open")
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)


#: an auction's bids, found at its close
Index("ix_market_orders_auction_id", Order.auction_id, postgresql_where=text("auction_id IS NOT NULL"),
      sqlite_where=text("auction_id IS NOT NULL"))
