"""The marshmallow schema of a methodology's parameters, generated from its declarations so that units,
ranges, stage, defaults and sources live in one place; the REST API and the OpenAPI document use it."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .protocol import Methodology, Param


def _field(p: Param) -> fields.Field:
    meta = {k: v for k, v in p.describe().items() if k not in ("symbol", "kind", "required")}
    required = p.required and p.default is None
    if p.kind == "number":
        rng = validate.Range(min=p.min, max=p.max)
        return fields.Decimal(required=required, validate=rng, as_string=True, metadata=meta)
    if p.kind == "by_fuel":
        return fields.Dict(keys=fields.Str(), values=fields.Decimal(validate=validate.Range(min=p.min, max=p.max)),
                           required=required, metadata=meta)
    if p.kind == "choice":
        return fields.Str(required=required, validate=validate.OneOf(p.choices), metadata=meta)
    if p.kind == "date":
        return fields.Date(required=required, metadata=meta)
    if p.kind == "bool":
        return fields.Bool(required=required, metadata=meta)
    if p.kind == "list":
        return fields.List(fields.Raw(), required=required, metadata=meta)
    if p.kind in ("object",):
        return fields.Dict(required=required, metadata=meta)
    if p.kind == "by_stratum":
        return fields.Raw(required=required, metadata=meta)
    return fields.Str(required=required, metadata=meta)


def period_schema(m: Methodology) -> type[Schema]:
    spec = {"start": fields.Date(required=True), "end": fields.Date(required=True)}
    spec.update({p.symbol: _field(p) for p in m.params})
    return Schema.from_dict(spec, name=m.code.replace("-", "_") + "_Period")


def project_schema(m: Methodology) -> type[Schema]:
    spec = {"crediting_start": fields.Date(), "crediting_end": fields.Date()}
    spec.update({p.symbol: _field(p) for p in m.project_facts})
    return Schema.from_dict(spec, name=m.code.replace("-", "_") + "_Project")
