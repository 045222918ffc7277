"""marshmallow schemas of the exchange's REST resources (ccer/market/api.py).

Prices and amounts come in as CNY text ("80.45") or as integer fen (8045) and go out as both (`price` the CNY
text, `price_fen` the integer); quantities are strict integers of whole tCO2e. A price off the 0.01 CNY tick
is refused by the exchange's own rule (instruments.price_fen), with the rule named."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError as SchemaError, fields, validate, validates_schema

from ..infra.bounds import Id, Instant, Text
from . import instruments
from .accounts import MAX_AMOUNT, PERMISSIONS

MAX_QUANTITY = 10**12  # the core's lot bound (instruments.lot)
_CNY = re.compile(r"^\d{1,10}(\.\d+)?$")


def cny(fen: int | None) -> str | None:
    """Integer fen as CNY text: 8045 → "80.45", -5 → "-0.05"."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


class Price(fields.Field):
    """A price per tCO2e: CNY text on the 0.01 tick ("80.45") or integer fen (8045); loads as fen."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise SchemaError('a price: CNY text like "80.45" or integer fen like 8045')
        if isinstance(value, str) and not _CNY.match(value.strip()):
            raise SchemaError(f'not a price in CNY: {value[:20]!r} (e.g. "80.45")')
        # the tick and the bounds are the exchange's rule (Trading Rules Art. 11): refused there, rule named
        return instruments.price_fen(value, self.data_key or self.name)

    def _serialize(self, value, attr, obj, **kwargs):
        return cny(value)


class Money(fields.Field):
    """An amount of money: CNY text with at most two decimals ("1000000.00") or integer fen; loads as fen."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise SchemaError('an amount: CNY text like "100000.00" or integer fen')
        if isinstance(value, str):
            text = value.strip()
            if not _CNY.match(text) or len(text.partition(".")[2]) > 2:
                raise SchemaError(f"not an amount in CNY with at most two decimals: {value[:20]!r}")
            value = int(Decimal(text) * 100)
        if not 1 <= value <= MAX_AMOUNT:
            raise SchemaError(f"from 0.01 to {cny(MAX_AMOUNT)} CNY ({MAX_AMOUNT} fen)")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return cny(value)


def _text(min_len: int = 1, max_len: int = 500, **kw) -> fields.Str:
    """Free text and references: no NUL, controls or lone surrogates (ccer.infra.bounds — PostgreSQL refuses NUL)."""
    return Text(max_len, min_len, **kw)


def _fen(name: str, **kw) -> fields.Function:
    """The integer-fen twin of a CNY field (read from the same attribute or key)."""
    return fields.Function(lambda o: o.get(name) if isinstance(o, dict) else getattr(o, name), metadata={"description": "integer fen"}, **kw)


def _quantity(**kw):
    return fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY), metadata={"description": "whole tCO2e (lot 1 t)"}, **kw)


_INSTRUMENT = _text(1, 24, required=True, metadata={"description": "e.g. CCER-000001-2021"})

# ---- exchange operator --------------------------------------------------------------------------------------


class AccountOpenIn(Schema):
    organisation_id = Id(required=True)
    bank_name = _text(1, 120, required=True)
    bank_account_no = _text(1, 40, required=True)
    bank_account_name = _text(1, 200, required=True, metadata={"description": "the holder's name: the participant's own (same-name account)"})


class TradingAccountOut(Schema):
    id = fields.Int()
    number = fields.Str()
    organisation_id = fields.Int()
    participant = fields.Function(lambda a: a.organisation.name)
    registry_account_id = fields.Int()
    status = fields.Str(metadata={"description": "open | restricted | closed"})
    fee_exempt = fields.Bool()
    opened_at = Instant()
    reason = fields.Str(allow_none=True)


class AccountFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["open", "restricted", "closed"]))


class OperatorIn(Schema):
    user_id = Id(load_default=None)
    username = _text(1, 80, load_default=None)
    permissions = fields.List(fields.Str(validate=validate.OneOf(PERMISSIONS)), required=True, validate=validate.Length(min=1, max=len(PERMISSIONS)))

    @validates_schema
    def _one_user(self, data, **kwargs):
        if (data.get("user_id") is None) == (data.get("username") is None):
            raise SchemaError("give user_id or username", field_name="user_id")


class OperatorOut(Schema):
    id = fields.Int()
    trading_account_id = fields.Int()
    user_id = fields.Int()
    permissions = fields.Function(lambda o: o.permissions.split())
    added_at = Instant()


class RestrictionIn(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["restrict", "restore"]))
    reason = _text(1, 500, load_default=None)

    @validates_schema
    def _reason(self, data, **kwargs):
        if data["action"] == "restrict" and not data.get("reason"):
            raise SchemaError("a restriction states its reason (Trading Rules Art. 27)", field_name="reason")


class HaltIn(Schema):
    reason = _text(1, 500, required=True)


class SettleIn(Schema):
    day = fields.Date(load_default=None, metadata={"description": "the trading day to settle; default: today (after the close)"})


class FeesIn(Schema):
    fee = fields.Str(required=True, validate=validate.OneOf(["opening", "annual"]))
    year = fields.Int(load_default=None, strict=True, validate=validate.Range(min=2023, max=2100),
                      metadata={"description": "the year an annual fee is for"})


class FeesOut(Schema):
    charged = fields.Int(metadata={"description": "accounts charged now"})
    owing = fields.List(fields.Str(), metadata={"description": "accounts whose free funds do not cover the fee yet"})


class DayReportOut(Schema):
    day = fields.Date()
    expired = fields.Int(metadata={"description": "orders open at the close, now expired"})
    settled = fields.Int()
    failed = fields.Int()
    turnover = Price(metadata={"description": "CNY of the settled trades"})
    turnover_fen = _fen("turnover")
    references = fields.Int(metadata={"description": "reference prices set for the next trading day"})


class ReconciliationOut(Schema):
    ok = fields.Bool()
    differences = fields.List(fields.Str(), metadata={"description": "each a difference between the two ledgers, first first"})
    positions = fields.Int(metadata={"description": "tCO2e in the exchange's positions"})
    funds_fen = fields.Int(metadata={"description": "fen in the participants' fund accounts"})
    checked_at = Instant()


class MovesOut(Schema):
    taken_in = fields.Int(metadata={"description": "registry moves into and out of trading accounts taken into positions"})


# ---- participants ------------------------------------------------------------------------------------------


class ProposalIn(Schema):
    initial_price = Price(required=True, metadata={"description": "the initial reference price, CNY/t"})


class OrderIn(Schema):
    instrument = _INSTRUMENT
    side = fields.Str(required=True, validate=validate.OneOf(["buy", "sell"]))
    price = Price(required=True, metadata={"description": "CNY/t on the 0.01 tick, within ±10 % of the reference"})
    quantity = _quantity(required=True)


class LiftIn(Schema):
    instrument = _INSTRUMENT
    side = fields.Str(required=True, validate=validate.OneOf(["buy", "sell"]), metadata={"description": "buy lifts listed sell orders"})
    quantity = _quantity(required=True)
    limit_price = Price(load_default=None, metadata={"description": "no worse than this, CNY/t"})


class OrderFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["open", "filled", "cancelled", "expired"]))
    day = fields.Date(load_default=None)
    instrument = _text(0, 24, load_default=None)
    account = _text(0, 20, load_default=None, metadata={"description": "the exchange only: one participant's trading account"})


class TradeFilter(Schema):
    day = fields.Date(load_default=None)
    status = fields.Str(load_default=None, validate=validate.OneOf(["pending", "settled", "failed"]))
    account = _text(0, 20, load_default=None)


class AccountArg(Schema):
    account = _text(0, 20, load_default=None, metadata={"description": "the exchange only: one participant's trading account"})


class OrderOut(Schema):
    id = fields.Int()
    instrument = fields.Str()
    method = fields.Str()
    side = fields.Str()
    price = Price()
    price_fen = _fen("price")
    quantity = fields.Int()
    filled = fields.Int()
    remaining = fields.Int()
    status = fields.Str()
    day = fields.Date()
    entered_at = Instant()
    trading_account = fields.Str(metadata={"description": "shown to the participant itself and the exchange"})


class TradeOut(Schema):
    ref = fields.Str(metadata={"description": "the trade number, also the confirmation's number"})
    day = fields.Date()
    instrument = fields.Str()
    method = fields.Str()
    side = fields.Str(allow_none=True, metadata={"description": "the caller's side; null for the exchange"})
    buyer = fields.Str(allow_none=True, metadata={"description": "the buyer's trading account (the exchange only)"})
    seller = fields.Str(allow_none=True)
    price = Price()
    price_fen = _fen("price")
    quantity = fields.Int()
    amount = Price()
    amount_fen = _fen("amount")
    buyer_fee = Price()
    seller_fee = Price()
    fee = Price(allow_none=True, metadata={"description": "the caller's commission"})
    status = fields.Str(metadata={"description": "pending | settled | failed"})
    matched_at = Instant()
    settled_at = Instant(allow_none=True)
    transfer_id = fields.Int(allow_none=True, metadata={"description": "the registry's delivery (transfer id)"})
    failure = fields.Str(allow_none=True)
    confirmation_url = fields.Str()


class LiftOut(Schema):
    trades = fields.List(fields.Nested(TradeOut))
    quantity = fields.Int(metadata={"description": "tCO2e lifted (may be less than asked: partial lifts)"})
    amount = Price()
    amount_fen = _fen("amount")


class AmountIn(Schema):
    amount = Money(required=True, metadata={"description": 'CNY text ("100000.00") or integer fen'})


class FundsOut(Schema):
    trading_account = fields.Str()
    bank_name = fields.Str()
    bank_account_no = fields.Str()
    bank_account_name = fields.Str()
    balance = Price()
    balance_fen = _fen("balance")
    reserved = Price()
    reserved_fen = _fen("reserved")
    available = Price()
    available_fen = _fen("available")


class MovementOut(Schema):
    id = fields.Int()
    kind = fields.Str(metadata={"description": "deposit | withdrawal | purchase | sale | fee"})
    amount = Price()
    amount_fen = _fen("amount")
    ref = fields.Str()
    at = Instant()


class PositionOut(Schema):
    instrument = fields.Str()
    project_no = fields.Int()
    vintage = fields.Int()
    quantity = fields.Int()
    reserved = fields.Int()
    available = fields.Int()


# ---- public ------------------------------------------------------------------------------------------------


class InstrumentOut(Schema):
    code = fields.Str()
    project_no = fields.Int()
    project = fields.Str()
    methodology = fields.Str()
    vintage = fields.Int()
    status = fields.Str(metadata={"description": "unlisted | proposed | listed"})
    listed_from = fields.Date(allow_none=True)
    halted = fields.Bool()
    day = fields.Date(metadata={"description": "the trading day the reference applies to"})
    reference_price = Price(allow_none=True)
    reference_price_fen = _fen("reference_price")
    reference_basis = fields.Str(allow_none=True, metadata={"description": "initial | vwap | carried"})
    listing_limits = fields.List(Price(), allow_none=True, metadata={"description": "[lowest, highest] CNY/t, ±10 %"})
    block_limits = fields.List(Price(), allow_none=True, metadata={"description": "[lowest, highest] CNY/t, ±30 %"})
    initial_price = Price(allow_none=True)


class BookArgs(Schema):
    depth = fields.Int(load_default=10, validate=validate.Range(min=1, max=50), metadata={"description": "price levels per side"})


class LevelOut(Schema):
    price = Price()
    price_fen = _fen("price")
    quantity = fields.Int()
    orders = fields.Int()


class BookOut(Schema):
    instrument = fields.Str()
    day = fields.Date()
    reference_price = Price(allow_none=True)
    halted = fields.Bool()
    bids = fields.List(fields.Nested(LevelOut), metadata={"description": "listed buy orders, best (highest) first"})
    asks = fields.List(fields.Nested(LevelOut), metadata={"description": "listed sell orders, best (lowest) first"})


class HaltArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=500))


class HaltOut(Schema):
    instrument = fields.Str()
    action = fields.Str(metadata={"description": "halted | resumed"})
    reason = fields.Str(allow_none=True)
    at = Instant()
    event_seq = fields.Int(allow_none=True)


# ---- block agreements (大宗协议) ----------------------------------------------------------------------------


class BlockIn(Schema):
    instrument = _INSTRUMENT
    side = fields.Str(required=True, validate=validate.OneOf(["buy", "sell"]), metadata={"description": "the entering side's"})
    price = Price(required=True, metadata={"description": "CNY/t, within ±30 % of the reference"})
    quantity = _quantity(required=True)
    counterparty = _text(1, 20, required=True, metadata={"description": "its trading account"})


class BlockFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["proposed", "agreed", "confirmed", "cancelled", "declined", "rejected",
                                                                     "expired"]))
    day = fields.Date(load_default=None)


class ReasonIn(Schema):
    reason = _text(1, 500, required=True)


class BlockOut(Schema):
    id = fields.Int()
    instrument = fields.Str()
    initiator = fields.Str()
    side = fields.Str()
    counterparty = fields.Str()
    price = Price()
    price_fen = _fen("price")
    quantity = fields.Int()
    amount = Price()
    amount_fen = _fen("amount")
    status = fields.Str(metadata={"description": "proposed | agreed | confirmed | cancelled | declined | rejected | expired"})
    day = fields.Str()
    entered_at = fields.Str()
    agreed_at = fields.Str(allow_none=True)
    decided_at = fields.Str(allow_none=True)
    trade = fields.Str(allow_none=True, metadata={"description": "the trade number once the exchange confirmed"})
    reason = fields.Str(allow_none=True)


# ---- one-way auctions (单向竞价) ----------------------------------------------------------------------------


class AuctionIn(Schema):
    instrument = _INSTRUMENT
    side = fields.Str(required=True, validate=validate.OneOf(["buy", "sell"]), metadata={"description": "the initiator's"})
    quantity = _quantity(required=True)
    reserve_price = Price(required=True)
    window_start = _text(1, 40, required=True, metadata={"description": "ISO 8601, Beijing time if naive"})
    window_end = _text(1, 40, required=True)
    pricing = fields.Str(load_default="uniform", validate=validate.OneOf(["uniform", "pay_as_bid"]))


class AuctionFilter(Schema):
    day = fields.Date(load_default=None)
    status = fields.Str(load_default=None, validate=validate.OneOf(["announced", "closed", "cancelled"]))


class BidIn(Schema):
    price = Price(required=True)
    quantity = _quantity(required=True)


class BidOut(Schema):
    order_id = fields.Int(allow_none=True, metadata={"description": "shown to the bidder only"})
    auction_id = fields.Int()
    bidder = fields.Str(allow_none=True, metadata={"description": "shown to the exchange, the initiator and the bidder itself"})
    price = Price()
    price_fen = _fen("price")
    quantity = fields.Int()
    entered_at = fields.Str()
    status = fields.Str(metadata={"description": "open | cancelled | filled | partial | lost | void"})
    allocated = fields.Int()
    trade_price = Price(allow_none=True)


class AuctionResultsOut(Schema):
    closed_at = fields.Str()
    bids = fields.Int()
    bidders = fields.Int()
    winners = fields.Int()
    allocated = fields.Int()
    unallocated = fields.Int()
    turnover = Price()
    turnover_fen = _fen("turnover")
    clearing_price = Price(allow_none=True, metadata={"description": "uniform pricing: the price every winner pays"})
    average_price = Price(allow_none=True)


class AuctionOut(Schema):
    id = fields.Int()
    instrument = fields.Str()
    initiator = fields.Str()
    side = fields.Str()
    quantity = fields.Int()
    reserve_price = Price()
    reserve_price_fen = _fen("reserve_price")
    pricing = fields.Str()
    day = fields.Str()
    window_start = fields.Str()
    window_end = fields.Str()
    status = fields.Str(metadata={"description": "announced | closed | cancelled"})
    reason = fields.Str(allow_none=True)
    results = fields.Nested(AuctionResultsOut, allow_none=True)
    bids = fields.List(fields.Nested(BidOut), metadata={"description": "before the close: the caller's own bids"})
    allocations = fields.List(fields.Nested(BidOut), metadata={"description": "after the close: the allocation, best bid first"})


class CancelIn(Schema):
    reason = _text(0, 500, load_default="")


# ---- risk --------------------------------------------------------------------------------------------------


class PositionLimitIn(Schema):
    max_quantity = fields.Int(required=True, allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY),
                              metadata={"description": "tCO2e; null removes the limit"})
    instrument = _text(1, 24, load_default=None, metadata={"description": "omitted: every instrument"})
    trading_account = _text(1, 20, load_default=None, metadata={"description": "omitted: every participant"})
    reason = _text(0, 500, load_default="")


class PositionLimitOut(Schema):
    id = fields.Int(allow_none=True)
    instrument = fields.Str(allow_none=True)
    trading_account = fields.Str(allow_none=True)
    max_quantity = fields.Int(allow_none=True, metadata={"description": "null: removed"})


class NoticeFilter(Schema):
    since = fields.Date(load_default=None)
    kind = fields.Str(load_default=None, validate=validate.OneOf(["large_holder", "halt", "resume"]))


class NoticeOut(Schema):
    id = fields.Int()
    kind = fields.Str(metadata={"description": "large_holder | halt | resume"})
    day = fields.Str()
    at = fields.Str(allow_none=True)
    instrument = fields.Str(allow_none=True)
    reason = fields.Str(allow_none=True)
    trading_account = fields.Str(allow_none=True)
    participant = fields.Str(allow_none=True, metadata={"description": "large-holder reports are public by the rules"})
    quantity = fields.Int(allow_none=True)
    max_quantity = fields.Int(allow_none=True)
    threshold = fields.Int(allow_none=True)
    status = fields.Str(allow_none=True)
    cleared_on = fields.Str(allow_none=True)
    rule = fields.Str()


# ---- market data -------------------------------------------------------------------------------------------


class DataArgs(Schema):
    day = fields.Date(load_default=None, metadata={"description": "default: today (Beijing time)"})
    instrument = _text(1, 24, load_default=None)


class RangeArgs(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    instrument = _text(1, 24, load_default=None)


class MethodStatsOut(Schema):
    volume = fields.Int()
    turnover = Price()
    turnover_fen = _fen("turnover")
    trades = fields.Int()
    vwap = Price(allow_none=True)
    high = Price(allow_none=True)
    low = Price(allow_none=True)


class _ByMethod(Schema):
    listing = fields.Nested(MethodStatsOut)
    block = fields.Nested(MethodStatsOut)
    auction = fields.Nested(MethodStatsOut)


class InstrumentDayOut(Schema):
    day = fields.Str()
    instrument = fields.Str()
    open = Price(allow_none=True, metadata={"description": "of listing-agreement trades, as high, low and close"})
    high = Price(allow_none=True)
    low = Price(allow_none=True)
    close = Price(allow_none=True)
    vwap = Price(allow_none=True, metadata={"description": "over every method's trades"})
    volume = fields.Int()
    turnover = Price()
    turnover_fen = _fen("turnover")
    trades = fields.Int()
    by_method = fields.Nested(_ByMethod)
    reference_price = Price(allow_none=True)
    next_reference_price = Price(allow_none=True)
    next_reference_basis = fields.Str(allow_none=True, metadata={"description": "vwap | carried | provisional (before the day's settlement)"})


class MarketDayOut(Schema):
    day = fields.Str()
    volume = fields.Int()
    turnover = Price()
    turnover_fen = _fen("turnover")
    trades = fields.Int()
    vwap = Price(allow_none=True)
    instruments_listed = fields.Int()
    instruments_traded = fields.Int()
    by_method = fields.Nested(_ByMethod)


class DailyOut(Schema):
    day = fields.Str()
    trading_day = fields.Bool()
    market = fields.Nested(MarketDayOut)
    instruments = fields.List(fields.Nested(InstrumentDayOut))


# ---- disputes ---------------------------------------------------------------------------------------------


class DisputeIn(Schema):
    trade = _text(1, 40, required=True)
    statement = _text(1, 4000, required=True)


class DisputeFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["open", "upheld", "dismissed"]))


class ResolutionIn(Schema):
    outcome = fields.Str(required=True, validate=validate.OneOf(["upheld", "dismissed"]))
    resolution = _text(1, 4000, required=True)


class DisputeOut(Schema):
    id = fields.Int()
    trade = fields.Str()
    raised_by = fields.Str()
    statement = fields.Str()
    raised_at = fields.Str()
    deadline = fields.Str(metadata={"description": "the next trading day's open: after it the day's data stand as accepted"})
    status = fields.Str()
    resolution = fields.Str(allow_none=True)
    resolved_at = fields.Str(allow_none=True)
