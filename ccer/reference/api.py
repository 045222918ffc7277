"""REST resources: the reference data sets (read by anyone), a load by the registry, and working-day deadlines with
their provisional flag (a year whose calendar is not loaded yet counts on the statutory holidays)."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..auth import policy
from ..infra import calendar
from ..infra.errors import NotFound, ValidationError
from ..requests import current_actor, db_session
from . import datasets, services

blp = Blueprint("reference", __name__, url_prefix="/api/v1", description="Reference data the registry maintains")
KIND = validate.OneOf(datasets.KINDS)


class DatasetOut(Schema):
    kind = fields.Str()
    edition = fields.Str()
    version = fields.Int(metadata={"description": "0: packaged with the platform; 1, 2, …: loaded by the registry"})
    title = fields.Str()
    status = fields.Str(metadata={"description": "VERIFIED | UNCONFIRMED"})
    published = fields.Str(allow_none=True)
    origin = fields.Str()
    sha256 = fields.Str(allow_none=True)
    in_force = fields.Bool()
    loaded_by = fields.Str(allow_none=True)
    loaded_at = fields.Str(allow_none=True)


class DatasetDetail(DatasetOut):
    source = fields.Str()
    versions = fields.List(fields.Int())
    content = fields.Dict()


class ListArgs(Schema):
    kind = fields.Str(load_default=None, validate=KIND)


class ShowArgs(Schema):
    version = fields.Int(load_default=None, validate=validate.Range(min=1, max=100000))


class LoadIn(Schema):
    file = fields.Str(required=True, validate=validate.Length(min=1, max=2_000_000),
                      metadata={"description": "the CSV text, '# key: value' header lines first (ccer.reference.datasets)"})
    filename = fields.Str(load_default=None, validate=[validate.Length(min=1, max=255),
                                                       validate.Regexp(r"^[^\x00-\x1f\x7f/\\]+$", error="a plain file name")])
    kind = fields.Str(load_default=None, validate=KIND)


class DeadlineArgs(Schema):
    start = fields.Date(required=True, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)))
    workdays = fields.Int(required=True, validate=validate.Range(min=0, max=400))


class DeadlineOut(Schema):
    start = fields.Date()
    workdays = fields.Int()
    end = fields.Date()
    provisional = fields.Bool(metadata={"description": "true when the period counts days of a year whose State Council "
                                                      "calendar is not loaded: computed on the statutory holidays, "
                                                      "recomputed when the year is loaded"})
    rules = fields.Str()


@blp.route("/reference")
class References(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, DatasetOut(many=True))
    def get(self, args):
        """Every reference data set, packaged or loaded, with its status and whether it is in force (public)."""
        session = db_session()
        services.sync(session)
        return services.listing(session, args["kind"])

    @blp.arguments(LoadIn)
    @blp.response(201, DatasetDetail)
    def post(self, body):
        """Load a reference file as the next version of its edition (the registry); refused with the line and field
        of the first problem."""
        session, actor = db_session(), current_actor()
        policy.require(actor, services.LOAD)
        row = services.load(session, actor, body["file"], filename=body["filename"], kind=body["kind"])
        return services.show(session, row.kind, row.edition, row.version)


@blp.route("/reference/<string:kind>/<string:edition>")
class Reference(MethodView):
    @blp.arguments(ShowArgs, location="query")
    @blp.response(200, DatasetDetail)
    def get(self, args, kind, edition):
        """One data set with its provenance and content (public)."""
        if kind not in datasets.KINDS:
            raise ValidationError(f"{kind[:40]!r} is not one of {', '.join(datasets.KINDS)}", field="kind")
        if len(edition) > 40 or not edition.isprintable():
            raise NotFound(f"no {kind} data set {edition[:40]!r}", field="edition")
        return services.show(db_session(), kind, edition, args["version"])


@blp.route("/reference/calendar/deadline")
class Deadline(MethodView):
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineOut)
    def get(self, args):
        """The date N working days after START (START not counted, Civil Code Art. 201) and whether it is provisional."""
        services.sync(db_session())
        end, provisional = calendar.deadline(args["start"], args["workdays"])
        return {"start": args["start"], "workdays": args["workdays"], "end": end, "provisional": provisional,
                "rules": calendar.STATUTORY_RULES if provisional else "the State Council calendars in force"}
