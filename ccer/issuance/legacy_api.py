"""REST resources of old-regime CCERs (Measures Art. 49; MEE notice 2023-10-24 [S6]; issuance/legacy.py): the
registry records a project filed before 2017-03-14 with its filing number and its old batches; anyone reads them
with what their CCERs may be used for (the national ETS only until 2024-12-31). The batches are then issued like
any registered batch (POST /api/v1/issuances, maker–checker)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..api.pagination import PageArgs, page_schema, paginate
from ..auth import policy
from ..auth.models import Organisation
from ..infra import bounds
from ..infra.bounds import Count, Day, Instant, Name, Tonnes
from ..infra.errors import NotFound
from ..projects import monitoring
from ..projects.models import Project
from ..requests import current_actor, db_session
from . import legacy

blp = Blueprint("legacy", __name__, url_prefix="/api/v1/legacy",
                description="Old-regime CCERs (Measures Art. 49): projects filed before 2017-03-14, their old batches and uses")


# ---- schemas -------------------------------------------------------------------------------------------------


class LegacyProjectIn(Schema):
    title = Name(300, required=True, metadata={"description": "the project's name as filed"})
    filing_no = Name(bounds.SHORT_LEN, required=True, metadata={"description": "the old regime's filing (备案) number"})
    filed_on = Day(required=True, metadata={"description": "the filing date: before 2017-03-14, when the old regime's "
                                                           "filings stopped (Measures Art. 49)"})
    owner_uscc = Name(18, required=True, metadata={"description": "the owner's 统一社会信用代码 (an organisation on the registry)"})
    sector = fields.Str(required=True, validate=validate.Regexp(r"^[0-9]{2}$"), metadata={
        "description": "the two-digit field its serial numbers carry (01 energy … 14 forestry)"})
    old_methodology = Name(bounds.SHORT_LEN, required=True, metadata={"description": "the old methodology, e.g. CM-001-V01"})
    province = Name(40, load_default=None, allow_none=True)


class LegacyBatchIn(Schema):
    start = Day(required=True, metadata={"description": "first day of the batch's period"})
    end = Day(required=True, metadata={"description": "last day of the batch's period"})
    vintages = fields.Dict(keys=fields.Str(validate=validate.Regexp(r"^[0-9]{4}$")), values=Tonnes(), required=True,
                           validate=validate.Length(min=1, max=50),
                           metadata={"description": "whole tCO2e by vintage year, as filed, e.g. {\"2016\": 1000}"})
    source = Name(bounds.NAME_LEN, required=True, metadata={"description": "where the figures come from (the old registry's record)"})
    number = Count(1, load_default=None, allow_none=True, metadata={"description": "the batch number (default: the next one)"})


class UsesOut(Schema):
    legacy = fields.Bool(metadata={"description": "always true: CCERs of an old-regime project"})
    national_ets_until = fields.Str(metadata={"description": "last day they offset national ETS compliance (MEE notice 2023-10-24)"})
    other_uses = fields.Str(metadata={"description": "every other use: as provided (Measures Art. 49)"})
    rule = fields.Str()


class LegacyBatchOut(Schema):
    id = fields.Int(metadata={"description": "the monitoring period (batch) id, for POST /api/v1/issuances"})
    number = fields.Int()
    start = fields.Date()
    end = fields.Date()
    status = fields.Str()
    source = fields.Str(allow_none=True)
    vintages = fields.Dict(keys=fields.Str(), values=fields.Int(), metadata={"description": "tCO2e by vintage"})
    quantity = fields.Int(metadata={"description": "tCO2e recorded"})
    issued = fields.Int(metadata={"description": "tCO2e issued as CCERs"})


class LegacyProjectOut(Schema):
    id = fields.Int()
    registry_no = fields.Int(allow_none=True)
    title = fields.Str()
    owner_id = fields.Int()
    owner = fields.Str(allow_none=True)
    province = fields.Str(allow_none=True)
    sector = fields.Str()
    methodology_code = fields.Str(metadata={"description": "OLD-<field>-<old methodology>"})
    old_methodology = fields.Str(allow_none=True)
    filing_no = fields.Str(allow_none=True)
    filed_on = fields.Date(allow_none=True)
    registered_at = Instant(allow_none=True)
    batches = fields.List(fields.Nested(LegacyBatchOut))
    quantity = fields.Int(metadata={"description": "tCO2e of every old batch recorded"})
    issued = fields.Int(metadata={"description": "tCO2e of them issued"})
    uses = fields.Nested(UsesOut, metadata={"description": "what its CCERs may be used for"})


def _view(project: Project) -> dict:
    return legacy.views(db_session(), [project])[0]


def _owner(code: str) -> int:
    org = db_session().execute(select(Organisation).where(Organisation.uscc == code.strip().upper())).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation with 统一社会信用代码 {code}", field="owner_uscc")
    return org.id


# ---- resources -----------------------------------------------------------------------------------------------


@blp.route("/projects")
class LegacyProjects(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(LegacyProjectOut, "LegacyProjectPage"))
    def get(self, page):
        """Every old-regime project with its filing, old batches and what its CCERs may be used for (public)."""
        session = db_session()
        out = paginate(session, legacy.projects_query(), Project.id, page)
        out["items"] = legacy.views(session, out["items"])
        return out

    @blp.arguments(LegacyProjectIn)
    @blp.response(201, LegacyProjectOut)
    def post(self, data):
        """Registry: record a project filed under the old regime (before 2017-03-14, Measures Art. 49) so that its
        old CCERs can be recorded and used as provided; a later filing re-applies as a new project (422)."""
        session = db_session()
        actor = current_actor()
        policy.require(actor, "project.import")  # before the owner is looked up: 401/403, never 404
        owner_id = _owner(data.pop("owner_uscc"))
        return _view(legacy.record_project(session, actor, owner_id=owner_id, **data))


@blp.route("/projects/<int:project_id>")
class LegacyProject(MethodView):
    @blp.response(200, LegacyProjectOut)
    def get(self, project_id):
        """One old-regime project (404 for any other project)."""
        return _view(legacy.get_project(db_session(), project_id))


@blp.route("/projects/<int:project_id>/batches")
class LegacyBatches(MethodView):
    @blp.arguments(LegacyBatchIn)
    @blp.response(201, LegacyBatchOut)
    def post(self, data, project_id):
        """Registry: record an old batch as filed (its period and tCO2e by vintage), registered; issue it with
        POST /api/v1/issuances (maker–checker). Measures Art. 22, 49."""
        session, actor = db_session(), current_actor()
        policy.require(actor, "reductions.import")  # the service's own check, first: 401/403 before 404
        project = legacy.get_project(session, project_id)
        mp = monitoring.import_listed_batch(session, actor, project.id, data["start"], data["end"], data["vintages"],
                                            data["source"], number=data["number"])
        return next(b for b in _view(project)["batches"] if b["id"] == mp.id)
