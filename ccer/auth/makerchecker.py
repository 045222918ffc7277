"""Maker–checker: an initiator proposes an operation, a *different* user of the *same* organisation
confirms it, and only then is it carried out (Registry Rules: 发起代表 / 确认代表, [S8]; ccer-rules.md §6).

A confirmer must have been able to act before the request was made (issue 15, item 3): otherwise one person
proposes, then creates a second user and confirms with it. "Before" is the ledger's order — the event that made
the confirmer a user (created, or activated once its own creation was confirmed) precedes the request's
"approval.proposed" event — which is strict even when the platform clock stands still. Operations on people
(ccer.auth.people) may also be confirmed by the registry (`registry_permission`): registry-reviewed.

Features register the operations they want guarded with `operation(kind, apply, permission)`; `apply`
runs inside the confirming transaction and writes its own events.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import ledger
from ..infra import clock
from ..infra.db import Base, fetch, mutating
from ..infra.errors import Conflict, Forbidden, Unauthorized, ValidationError
from ..infra.actor import Actor
from . import policy


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: the registered operation, e.g. "organisation.change_profile"
    kind: Mapped[str] = mapped_column(String(80))
    #: what the operation acts on, e.g. "organisation:3"
    target: Mapped[str] = mapped_column(String(80))
    #: canonical JSON of the operation's arguments
    payload_json: Mapped[str] = mapped_column(Text)
    #: pending | approved | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(16), default="pending")
    initiated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    initiated_at: Mapped[datetime]
    #: id of the "approval.proposed" event: confirmers must have become users before it (ledger order)
    proposed_event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


def request_state(session: Session, rid: str) -> dict | None:
    r = session.get(ApprovalRequest, int(rid))
    if r is None:
        return None
    return {"kind": r.kind, "target": r.target, "payload": r.payload_json, "status": r.status,
            "initiated_by": r.initiated_by, "decided_by": r.decided_by, "organisation_id": r.organisation_id}


#: request_state of every request in one ordered scan (ledger verify)
request_states = ledger.scan(
    [ApprovalRequest.id, ApprovalRequest.kind, ApprovalRequest.target, ApprovalRequest.payload_json, ApprovalRequest.status,
     ApprovalRequest.initiated_by, ApprovalRequest.decided_by, ApprovalRequest.organisation_id],
    lambda r: {"kind": r.kind, "target": r.target, "payload": r.payload_json, "status": r.status, "initiated_by": r.initiated_by,
               "decided_by": r.decided_by, "organisation_id": r.organisation_id})


@dataclass
class Operation:
    kind: str
    #: (session, confirmer actor, target string, payload dict) -> result; writes its own events
    apply: Callable[[Session, Actor, str, dict], Any]
    #: the policy action both initiator and confirmer must pass, evaluated on the organisation
    permission: str
    #: checks the payload when proposed, so a bad request never waits for a confirmer
    precheck: Callable[[Session, str, dict], None] | None = None
    #: `apply` takes vouch=[("approval_request", id)] and its own event vouches for the approved request,
    #: so a confirmation is one event rather than "approval.confirmed" followed by the operation's
    one_event: bool = False
    #: when set, a registry user holding this permission may also confirm or reject a request of another
    #: organisation (registry-reviewed), e.g. adding a user to an organisation that has only one
    registry_permission: str | None = None
    #: precheck and apply also take organisation_id= (the requesting organisation), to refuse targets of another
    scoped: bool = False


OPERATIONS: dict[str, Operation] = {}


def operation(kind: str, apply, permission: str, precheck=None, one_event: bool = False,
              registry_permission: str | None = None, scoped: bool = False) -> None:
    OPERATIONS[kind] = Operation(kind, apply, permission, precheck, one_event, registry_permission, scoped)


def operation_of(kind: str) -> Operation:
    try:
        return OPERATIONS[kind]
    except KeyError:
        raise ValidationError(f"unknown operation {kind!r}; one of {', '.join(sorted(OPERATIONS))}", field="kind")


#: target kind ("account") → (resolve(session, target) → the resource the permission is evaluated on, raising
#: NotFound when absent; not_found(target) → that same NotFound). Features register theirs in wire(). A target
#: the initiator may not act on is answered exactly as if it did not exist — no balance, no 403 (issue 15)
TARGETS: dict[str, tuple[Callable[[Session, str], Any], Callable[[str], Exception]]] = {}


def target_kind(kind: str, resolve, not_found) -> None:
    TARGETS[kind] = (resolve, not_found)


def _check_target(session: Session, initiator: Actor, op: Operation, target: str) -> None:
    entry = TARGETS.get(str(target).partition(":")[0])
    if entry is not None and not policy.can(initiator, op.permission, entry[0](session, target)):
        raise entry[1](target)


def visible_to(actor: Actor):
    """Which requests a user sees (a WHERE clause): its organisation's, and — for the registry — every request it may
    review as the registry (operations with a `registry_permission` it holds), so that it finds what waits for it."""
    from sqlalchemy import or_

    reviewable = sorted(k for k, op in OPERATIONS.items() if op.registry_permission and policy.can(actor, op.registry_permission))
    own = ApprovalRequest.organisation_id == actor.organisation_id
    return or_(own, ApprovalRequest.kind.in_(reviewable)) if reviewable else own


def _org_resource(session: Session, organisation_id: int):
    from .models import Organisation

    return session.get(Organisation, organisation_id)


@mutating
def propose(session: Session, initiator: Actor, kind: str, target: str, payload: dict) -> ApprovalRequest:
    """The initiator's half."""
    op = operation_of(kind)
    if initiator.user_id is None or initiator.organisation_id is None:
        if not policy.is_system(initiator):
            policy.require(initiator, op.permission)  # anonymous: "log in first" (401), as any other write
        raise Forbidden("maker–checker operations are proposed by a user of an organisation", field="actor")
    policy.require(initiator, op.permission, _org_resource(session, initiator.organisation_id))
    _check_target(session, initiator, op, target)
    if op.precheck:
        op.precheck(session, target, payload, **({"organisation_id": initiator.organisation_id} if op.scoped else {}))
    req = ApprovalRequest(
        organisation_id=initiator.organisation_id, kind=kind, target=target,
        payload_json=ledger.canonical(payload), status="pending",
        initiated_by=initiator.user_id, initiated_at=clock.now(session),
    )
    session.add(req)
    session.flush()
    req.proposed_event_id = ledger.record(session, initiator, "approval.proposed", "approval_request", req.id).id
    return req


def _pending(session: Session, request_id: int) -> ApprovalRequest:
    req = fetch(session, ApprovalRequest, request_id, "approval request", "request_id", with_for_update=True)
    if req.status != "pending":
        raise Conflict(f"request {request_id} is already {req.status}", field="status")
    return req


def _require_checker(session: Session, checker: Actor, req: ApprovalRequest, op: Operation, verb: str) -> None:
    """A user of the requesting organisation with the operation's permission, or — for operations the registry
    may review — a registry user with that permission."""
    if checker.organisation_id == req.organisation_id:
        policy.require(checker, op.permission, _org_resource(session, req.organisation_id))
        return
    if op.registry_permission and checker.user_id is not None and policy.can(checker, op.registry_permission, _org_resource(session, req.organisation_id)):
        return
    who = "a user of the requesting organisation" + (" or the registry" if op.registry_permission else "")
    if checker.user_id is None and not policy.is_system(checker):
        raise Unauthorized(f"log in first: only {who} can {verb}", field="Authorization")
    raise Forbidden(f"only {who} can {verb}", field="actor", rule="Registry Rules: 发起代表/确认代表")


def _require_existed_before(session: Session, confirmer: Actor, req: ApprovalRequest) -> None:
    """The confirmer became a user strictly before the request was made: the event that made them one (their
    `acts_since`) precedes the request's proposal event; without those marks (rows from before they were kept),
    by time."""
    from .models import User

    user = session.get(User, confirmer.user_id)
    if user is None:
        raise Forbidden("a confirmer is a user", field="actor")
    if user.acts_since is not None and req.proposed_event_id is not None:
        before = user.acts_since < req.proposed_event_id
    else:
        before = user.created_at < req.initiated_at
    if not before:
        raise Forbidden(f"{user.username} became a user after request {req.id} was made; a confirmer must have existed "
                        "before the request", field="actor", rule="maker–checker: confirmer existed before the request")


@mutating
def confirm(session: Session, confirmer: Actor, request_id: int) -> Any:
    """The confirmer's half: a different user of the same organisation; runs the operation."""
    req = _pending(session, request_id)
    op = operation_of(req.kind)
    if confirmer.user_id == req.initiated_by:
        raise Forbidden("the initiator cannot confirm their own request; a second user must (maker–checker)", field="actor", rule="Registry Rules: 发起代表/确认代表")
    _require_checker(session, confirmer, req, op, "confirm")
    _require_existed_before(session, confirmer, req)
    req.status = "approved"
    req.decided_by = confirmer.user_id
    req.decided_at = clock.now(session)
    if op.one_event:
        return op.apply(session, confirmer, req.target, json.loads(req.payload_json), vouch=[("approval_request", req.id)])
    ledger.record(session, confirmer, "approval.confirmed", "approval_request", req.id)
    if op.scoped:
        return op.apply(session, confirmer, req.target, json.loads(req.payload_json), organisation_id=req.organisation_id)
    return op.apply(session, confirmer, req.target, json.loads(req.payload_json))


@mutating
def reject(session: Session, confirmer: Actor, request_id: int, reason: str) -> ApprovalRequest:
    req = _pending(session, request_id)
    if confirmer.user_id != req.initiated_by:
        _require_checker(session, confirmer, req, operation_of(req.kind), "reject")
    if not reason:
        raise ValidationError("a reason is required", field="reason")
    req.status = "withdrawn" if confirmer.user_id == req.initiated_by else "rejected"
    req.decided_by = confirmer.user_id
    req.decided_at = clock.now(session)
    req.reason = reason
    ledger.record(session, confirmer, f"approval.{req.status}", "approval_request", req.id)
    return req


# ---- the foundation's own guarded operation: changing an organisation's profile (Registry Rules Art. 8) --


def _profile_target(session: Session, target: str):
    from .models import Organisation

    kind, _, oid = target.partition(":")
    org = session.get(Organisation, int(oid)) if kind == "organisation" and oid.isdigit() else None
    if org is None:
        raise ValidationError(f"target must be organisation:<id> of an existing organisation, got {target!r}", field="target")
    return org


def _profile_precheck(session: Session, target: str, payload: dict) -> None:
    _profile_target(session, target)
    allowed = {"name", "name_en", "province"}
    for key in payload:
        if key not in allowed:
            raise ValidationError(f"cannot be changed by request; changeable: {', '.join(sorted(allowed))}", field=key)


def _profile_apply(session: Session, actor: Actor, target: str, payload: dict):
    from .services import apply_profile_change

    org = _profile_target(session, target)
    if org.id != actor.organisation_id:
        raise Forbidden("an organisation changes only its own profile", field="target")
    return apply_profile_change(session, actor, org, payload)


operation("organisation.change_profile", _profile_apply, "organisation.change_profile", _profile_precheck)


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_subject("approval_request", request_state, lambda s: s.execute(select(ApprovalRequest.id)).scalars(),
                            snapshot_all=request_states)
