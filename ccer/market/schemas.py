"""marshmallow schemas of the exchange's REST resources (ccer/market/api.py).

Prices and amounts come in as CNY text ("80.45") or as integer fen (8045) and go out as both (`price` the CNY
text, `price_fen` the integer); quantities are strict integers of whole tCO2e. A price off the 0.01 CNY tick
is refused by the exchange's own rule (instruments.price_fen), with the rule named."""
from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, ValidationError as SchemaError, fields, validate, validates_schema

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


def _fen(name: str, **kw) -> fields.Function:
    """The integer-fen twin of a CNY field (read from the same attribute or key)."""
    return fields.Function(lambda o: o.get(name) if isinstance(o, dict) else getattr(o, name), metadata={"description": "integer fen"}, **kw)


def _quantity(**kw):
    return fields.Int(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY), metadata={"description": "whole tCO2e (lot 1 t)"}, **kw)


_INSTRUMENT = fields.Str(required=True, validate=validate.Length(min=1, max=24), metadata={"description": "e.g. CCER-000001-2021"})

# ---- exchange operator --------------------------------------------------------------------------------------


class AccountOpenIn(Schema):
    organisation_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    bank_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    bank_account_no = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    bank_account_name = fields.Str(required=True, validate=validate.Length(min=1, max=200),
                                   metadata={"description": "the holder's name: the participant's own (same-name account)"})


class TradingAccountOut(Schema):
    id = fields.Int()
    number = fields.Str()
    organisation_id = fields.Int()
    participant = fields.Function(lambda a: a.organisation.name)
    registry_account_id = fields.Int()
    status = fields.Str(metadata={"description": "open | restricted | closed"})
    fee_exempt = fields.Bool()
    opened_at = fields.DateTime()
    reason = fields.Str(allow_none=True)


class AccountFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["open", "restricted", "closed"]))


class OperatorIn(Schema):
    user_id = fields.Int(load_default=None, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    username = fields.Str(load_default=None, validate=validate.Length(min=1, max=80))
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
    added_at = fields.DateTime()


class RestrictionIn(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["restrict", "restore"]))
    reason = fields.Str(load_default=None, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _reason(self, data, **kwargs):
        if data["action"] == "restrict" and not data.get("reason"):
            raise SchemaError("a restriction states its reason (Trading Rules Art. 27)", field_name="reason")


class HaltIn(Schema):
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class SettleIn(Schema):
    day = fields.Date(load_default=None, metadata={"description": "the trading day to settle; default: today (after the close)"})


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
    checked_at = fields.DateTime()


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
    instrument = fields.Str(load_default=None, validate=validate.Length(max=24))
    account = fields.Str(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "the exchange only: one participant's trading account"})


class TradeFilter(Schema):
    day = fields.Date(load_default=None)
    status = fields.Str(load_default=None, validate=validate.OneOf(["pending", "settled", "failed"]))
    account = fields.Str(load_default=None, validate=validate.Length(max=20))


class AccountArg(Schema):
    account = fields.Str(load_default=None, validate=validate.Length(max=20),
                         metadata={"description": "the exchange only: one participant's trading account"})


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
    entered_at = fields.DateTime()
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
    matched_at = fields.DateTime()
    settled_at = fields.DateTime(allow_none=True)
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
    at = fields.DateTime()


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
    at = fields.DateTime()
    event_seq = fields.Int(allow_none=True)
