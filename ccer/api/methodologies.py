"""The methodology catalogue over REST (issue 17 §2), anonymous: each installed methodology with what its plug-in
declares (ccer/methodologies/protocol.py describe()), one JSON schema of its parameters per stage of the input
(project facts, one period) generated from the same declarations as the validation (methodologies/schema.py), and
the calculator (`ccer methodology calc` over HTTP). The schemas also stand in openapi.json's components, one per
methodology ("CCER_01_001_V01_Period", "CCER_01_001_V01_Project"), so a client can be generated against them."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..infra.bounds import Document, Documents, Name
from ..methodologies import inputs, registry
from ..methodologies.schema import period_schema, project_schema

blp = Blueprint("methodologies", __name__, url_prefix="/api/v1/methodologies",
                description="Methodologies: what each declares, the JSON schema of its parameters, the calculator (anonymous)")


class MethodologyBrief(Schema):
    code = fields.Str(metadata={"description": "e.g. CCER-01-001-V01"})
    name_zh = fields.Str()
    name_en = fields.Str()
    sector = fields.Str()
    issued = fields.Str(metadata={"description": "ISO date"})
    status = fields.Str(metadata={"description": "VERIFIED / PARTLY VERIFIED / LARGELY UNVERIFIED (methodologies.md §0)"})


class MethodologyOut(MethodologyBrief):
    crediting_years = fields.Dict(metadata={"description": "{min, max} years of a crediting period"})
    additionality = fields.Dict(metadata={"description": "{exempt, rule}"})
    project_facts = fields.List(fields.Dict(), metadata={"description": "declared facts: symbol, unit, description, min, max, choices, default, source"})
    parameters = fields.List(fields.Dict(), metadata={"description": "declared parameters, as project_facts"})
    monitoring = fields.List(fields.Dict())
    schemas = fields.Dict(metadata={"description": "JSON schemas of the calculator's input: project (facts) and period (one period's parameters)"})


class MethodologyList(Schema):
    items = fields.List(fields.Nested(MethodologyBrief))


class CalculateIn(Schema):
    stage = fields.Str(load_default="ex-post", validate=validate.OneOf(inputs.STAGES))
    project = Document(load_default=dict, metadata={"description": "project facts (schemas.project of the methodology)"})
    periods = Documents(1, 120, required=True,
                        metadata={"description": "periods, each {start, end, <parameters>} (schemas.period)"})
    comment = Name(500, load_default=None, allow_none=True)


class CalculationOut(Schema):
    methodology = fields.Str()
    stage = fields.Str()
    periods = fields.List(fields.Dict(), metadata={"description": "start, end, BE, PE, LE, ER (tCO2e) and their exact decimals"})
    total = fields.Dict(metadata={"description": "BE, PE, LE, ER, ER_credited (whole tCO2e, rounded down) and exact"})
    trace = fields.List(fields.Dict(), metadata={"description": "every step: formula, value, unit, inputs, the rule cited"})
    notes = fields.List(fields.Str())


#: what a declaration says beyond JSON Schema, kept as OpenAPI extensions on its property ("x-unit": "MWh", …)
_EXTENSIONS = ("unit", "stage", "status", "default", "source")


def _annotate(schema: dict, declarations) -> dict:
    props = schema.get("properties", {})
    for p in declarations:
        described = p.describe()
        for key in _EXTENSIONS:
            if p.symbol in props and described.get(key) is not None:
                props[p.symbol][f"x-{key}"] = described[key]
    return schema


def json_schemas(api, methodology) -> dict:
    """{project, period}: JSON schemas of the calculator's input, with units, stages and sources as x- members."""
    convert = api.ma_plugin.converter.schema2jsonschema
    return {"project": _annotate(convert(project_schema(methodology)), methodology.project_facts),
            "period": _annotate(convert(period_schema(methodology)), methodology.params)}


def declare_schemas(api) -> None:
    """One component schema per methodology and stage in openapi.json."""
    for m in registry.installed().values():
        for make, declarations in ((project_schema, m.project_facts), (period_schema, m.params)):
            cls = make(m)
            name = cls.__name__
            if name not in api.spec.components.schemas:
                api.spec.components.schema(name, schema=cls)
                _annotate(api.spec.components.schemas[name], declarations)


@blp.route("")
class Methodologies(MethodView):
    @blp.response(200, MethodologyList)
    def get(self):
        """Every installed methodology (official plug-ins and approved proposals)."""
        return {"items": [m.describe() for m in registry.installed().values()]}


def _get(code: str):
    return registry.get(code)


@blp.route("/<code>")
class MethodologyOne(MethodView):
    @blp.response(200, MethodologyOut)
    def get(self, code):
        """What the methodology declares, and the JSON schemas of its parameters (units, ranges, choices, help)."""
        from flask import current_app

        m = _get(code)
        return {**m.describe(), "schemas": json_schemas(current_app.extensions["ccer.api"], m)}


@blp.route("/<code>/calculate")
class MethodologyCalculate(MethodView):
    @blp.arguments(CalculateIn)
    @blp.response(200, CalculationOut)
    def post(self, data, code):
        """Run the methodology's formulas on the input (as `ccer methodology calc`): periods, totals and the trace.
        Nothing is stored."""
        m = _get(code)
        body = {"stage": data["stage"], "project": data["project"], "periods": data["periods"]}
        return m.calculate(body).to_dict()
