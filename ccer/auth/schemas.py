"""marshmallow schemas of organisations, users, tokens and approval requests."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..infra.bounds import Document, Id, Instant, Name, Text
from .roles import ORGANISATION_ROLES, SECTORS

ROLE_VALUES = [r.value for r in ORGANISATION_ROLES]


class OrganisationIn(Schema):
    uscc = Name(18, 18, required=True, metadata={"description": "统一社会信用代码, 18 characters, GB 32100-2015"})
    name = Name(200, required=True)
    name_en = Name(200, load_default=None, allow_none=True)
    province = Name(40, load_default=None, allow_none=True)
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_VALUES)), required=True, validate=validate.Length(min=1, max=len(ROLE_VALUES)))
    accredited_sectors = fields.List(fields.Str(validate=validate.OneOf(list(SECTORS))), load_default=list, validate=validate.Length(max=len(SECTORS)))
    parent_id = Id(load_default=None, allow_none=True)


class OrganisationOut(Schema):
    id = fields.Int()
    uscc = fields.Str()
    name = fields.Str()
    name_en = fields.Str(allow_none=True)
    province = fields.Str(allow_none=True)
    status = fields.Str()
    roles = fields.List(fields.Str(), attribute="role_names")
    accredited_sectors = fields.List(fields.Str())
    created_at = Instant()


class OrganisationFilter(Schema):
    role = fields.Str(load_default=None, validate=validate.OneOf(ROLE_VALUES))


class UserIn(Schema):
    username = Name(64, required=True)
    password = Text(200, 1, multiline=False, required=True, load_only=True)
    organisation_id = Id(required=True)
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_VALUES)), required=True, validate=validate.Length(max=len(ROLE_VALUES)))
    display_name = Name(120, load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))


class UserOut(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    organisation_id = fields.Int()
    roles = fields.List(fields.Str(), attribute="role_names")
    is_active = fields.Bool()
    #: when the change waits for a second user's (or the registry's) confirmation: the request to confirm
    approval_request_id = fields.Int(allow_none=True, dump_only=True)


class RoleIn(Schema):
    role = fields.Str(required=True, validate=validate.OneOf(ROLE_VALUES))


class PasswordChangeIn(Schema):
    current_password = Text(200, 1, multiline=False, required=True, load_only=True)
    new_password = Text(200, 1, multiline=False, required=True, load_only=True)


class TokenIn(Schema):
    username = Text(64, multiline=False, required=True)
    password = Text(200, multiline=False, required=True, load_only=True)
    name = Name(80, load_default="api")


class TokenOut(Schema):
    token = fields.Str()
    user = fields.Nested(UserOut)


class ApprovalIn(Schema):
    kind = Name(80, required=True)
    target = Name(80, required=True)
    payload = Document(required=True)


class ApprovalDecision(Schema):
    reason = Text(load_default=None, allow_none=True)


class ApprovalOut(Schema):
    id = fields.Int()
    organisation_id = fields.Int()
    kind = fields.Str()
    target = fields.Str()
    payload = fields.Method("_payload")
    status = fields.Str()
    initiated_by = fields.Int()
    initiated_at = Instant()
    decided_by = fields.Int(allow_none=True)
    decided_at = Instant(allow_none=True)
    reason = fields.Str(allow_none=True)
    outcome = fields.Dict(allow_none=True, dump_only=True, metadata={
        "description": "on confirmation: what the operation made — {kind, id, number?, certificate_url?}"})
    retirement_number = fields.Str(allow_none=True, dump_only=True, metadata={
        "description": "on confirmation of a retirement: its number (注销编号)"})

    def _payload(self, obj):
        import json

        return json.loads(obj.payload_json)
