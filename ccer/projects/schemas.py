"""marshmallow schemas of the lifecycle's REST resources."""
from __future__ import annotations

import json

from marshmallow import RAISE, Schema, fields, validate

from ..api.pagination import PageArgs
from ..infra.bounds import Day, Document, Documents, Id, Instant, Name, Text, Tonnes
from ..validation import services as vv
from . import comments
from ..infra import calendar


#: the flag on a working-day deadline (ccer.infra.calendar)
PROVISIONAL = ("the date counts days of a year whose State Council holiday calendar is not loaded yet: computed on the statutory holidays, recomputed when the year is loaded")


class ProjectIn(Schema):
    title = Name(300, required=True)
    methodology_code = Name(20, required=True)
    province = Name(40, load_default=None, allow_none=True)
    construction_start = Day(required=True)
    facts = Document(required=True, metadata={"description": "the methodology's project facts (applicability, crediting period)"})
    periods = Documents(required=True, metadata={"description": "ex-ante parameters by symbol, per period"})
    pdd_author_id = Id(load_default=None, allow_none=True)
    other_mechanism = fields.Bool(load_default=False)
    ets_covered = fields.Bool(load_default=False)


class ProjectQuery(PageArgs):
    """GET /projects: the filters and the page; a parameter not listed here is refused (422 naming it)."""

    class Meta:
        unknown = RAISE

    methodology = Name(20, load_default=None, metadata={"description": "methodology code, e.g. CCER-01-001-V01"})
    status = fields.Str(load_default=None, validate=validate.OneOf(
        ["draft", "publicity", "validated", "rejected", "applied", "returned", "registered", "refused", "cancelled", "revoked"]))
    owner = Id(strict=False, load_default=None, metadata={"description": "the owner organisation's id"})
    province = Name(40, load_default=None)

    FILTERS = ("methodology", "status", "owner", "province")


class ProjectView(Schema):
    id = fields.Int()
    registry_no = fields.Int(allow_none=True)
    title = fields.Str()
    methodology_code = fields.Str()
    sector = fields.Str()
    owner_id = fields.Int()
    province = fields.Str(allow_none=True)
    status = fields.Str()
    construction_start = fields.Date(allow_none=True)
    crediting_start = fields.Date(allow_none=True)
    crediting_end = fields.Date(allow_none=True)
    validator_id = fields.Int(allow_none=True)
    publicity_start = fields.Date(allow_none=True)
    publicity_end = fields.Date(allow_none=True)
    validation_due = fields.Date(allow_none=True)
    review_due = fields.Date(allow_none=True)
    publicity_provisional = fields.Bool(metadata={"description": PROVISIONAL})
    review_provisional = fields.Bool(metadata={"description": PROVISIONAL})
    estimate_tco2e = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    transitions = fields.List(fields.Str(), metadata={"description": "what the caller may fire now"})


class TransitionIn(Schema):
    reason = Text(load_default=None, allow_none=True)
    comment_handling = Text(load_default=None, allow_none=True)
    quantity = Tonnes(0, load_default=None, allow_none=True, metadata={"description": "monitoring periods: the quantity applied for"})
    verified_quantity = Tonnes(0, load_default=None, allow_none=True)
    owed = Tonnes(0, load_default=None, allow_none=True, metadata={"description": "revoke: tCO2e the owner must cancel (default: everything issued)"})
    owed_reason = Text(load_default=None, allow_none=True, metadata={"description": "revoke: why `owed` differs from the quantity issued"})
    cancel_by = Day(load_default=None, allow_none=True, metadata={"description": "revoke: the owner's deadline to cancel"})


class ChecklistItem(Schema):
    item = fields.Str()
    ok = fields.Bool()
    rule = fields.Str()
    detail = fields.Str()


class DocumentOut(Schema):
    id = fields.Int()
    kind = fields.Str()
    subject_type = fields.Str()
    subject_id = fields.Int()
    sha256 = fields.Str()
    created_at = Instant()
    url = fields.Function(lambda d: f"/api/v1/documents/{d.id}")


class CommentIn(Schema):
    subject_type = fields.Str(required=True, validate=validate.OneOf(list(comments.SUBJECTS)))
    subject_id = Id(required=True)
    author_name = Name(120, required=True)
    body = Text(min_len=1, required=True)


class CommentFilter(Schema):
    subject_type = fields.Str(required=True, validate=validate.OneOf(list(comments.SUBJECTS)))
    subject_id = Id(strict=False, required=True)


class CommentOut(Schema):
    id = fields.Int()
    subject_type = fields.Str()
    subject_id = fields.Int()
    author_name = fields.Str()
    body = fields.Str()
    status = fields.Str()
    submitted_at = Instant()
    moderation_reason = fields.Str(allow_none=True)
    response = fields.Str(allow_none=True)


class ModerationIn(Schema):
    publish = fields.Bool(required=True)
    reason = Text(load_default=None, allow_none=True)


class ResponseIn(Schema):
    response = Text(min_len=1, required=True)


class EngagementIn(Schema):
    role = fields.Str(required=True, validate=validate.OneOf(list(vv.ROLES)))
    subject_id = Id(required=True, metadata={"description": "project id (validation) or monitoring period id (verification)"})
    vvb_id = Id(required=True)


class EngagementOut(Schema):
    id = fields.Int()
    role = fields.Str()
    subject_type = fields.Str()
    subject_id = fields.Int()
    vvb_id = fields.Int()
    status = fields.Str()


class DecisionIn(Schema):
    accept = fields.Bool(required=True)


class FindingIn(Schema):
    subject_type = fields.Str(required=True, validate=validate.OneOf(list(comments.SUBJECTS)))
    subject_id = Id(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(list(vv.KINDS)))
    text = Text(min_len=1, required=True)


class AnswerIn(Schema):
    response = Text(min_len=1, required=True)
    evidence = Text(load_default=None, allow_none=True)


class FindingOut(Schema):
    id = fields.Int()
    subject_type = fields.Str()
    subject_id = fields.Int()
    vvb_id = fields.Int()
    kind = fields.Str()
    text = fields.Str()
    status = fields.Str()
    response = fields.Str(allow_none=True)
    evidence = fields.Str(allow_none=True)


class PeriodIn(Schema):
    periods = Documents(required=True, metadata={"description": "monitored parameters by symbol, per sub-period"})
    green_certificates_mwh = Tonnes(0, load_default=0, metadata={"description": "whole MWh"})
    landcover = fields.List(Name(), validate=validate.Length(equal=2), load_default=None,
                            metadata={"description": "sink batches: the registry's land-cover rasters of the period's start and "
                                      "end (names in its land-cover folder), for the GIS change check of the parcels"})


class PeriodOut(Schema):
    id = fields.Int()
    project_id = fields.Int()
    number = fields.Int()
    start = fields.Date()
    end = fields.Date()
    status = fields.Str()
    vintages = fields.Function(lambda m: json.loads(m.vintages_json or "{}"))
    verifier_id = fields.Int(allow_none=True)
    publicity_start = fields.Date(allow_none=True)
    publicity_end = fields.Date(allow_none=True)
    verified_quantity = fields.Int(allow_none=True)
    applied_quantity = fields.Int(allow_none=True)
    review_due = fields.Date(allow_none=True)
    publicity_provisional = fields.Function(lambda m: calendar.provisional_between(m.publicity_start, m.publicity_end),
                                            metadata={"description": PROVISIONAL})
    reason = fields.Str(allow_none=True)


class PublicityOut(Schema):
    subject_type = fields.Str()
    subject_id = fields.Int()
    title = fields.Str()
    publicity_start = fields.Date()
    publicity_end = fields.Date()
