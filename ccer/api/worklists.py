"""What awaits a caller (issue 17: next steps easy to find): the engagements offered to a VVB or made by an owner,
and the registry's pending decisions (what `ccer registry due` prints)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, or_, select

from ..auth import policy
from ..auth.roles import Role
from ..infra.bounds import Instant
from ..issuance.due import pending_decisions
from ..projects.models import MonitoringPeriod, Project
from ..requests import current_actor, db_session
from ..validation.models import Engagement
from .pagination import PageArgs, page_schema, paginate

blp = Blueprint("worklists", __name__, url_prefix="/api/v1", description="What awaits the caller: engagements, the registry's decisions")


class EngagementQuery(PageArgs):
    status = fields.Str(load_default=None, validate=validate.OneOf(["proposed", "accepted", "declined"]))
    role = fields.Str(load_default=None, validate=validate.OneOf(["validation", "verification"]))


class EngagementItem(Schema):
    id = fields.Int()
    role = fields.Str(metadata={"description": "validation (of a project) | verification (of a monitoring period)"})
    subject_type = fields.Str()
    subject_id = fields.Int()
    vvb_id = fields.Int()
    status = fields.Str(metadata={"description": "proposed | accepted | declined"})
    proposed_at = Instant()
    decided_at = Instant(allow_none=True)


class DueItem(Schema):
    kind = fields.Str(metadata={"description": "account | account change | project | reductions"})
    ref = fields.Str()
    id = fields.Int()
    subject = fields.Str()
    due = fields.Date(metadata={"description": "the deadline (a Beijing calendar date)"})
    state = fields.Str(metadata={"description": "overdue | today | open"})
    rule = fields.Str()


class DueList(Schema):
    items = fields.List(fields.Nested(DueItem))


@blp.route("/engagements")
class EngagementList(MethodView):
    @blp.arguments(EngagementQuery, location="query")
    @blp.response(200, page_schema(EngagementItem, "EngagementPage"))
    def get(self, args):
        """Engagements offered to the caller's organisation as a VVB (to accept or decline at
        /engagements/{id}/decision), and those its organisation made as an owner; the registry sees all."""
        actor = current_actor()
        policy.require(actor, "events.read_own")
        stmt = select(Engagement)
        if Role.REGISTRY_OPERATOR.value not in actor.roles:
            org = actor.organisation_id
            own_projects = select(Project.id).where(Project.owner_id == org)
            own_periods = select(MonitoringPeriod.id).where(MonitoringPeriod.project_id.in_(own_projects))
            stmt = stmt.where(or_(Engagement.vvb_id == org,
                                  and_(Engagement.role == "validation", Engagement.subject_id.in_(own_projects)),
                                  and_(Engagement.role == "verification", Engagement.subject_id.in_(own_periods))))
        for name in ("status", "role"):
            if args.get(name):
                stmt = stmt.where(getattr(Engagement, name) == args[name])
        return paginate(db_session(), stmt, Engagement.id, args)


@blp.route("/registry/due")
class RegistryDue(MethodView):
    @blp.response(200, DueList)
    def get(self):
        """The registry's pending decisions, earliest deadline first (15 working days each; Registry Rules Art. 7,
        8; Measures Art. 15, 22) — `ccer registry due`."""
        policy.require(current_actor(), "registry.account.decide")
        return {"items": pending_decisions(db_session())}
