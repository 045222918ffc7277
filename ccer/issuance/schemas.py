"""marshmallow schemas of the registry's REST resources."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .purposes import HOLDER_PURPOSES, national_ets_cap


class AccountApply(Schema):
    organisation_id = fields.Int(required=True)


class AccountDecision(Schema):
    action = fields.Str(required=True, validate=validate.OneOf(["open", "refuse", "restrict", "restore", "close"]))
    reason = fields.Str(load_default=None)


class AccountOut(Schema):
    id = fields.Int()
    number = fields.Str()
    organisation_id = fields.Int()
    holder = fields.Function(lambda a: a.organisation.name)
    kind = fields.Str()
    status = fields.Str()
    applied_at = fields.DateTime()
    review_due = fields.Date()
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.Str(allow_none=True)


class AccountFilter(Schema):
    status = fields.Str(load_default=None)


class ChangeIn(Schema):
    changes = fields.Dict(required=True, metadata={"description": "name, name_en and/or province"})


class ChangeDecision(Schema):
    approve = fields.Bool(required=True)
    reason = fields.Str(load_default=None)


class ChangeOut(Schema):
    id = fields.Int()
    account_id = fields.Int()
    changes = fields.Function(lambda c: __import__("json").loads(c.changes_json))
    submitted_at = fields.DateTime()
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

    quantity = fields.Int(load_default=None, metadata={"description": "tCO2e"})
    project_no = fields.Int(load_default=None, metadata={"description": "the project's registry number"})
    vintage = fields.Int(load_default=None)
    serial = fields.Str(load_default=None, metadata={"description": "CN-CCER-SS-PPPPPP-YYYY-BBB-F-L"})


class IssueIn(Schema):
    """A registered reduction batch; the quantities are its verified vintages, never given here."""

    monitoring_period_id = fields.Int(required=True, strict=True, metadata={"description": "the registered monitoring period (reduction batch)"})


class IssuanceOut(Schema):
    id = fields.Int()
    project_id = fields.Int()
    batch = fields.Int()
    vintage = fields.Int()
    first = fields.Int()
    last = fields.Int()
    quantity = fields.Int()
    account_id = fields.Int()
    issued_at = fields.DateTime()
    monitoring_period_id = fields.Int()


class TransferIn(UnitSpec):
    from_account = fields.Str(required=True)
    to_account = fields.Str(required=True)


class NonTradeIn(TransferIn):
    kind = fields.Str(required=True, validate=validate.OneOf(["succession", "enforcement"]))
    evidence = fields.Str(required=True)


class TransferOut(Schema):
    id = fields.Int()
    kind = fields.Str()
    from_account_id = fields.Int()
    to_account_id = fields.Int()
    quantity = fields.Int()
    evidence = fields.Str(allow_none=True)
    executed_at = fields.DateTime()


class FreezeIn(UnitSpec):
    account = fields.Str(required=True)
    authority = fields.Str(required=True)
    order_ref = fields.Str(required=True)


class FreezeOut(Schema):
    id = fields.Int()
    account_id = fields.Int()
    quantity = fields.Int()
    authority = fields.Str()
    order_ref = fields.Str()
    status = fields.Str()
    frozen_at = fields.DateTime()


class ReleaseIn(Schema):
    reason = fields.Str(required=True)


class DeductIn(Schema):
    to_account = fields.Str(required=True)
    evidence = fields.Str(required=True)


class TradingIn(UnitSpec):
    direction = fields.Str(required=True, validate=validate.OneOf(["hold", "release"]))


class RetireIn(UnitSpec):
    account = fields.Str(required=True)
    purpose = fields.Str(required=True, validate=validate.OneOf(list(HOLDER_PURPOSES)))
    beneficiary_name = fields.Str(required=True)
    beneficiary_uscc = fields.Str(load_default=None)
    compliance_year = fields.Int(load_default=None)
    event_name = fields.Str(load_default=None)
    event_start = fields.Date(load_default=None)
    event_end = fields.Date(load_default=None)
    note = fields.Str(load_default=None)


class ForceCancelIn(UnitSpec):
    account = fields.Str(required=True)
    order = fields.Str(required=True)


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
    retired_at = fields.DateTime()
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
    organisation_id = fields.Int(required=True)
    year = fields.Int(required=True)
    allowances = fields.Int(required=True)
    source = fields.Str(required=True)


class ObligationOut(Schema):
    id = fields.Int()
    organisation_id = fields.Int()
    year = fields.Int()
    allowances = fields.Int()
    source = fields.Str()
    offset_cap = fields.Function(lambda o: national_ets_cap(o.allowances))


class ExportArgs(Schema):
    format = fields.Str(load_default="json", validate=validate.OneOf(["json", "csv"]))
    cursor = fields.Str(load_default=None)
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
