"""Changes to an organisation's representatives — adding a user, granting or revoking a role, deactivating a user —
made so that one person cannot defeat maker–checker (issue 15, item 3; Registry Rules: 发起代表/确认代表).

The system and the registry (for other organisations) act at once (`services.may_act_alone_on_people`). A user of
the organisation proposes instead; the change takes effect when a second user of the organisation, one who was a
user before the request was made, or the registry confirms it (makerchecker). A proposed user exists meanwhile,
inactive: it cannot log in, and once activated it cannot confirm any request made before its activation.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..infra.actor import Actor
from ..infra.db import mutating
from ..infra.errors import NotFound, Unauthorized, ValidationError
from . import makerchecker, policy, services
from .models import User

CREATE, GRANT, REVOKE, DEACTIVATE = "user.create", "user.grant_role", "user.revoke_role", "user.deactivate"


@dataclass
class Outcome:
    """What a change to people did: `user` as it now is, and the request when it waits for a confirmation."""

    user: User
    request: makerchecker.ApprovalRequest | None = None


@mutating
def create_user(session: Session, actor: Actor, **fields) -> Outcome:
    """Add a user: at once by the system or the registry, else a request whose confirmation activates the user."""
    org = services.get_organisation(session, fields.get("organisation_id"))
    if services.may_act_alone_on_people(actor, org):
        return Outcome(services.create_user(session, actor, **fields))
    user = services.create_user(session, actor, pending=True, **fields)
    req = makerchecker.propose(session, actor, CREATE, f"user:{user.id}", {"username": user.username, "roles": user.role_names})
    return Outcome(user, req)


def _user_for(session: Session, actor: Actor, user_id: int) -> User:
    """The user, when the actor may act on it or propose for it; another organisation's user is not found (404), as
    the actor cannot read it either."""
    if actor.user_id is None and not policy.is_system(actor):
        raise Unauthorized("log in first", field="Authorization")
    user = services.get_user(session, user_id)
    if user.organisation_id != actor.organisation_id and not services.may_act_alone_on_people(actor, user.organisation):
        raise NotFound(f"no user {user_id}", field="user_id")
    return user


@mutating
def change_role(session: Session, actor: Actor, user_id: int, role: str, grant: bool) -> Outcome:
    user = _user_for(session, actor, user_id)
    if services.may_act_alone_on_people(actor, user.organisation):
        return Outcome(services.apply_role_change(session, actor, user, role, grant))
    req = makerchecker.propose(session, actor, GRANT if grant else REVOKE, f"user:{user.id}", {"role": role})
    return Outcome(user, req)


@mutating
def deactivate(session: Session, actor: Actor, user_id: int) -> Outcome:
    user = _user_for(session, actor, user_id)
    if services.may_act_alone_on_people(actor, user.organisation):
        return Outcome(services.apply_deactivation(session, actor, user))
    req = makerchecker.propose(session, actor, DEACTIVATE, f"user:{user.id}", {})
    return Outcome(user, req)


# ---- the maker–checker operations -------------------------------------------------------------------------


def _target(session: Session, target: str, organisation_id: int | None = None) -> User:
    kind, _, uid = target.partition(":")
    user = session.get(User, int(uid)) if kind == "user" and uid.isdigit() and len(uid) < 10 else None
    if user is None or (organisation_id is not None and user.organisation_id != organisation_id):
        raise ValidationError(f"target must be user:<id> of a user of the organisation, got {target!r}", field="target")
    return user


def _precheck(kind: str):
    def check(session: Session, target: str, payload: dict, organisation_id: int | None = None) -> None:
        user = _target(session, target, organisation_id)
        if kind == CREATE and user.is_active:
            raise ValidationError("the user is already active; a creation request is made by POST /api/v1/users", field="target")
        if kind in (GRANT, REVOKE):
            role = payload.get("role")
            if not isinstance(role, str):
                raise ValidationError("a role is required", field="role")
            services.role_change_problem(user, role, kind == GRANT)
    return check


def _apply(kind: str):
    def apply(session: Session, actor: Actor, target: str, payload: dict, organisation_id: int | None = None):
        user = _target(session, target, organisation_id)
        if kind == CREATE:
            return services.apply_activation(session, actor, user)
        if kind == DEACTIVATE:
            return services.apply_deactivation(session, actor, user)
        return services.apply_role_change(session, actor, user, payload["role"], kind == GRANT)
    return apply


def wire() -> None:
    """Register the four operations on people (the package's wire(), once)."""
    for kind in (CREATE, GRANT, REVOKE, DEACTIVATE):
        makerchecker.operation(kind, _apply(kind), "user.propose", _precheck(kind), registry_permission="user.review",
                                scoped=True)
