"""REST resources: the event log, the chain head, and (anonymous) the signed checkpoints with the registry's
public key, which anyone may keep to prove later that the history was not rewritten."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import or_, select

from .. import ledger
from ..auth import policy
from ..auth.models import User
from ..infra.bounds import INT32_MAX, Instant, Name
from ..infra.errors import NotFound
from ..requests import current_actor, db_session
from .pagination import PageArgs, page_schema, paginate

blp = Blueprint("events", __name__, url_prefix="/api/v1", description="The hash-chained event log")


class EventOut(Schema):
    seq = fields.Int()
    occurred_at = Instant()
    actor = fields.Str()
    actor_user_id = fields.Int(allow_none=True)
    subject_type = fields.Str()
    subject_id = fields.Str()
    action = fields.Str()
    payload = fields.Dict()
    payload_json = fields.Str(metadata={"description": "the payload exactly as stored and hashed: canonical JSON text "
                                                      "(docs/ledger-format.md); verify with this, not with a re-serialised `payload`"})
    prev_hash = fields.Str()
    hash = fields.Str()


class EventFilter(Schema):
    subject_type = Name(40, load_default=None)
    subject_id = Name(64, load_default=None)
    action = Name(80, load_default=None)


class HeadOut(Schema):
    seq = fields.Int()
    hash = fields.Str()


def _visible(stmt, actor):
    """Supervisors see everything; a user sees events they or their organisation's users caused, and
    events about their organisation."""
    if policy.can(actor, "events.read_all"):
        return stmt
    policy.require(actor, "events.read_own")
    colleagues = select(User.id).where(User.organisation_id == actor.organisation_id)
    return stmt.where(or_(
        ledger.Event.actor_user_id.in_(colleagues),
        (ledger.Event.subject_type == "organisation") & (ledger.Event.subject_id == str(actor.organisation_id)),
    ))


@blp.route("/events")
class Events(MethodView):
    @blp.arguments(EventFilter, location="query")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(EventOut, "EventPage"))
    def get(self, filters, page):
        stmt = _visible(select(ledger.Event), current_actor()).where(ledger.Event.seq.is_not(None))  # the chain; pending ones follow shortly
        for key, value in filters.items():
            if value is not None:
                stmt = stmt.where(getattr(ledger.Event, key) == value)
        return paginate(db_session(), stmt, ledger.Event.seq, page)


@blp.route("/events/<int:seq>")
class EventOne(MethodView):
    @blp.response(200, EventOut)
    def get(self, seq):
        ev = db_session().execute(_visible(select(ledger.Event), current_actor()).where(ledger.Event.seq == seq)).scalar_one_or_none()
        if ev is None:
            raise NotFound(f"no visible event #{seq}", field="seq")
        return ev


@blp.route("/ledger/head")
class Head(MethodView):
    @blp.response(200, HeadOut)
    def get(self):
        """The chain head anyone can compare with an exported checkpoint."""
        policy.require(current_actor(), "ledger.head")
        seq, hash_ = ledger.head(db_session())
        return {"seq": seq, "hash": hash_}


class PublicKeyOut(Schema):
    algorithm = fields.Str(metadata={"description": "Ed25519"})
    key_id = fields.Str(metadata={"description": "hex SHA-256 of the raw public key"})
    public_key = fields.Str(metadata={"description": "the raw 32-byte public key, hex"})


class CheckpointOut(Schema):
    seq = fields.Int()
    head_hash = fields.Str()
    created_at = fields.Str(metadata={"description": "ISO 8601 instant with its offset (not signed)"})
    roots = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={"description": "{subject type: Merkle root}"})
    key_id = fields.Str(allow_none=True)
    signature = fields.Str(allow_none=True, metadata={"description": "Ed25519 signature (hex) of the canonical JSON of "
                                                                     "head_hash, key_id, roots and seq (docs/ledger-format.md §7)"})


class CheckpointPage(Schema):
    key = fields.Nested(PublicKeyOut)
    items = fields.List(fields.Nested(CheckpointOut))
    next_cursor = fields.Str(allow_none=True)


@blp.route("/public/ledger/key")
class PublicLedgerKey(MethodView):
    @blp.response(200, PublicKeyOut)
    def get(self):
        """The registry's public key, which signs every checkpoint (anonymous)."""
        return ledger.public_key().as_dict()


@blp.route("/public/ledger/checkpoints")
class PublicCheckpoints(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CheckpointPage)
    def get(self, page):
        """The signed checkpoints in seq order, with the key that signs them (anonymous): keep one, and any later
        export or database must contain it (`ccer-verify --trust`, `ccer ledger verify --since`)."""
        out = paginate(db_session(), select(ledger.Checkpoint), ledger.Checkpoint.seq, page)
        out["items"] = [cp.public() for cp in out["items"]]
        return {**out, "key": ledger.public_key().as_dict()}


class FeedArgs(Schema):
    after = fields.Int(load_default=0, strict=False, validate=validate.Range(min=0, max=INT32_MAX),
                       metadata={"description": "the last seq the caller holds (0: from the start)"})
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))


class FeedEvent(Schema):
    """An event exactly as the public export writes it (docs/ledger-format.md §9): `payload` is the canonical
    payload text and `occurred_at` the UTC instant as hashed, so `hash` can be recomputed from these members."""

    seq = fields.Int()
    occurred_at = fields.Str()
    actor = fields.Str()
    actor_user_id = fields.Int(allow_none=True)
    subject_type = fields.Str()
    subject_id = fields.Str()
    action = fields.Str()
    payload = fields.Str()
    prev_hash = fields.Str()
    hash = fields.Str()


class FeedPage(Schema):
    items = fields.List(fields.Nested(FeedEvent))
    next_after = fields.Int(metadata={"description": "the seq to ask `after=` next (the last one given, or `after` when none)"})
    head_seq = fields.Int(metadata={"description": "the chain head now: caught up when next_after equals it"})


#: subject types whose every event is public: the registry's public records (Registry Rules Art. 13, 15; Measures
#: Art. 43), as open data and the public pages show them
PUBLIC_SUBJECTS = ("retirement", "fraud_case", "organisation")


def _public_events():
    """WHERE clause on events: what anyone may read — credits (issued, retired, force-cancelled), the public subject
    types, and the events of projects and reduction batches the public may see (no draft: projects.visibility)."""
    from sqlalchemy import String, cast

    from ..projects import visibility
    from ..projects.models import MonitoringPeriod, Project

    Event = ledger.Event
    projects = select(cast(Project.id, String)).where(visibility.visible_to(None))
    batches = (select(cast(MonitoringPeriod.id, String)).join(Project, MonitoringPeriod.project_id == Project.id)
               .where(visibility.batches_visible_to(None)))
    return or_(Event.action.in_(ledger.CREDIT_ACTIONS), Event.subject_type.in_(PUBLIC_SUBJECTS),
               (Event.subject_type == "project") & Event.subject_id.in_(projects),
               (Event.subject_type == "monitoring_period") & Event.subject_id.in_(batches))


@blp.route("/public/events")
class PublicEvents(MethodView):
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedPage)
    def get(self, args):
        """The change feed of the public ledger events (anonymous): issuances, retirements and cancellations, fraud
        cases, organisations, and the events of projects and batches beyond draft, after `after`, oldest first —
        each exactly as the export (`ccer ledger export`) writes it, so a mirror or an observer following the
        registry by polling recomputes each event's hash (docs/ledger-format.md §3) and holds it against the
        signed checkpoints (/public/ledger/checkpoints). Other events (users, tokens, orders, funds, drafts) are
        not public: `prev_hash` may name an event the feed leaves out."""
        import json

        from ..ledger.export import event_line

        Event = ledger.Event
        session = db_session()
        rows = session.execute(
            select(Event.seq, Event.occurred_at, Event.actor_user_id, Event.actor, Event.subject_type, Event.subject_id,
                   Event.action, Event.payload_json, Event.prev_hash, Event.hash)
            .where(Event.seq > args["after"], _public_events()).order_by(Event.seq).limit(args["limit"])).all()
        items = [json.loads(event_line(*row)) for row in rows]
        return {"items": items, "next_after": items[-1]["seq"] if items else args["after"], "head_seq": ledger.head(session)[0]}
