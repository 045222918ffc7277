"""marshmallow schemas of organisations, users, tokens and approval requests."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .roles import ORGANISATION_ROLES, SECTORS

ROLE_VALUES = [r.value for r in ORGANISATION_ROLES]


class OrganisationIn(Schema):
    uscc = fields.Str(required=True, metadata={"description": "统一社会信用代码, 18 characters, GB 32100-2015"})
    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.Str(load_default=None, validate=validate.Length(max=200))
    province = fields.Str(load_default=None, validate=validate.Length(max=40))
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_VALUES)), required=True, validate=validate.Length(min=1))
    accredited_sectors = fields.List(fields.Str(validate=validate.OneOf(list(SECTORS))), load_default=list)
    parent_id = fields.Int(load_default=None)


class OrganisationOut(Schema):
    id = fields.Int()
    uscc = fields.Str()
    name = fields.Str()
    name_en = fields.Str(allow_none=True)
    province = fields.Str(allow_none=True)
    status = fields.Str()
    roles = fields.List(fields.Str(), attribute="role_names")
    accredited_sectors = fields.List(fields.Str())
    created_at = fields.DateTime()


class OrganisationFilter(Schema):
    role = fields.Str(load_default=None, validate=validate.OneOf(ROLE_VALUES))


class UserIn(Schema):
    username = fields.Str(required=True)
    password = fields.Str(required=True, load_only=True)
    organisation_id = fields.Int(required=True)
    roles = fields.List(fields.Str(validate=validate.OneOf(ROLE_VALUES)), required=True)
    display_name = fields.Str(load_default=None)
    email = fields.Email(load_default=None)


class UserOut(Schema):
    id = fields.Int()
    username = fields.Str()
    display_name = fields.Str()
    email = fields.Str(allow_none=True)
    organisation_id = fields.Int()
    roles = fields.List(fields.Str(), attribute="role_names")
    is_active = fields.Bool()
    #: when the change waits for a second user's (or the registry's) confirmation: the request to confirm
    approval_request_id = fields.Int(allow_none=True, dump_only=True)


class RoleIn(Schema):
    role = fields.Str(required=True, validate=validate.OneOf(ROLE_VALUES))


class PasswordChangeIn(Schema):
    current_password = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.Str(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenIn(Schema):
    username = fields.Str(required=True)
    password = fields.Str(required=True, load_only=True)
    name = fields.Str(load_default="api", validate=validate.Length(min=1, max=80))


class TokenOut(Schema):
    token = fields.Str()
    user = fields.Nested(UserOut)


class ApprovalIn(Schema):
    kind = fields.Str(required=True)
    target = fields.Str(required=True)
    payload = fields.Dict(required=True)


class ApprovalDecision(Schema):
    reason = fields.Str(load_default=None)


class ApprovalOut(Schema):
    id = fields.Int()
    organisation_id = fields.Int()
    kind = fields.Str()
    target = fields.Str()
    payload = fields.Method("_payload")
    status = fields.Str()
    initiated_by = fields.Int()
    initiated_at = fields.DateTime()
    decided_by = fields.Int(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.Str(allow_none=True)

    def _payload(self, obj):
        import json

        return json.loads(obj.payload_json)
