"""marshmallow schemas of the lifecycle's REST resources."""
from __future__ import annotations

import json

from marshmallow import Schema, fields, validate

from ..validation import services as vv
from . import comments


class ProjectIn(Schema):
    title = fields.Str(required=True)
    methodology_code = fields.Str(required=True)
    province = fields.Str(load_default=None)
    construction_start = fields.Date(required=True)
    facts = fields.Dict(required=True, metadata={"description": "the methodology's project facts (applicability, crediting period)"})
    periods = fields.List(fields.Dict(), required=True, metadata={"description": "ex-ante parameters by symbol, per period"})
    pdd_author_id = fields.Int(load_default=None)
    other_mechanism = fields.Bool(load_default=False)
    ets_covered = fields.Bool(load_default=False)


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
    estimate_tco2e = fields.Int(allow_none=True)
    reason = fields.Str(allow_none=True)
    transitions = fields.List(fields.Str(), metadata={"description": "what the caller may fire now"})


class TransitionIn(Schema):
    reason = fields.Str(load_default=None)
    comment_handling = fields.Str(load_default=None)
    quantity = fields.Int(load_default=None, metadata={"description": "monitoring periods: the quantity applied for"})
    verified_quantity = fields.Int(load_default=None)
    owed = fields.Int(load_default=None, metadata={"description": "revoke: tCO2e the owner must cancel (default: everything issued)"})
    owed_reason = fields.Str(load_default=None, metadata={"description": "revoke: why `owed` differs from the quantity issued"})
    cancel_by = fields.Date(load_default=None, metadata={"description": "revoke: the owner's deadline to cancel"})


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
    created_at = fields.DateTime()
    url = fields.Function(lambda d: f"/api/v1/documents/{d.id}")


class CommentIn(Schema):
    subject_type = fields.Str(required=True, validate=validate.OneOf(list(comments.SUBJECTS)))
    subject_id = fields.Int(required=True)
    author_name = fields.Str(required=True)
    body = fields.Str(required=True)


class CommentFilter(Schema):
    subject_type = fields.Str(required=True, validate=validate.OneOf(list(comments.SUBJECTS)))
    subject_id = fields.Int(required=True)


class CommentOut(Schema):
    id = fields.Int()
    subject_type = fields.Str()
    subject_id = fields.Int()
    author_name = fields.Str()
    body = fields.Str()
    status = fields.Str()
    submitted_at = fields.DateTime()
    moderation_reason = fields.Str(allow_none=True)
    response = fields.Str(allow_none=True)


class ModerationIn(Schema):
    publish = fields.Bool(required=True)
    reason = fields.Str(load_default=None)


class ResponseIn(Schema):
    response = fields.Str(required=True)


class EngagementIn(Schema):
    role = fields.Str(required=True, validate=validate.OneOf(list(vv.ROLES)))
    subject_id = fields.Int(required=True, metadata={"description": "project id (validation) or monitoring period id (verification)"})
    vvb_id = fields.Int(required=True)


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
    subject_id = fields.Int(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(list(vv.KINDS)))
    text = fields.Str(required=True)


class AnswerIn(Schema):
    response = fields.Str(required=True)
    evidence = fields.Str(load_default=None)


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
    periods = fields.List(fields.Dict(), required=True, metadata={"description": "monitored parameters by symbol, per sub-period"})
    green_certificates_mwh = fields.Int(load_default=0)


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
    reason = fields.Str(allow_none=True)


class PublicityOut(Schema):
    subject_type = fields.Str()
    subject_id = fields.Int()
    title = fields.Str()
    publicity_start = fields.Date()
    publicity_end = fields.Date()
