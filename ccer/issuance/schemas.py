"""marshmallow schemas of the registry's REST resources."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..infra.bounds import Day, Document, Documents, Id, Instant, Name, Count, Text, Tonnes, Year
from . import fraud
from .purposes import HOLDER_PURPOSES


class AccountApply(Schema):
    organisation_id = Id(required=True)


class AccountDecision(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["open", "refuse", "restrict", "restore", "close"]))
    reason = Text(load_default=None, allow_none=True)


class AccountOut(Schema):
    id = fields.Int()
    number = fields.Str()
    organisation_id = fields.Int()
    holder = fields.Function(lambda a: a.organisation.name)
    kind = fields.Str()
    status = fields.Str()
    applied_at = Instant()
    review_due = fields.Date()
    decided_at = Instant(allow_none=True)
    reason = fields.Str(allow_none=True)


class AccountFilter(Schema):
    status = fields.Str(load_default=None, validate=validate.OneOf(["pending", "open", "refused", "restricted", "closed"]))


class ChangeIn(Schema):
    changes = Document(required=True, metadata={"description": "name, name_en and/or province"})


class ChangeDecision(Schema):
    approve = fields.Bool(required=True)
    reason = Text(load_default=None, allow_none=True)


class ChangeOut(Schema):
    id = fields.Int()
    account_id = fields.Int()
    changes = fields.Function(lambda c: __import__("json").loads(c.changes_json))
    submitted_at = Instant()
    review_due = fields.Date()
    status = fields.Str()
    reason = fields.Str(allow_none=True)


class HoldingOut(Schema):
    project_id = fields.Int()
    project_no = fields.Int(allow_none=True)
    project = fields.Str()
    methodology = fields.Str()
    vintage = fields.Int()
    status = fields.Str()
    quantity = fields.Int()


class UnitSpec(Schema):
    """Which units: a serial range, or a quantity (optionally of one project and vintage)."""

    quantity = Tonnes(load_default=None, allow_none=True, metadata={"description": "tCO2e"})
    project_no = Count(1, load_default=None, allow_none=True, metadata={"description": "the project's registry number"})
    vintage = Year(load_default=None, allow_none=True)
    serial = Name(80, load_default=None, allow_none=True, metadata={"description": "CN-CCER-SS-PPPPPP-YYYY-BBB-F-L"})


class IssueIn(Schema):
    """A registered reduction batch; the quantities are its verified vintages, never given here."""

    monitoring_period_id = Id(required=True, metadata={"description": "the registered monitoring period (reduction batch)"})


class IssuanceOut(Schema):
    id = fields.Int()
    project_id = fields.Int()
    batch = fields.Int()
    vintage = fields.Int()
    first = fields.Int()
    last = fields.Int()
    quantity = fields.Int()
    account_id = fields.Int()
    issued_at = Instant()
    monitoring_period_id = fields.Int()


class NonTradeIn(UnitSpec):
    from_account = Name(16, required=True)
    to_account = Name(16, required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(["succession", "enforcement"]))
    evidence = Text(required=True)


class TransferOut(Schema):
    id = fields.Int()
    kind = fields.Str()
    trade_ref = fields.Str(allow_none=True)
    from_account_id = fields.Int()
    to_account_id = fields.Int()
    quantity = fields.Int()
    evidence = fields.Str(allow_none=True)
    executed_at = Instant()


class FreezeIn(UnitSpec):
    account = Name(16, required=True)
    authority = Name(200, required=True)
    order_ref = Name(120, required=True)


class FreezeOut(Schema):
    id = fields.Int()
    account_id = fields.Int()
    quantity = fields.Int()
    authority = fields.Str()
    order_ref = fields.Str()
    status = fields.Str()
    frozen_at = Instant()


class ReleaseIn(Schema):
    reason = Text(min_len=1, required=True)


class DeductIn(Schema):
    to_account = Name(16, required=True)
    evidence = Text(required=True)


class TradingIn(UnitSpec):
    direction = fields.Str(required=True, validate=validate.OneOf(["in", "out"]), metadata={
        "description": "in: registry account → bound trading account (转移至交易账户); out: back"})


class BindingIn(Schema):
    trading_account = Name(20, required=True)


class BindingOut(Schema):
    id = fields.Int()
    account_id = fields.Int()
    trading_account = fields.Str()
    status = fields.Str()
    bound_at = Instant()


class TradeIn(Schema):
    """One settled trade, as the exchange delivers it."""

    trade_ref = Name(40, required=True, metadata={"description": "the exchange's trade number"})
    seller = Name(16, required=True, metadata={"description": "the seller's registry account number"})
    buyer = Name(16, required=True)
    project_no = Count(1, required=True)
    vintage = Year(required=True)
    quantity = Tonnes(required=True, metadata={"description": "tCO2e"})


class DayIn(Schema):
    trades = Documents(required=True, metadata={
        "description": "the day's trades in delivery order, each as in POST /settlements; a malformed one gets its own refusal"})


class DeliveryOut(Schema):
    trade_ref = fields.Str()
    ok = fields.Bool()
    transfer_id = fields.Int(allow_none=True)
    error = fields.Dict(metadata={"description": "message, field, rule — when the trade was refused (nothing of it moved)"})


class RetireIn(UnitSpec):
    account = Name(16, required=True)
    purpose = fields.Str(required=True, validate=validate.OneOf(list(HOLDER_PURPOSES)))
    beneficiary_name = Name(200, required=True)
    beneficiary_uscc = Name(18, 18, load_default=None, allow_none=True)
    compliance_year = Year(load_default=None, allow_none=True)
    event_name = Name(200, load_default=None, allow_none=True)
    event_start = Day(load_default=None, allow_none=True)
    event_end = Day(load_default=None, allow_none=True)
    note = Text(load_default=None, allow_none=True)


class ForceCancelIn(UnitSpec):
    account = Name(16, required=True)
    order = Text(min_len=1, required=True)


class RetirementOut(Schema):
    number = fields.Str()
    account = fields.Function(lambda r: r.account.number)
    project_id = fields.Int()
    project = fields.Function(lambda r: r.project.title)
    project_no = fields.Function(lambda r: r.project.registry_no)
    vintage = fields.Int()
    quantity = fields.Int()
    purpose = fields.Str()
    beneficiary_name = fields.Str()
    beneficiary_uscc = fields.Str(allow_none=True)
    compliance_year = fields.Int(allow_none=True)
    event_name = fields.Str(allow_none=True)
    event_start = fields.Date(allow_none=True)
    event_end = fields.Date(allow_none=True)
    note = fields.Str(allow_none=True)
    retired_at = Instant()
    certificate_url = fields.Function(lambda r: f"/api/v1/retirements/{r.number}/certificate.pdf")


class VerifyOut(Schema):
    number = fields.Str()
    ok = fields.Bool()
    problems = fields.List(fields.Str())
    serials = fields.List(fields.Str())
    event_seq = fields.Int(allow_none=True)
    event_hash = fields.Str(allow_none=True)
    head_seq = fields.Int()
    head_hash = fields.Str()


class ObligationIn(Schema):
    organisation_id = Id(required=True)
    year = Year(required=True)
    allowances = Tonnes(0, required=True)
    source = Name(200, required=True)


class ObligationOut(Schema):
    id = fields.Int()
    organisation_id = fields.Int()
    year = fields.Int()
    allowances = fields.Int()
    source = fields.Str()
    offset_cap = fields.Int(metadata={"description": "whole tCO2e the emitter may offset for the year at the offset ratio in "
                                                     "force today (reference data; ETS Measures Art. 29), rounded down"})
    offset_ratio = fields.Str(metadata={"description": "the offset ratio in force today, e.g. \"0.05\""})
    offset_ratio_source = fields.Str(metadata={"description": "the reference data set it comes from"})


class ExportArgs(Schema):
    format = fields.Str(load_default="json", validate=validate.OneOf(["json", "csv"]))
    cursor = Name(40, load_default=None, metadata={"description": "opaque cursor from next_cursor (or X-Next-Cursor)"})
    limit = fields.Int(load_default=500, validate=validate.Range(min=1, max=5000))


class ProjectOut(Schema):
    id = fields.Int()
    registry_no = fields.Int(allow_none=True)
    title = fields.Str()
    methodology_code = fields.Str()
    owner = fields.Function(lambda p: p.owner.name)
    province = fields.Str(allow_none=True)
    status = fields.Str()
    crediting_start = fields.Date(allow_none=True)
    crediting_end = fields.Date(allow_none=True)
    origin = fields.Str()


class FraudCancellationOut(Schema):
    number = fields.Str()
    purpose = fields.Str(metadata={"description": "fraud_cancellation (by the owner, as ordered) or forced_cancellation (by the registry)"})
    project_no = fields.Function(lambda r: r.project.registry_no)
    vintage = fields.Int()
    quantity = fields.Int()
    retired_at = Instant()


class FraudCaseOut(Schema):
    """A revocation for fraud and what followed it (Measures Art. 43), public."""

    id = fields.Int()
    project_id = fields.Int()
    project_no = fields.Function(lambda c: c.project.registry_no)
    project = fields.Function(lambda c: c.project.title)
    owner_id = fields.Int()
    owner = fields.Function(lambda c: c.owner.name)
    finding = fields.Str()
    opened_at = Instant()
    issued = fields.Int(metadata={"description": "tCO2e issued for the project when the case opened"})
    owed = fields.Int(metadata={"description": "tCO2e the owner must cancel"})
    owed_reason = fields.Str(allow_none=True)
    cancel_by = fields.Date()
    cancelled = fields.Int(metadata={"description": "tCO2e the owner cancelled as ordered"})
    force_cancelled = fields.Int(metadata={"description": "tCO2e the registry force-cancelled"})
    shortfall = fields.Int(allow_none=True, metadata={"description": "tCO2e still owed at the forced cancellation (ordered returned)"})
    outstanding = fields.Int(metadata={"description": "tCO2e still to be cancelled or returned"})
    status = fields.Str(metadata={"description": "open | settled | enforced"})
    enforcement_order = fields.Str(allow_none=True)
    enforced_at = Instant(allow_none=True)
    barred_until = fields.Function(lambda c: fraud.barred_until(c), metadata={"description": "the owner's bar now: a date, 'permanent' or null"})
    cancellations = fields.Function(lambda c: FraudCancellationOut(many=True).dump(fraud.cancellations(c)))


class FraudCancelIn(UnitSpec):
    """CCERs of the owner's, any project and vintage (one per request), to cancel against the case."""


class FraudEnforceIn(Schema):
    order = Text(min_len=1, required=True, metadata={"description": "the department's notice the registry acts on"})
