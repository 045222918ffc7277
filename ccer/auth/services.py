"""Verbs on organisations, users and tokens. Each mutating one is a single transaction with its event."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import ledger
from ..infra import clock
from ..infra.db import fetch, mutating
from ..infra.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from ..infra.actor import Actor
from . import policy, uscc
from .models import Accreditation, ApiToken, Organisation, OrganisationRole, User, UserRole
from .passwords import check_nobody, check_password, check_policy, hash_password
from .sessions import revoke_everything_of
from .roles import ORGANISATION_ROLES, SECTORS, Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
TOKEN_LIFETIME = timedelta(days=90)


# ---- state the event chain vouches for -------------------------------------------------------------------


def organisation_state(session: Session, oid: str) -> dict | None:
    org = session.get(Organisation, int(oid))
    if org is None:
        return None
    return {
        "uscc": org.uscc,
        "name": org.name,
        "name_en": org.name_en,
        "province": org.province,
        "status": org.status,
        "parent_id": org.parent_id,
        "roles": org.role_names,
        "accredited_sectors": org.accredited_sectors,
    }


def user_state(session: Session, uid: str) -> dict | None:
    user = session.get(User, int(uid))
    if user is None:
        return None
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "organisation_id": user.organisation_id,
        "is_active": user.is_active,
        "roles": user.role_names,
        # the hash itself stays private; its digest still exposes a password swapped behind our back
        "password": ledger.sha256(user.password_hash)[:16],
    }


def _grouped(session: Session, owner, value) -> dict[int, list[str]]:
    """{owner id: sorted values} of a one-to-many table, in one query."""
    out: dict[int, list[str]] = {}
    for oid, v in session.execute(select(owner, value)):
        out.setdefault(oid, []).append(v)
    for values in out.values():
        values.sort()  # as role_names sorts: by code point, whatever the database's collation
    return out


def organisation_states(session: Session, ids=None):
    """organisation_state of every organisation (or of `ids`) from three queries (ledger verify)."""
    roles = _grouped(session, OrganisationRole.organisation_id, OrganisationRole.role)
    sectors = _grouped(session, Accreditation.organisation_id, Accreditation.sector)
    scan = ledger.scan([Organisation.id, Organisation.uscc, Organisation.name, Organisation.name_en, Organisation.province,
                        Organisation.status, Organisation.parent_id],
                       lambda r: {"uscc": r.uscc, "name": r.name, "name_en": r.name_en, "province": r.province, "status": r.status,
                                  "parent_id": r.parent_id, "roles": roles.get(r.id, []), "accredited_sectors": sectors.get(r.id, [])})
    return scan(session, ids)


def user_states(session: Session, ids=None):
    """user_state of every user (or of `ids`) from two queries (ledger verify)."""
    roles = _grouped(session, UserRole.user_id, UserRole.role)
    scan = ledger.scan([User.id, User.username, User.display_name, User.email, User.organisation_id, User.is_active, User.password_hash],
                       lambda r: {"username": r.username, "display_name": r.display_name, "email": r.email,
                                  "organisation_id": r.organisation_id, "is_active": r.is_active, "roles": roles.get(r.id, []),
                                  "password": ledger.sha256(r.password_hash)[:16]})
    return scan(session, ids)


# ---- organisations ------------------------------------------------------------------------------------


def _roles(values, field: str) -> list[Role]:
    out = []
    for v in values or []:
        try:
            role = Role(v)
        except ValueError:
            raise ValidationError(f"unknown role {v!r}; one of {', '.join(r.value for r in ORGANISATION_ROLES)}", field=field)
        if role is Role.PUBLIC:
            raise ValidationError("'public' is the role of anonymous visitors and cannot be granted", field=field)
        out.append(role)
    return sorted(set(out), key=lambda r: r.value)


def _sectors(values, roles: list[Role]) -> list[str]:
    sectors = sorted(set(values or []))
    for s in sectors:
        if s not in SECTORS:
            raise ValidationError(f"unknown accreditation field {s!r}; one of {', '.join(SECTORS)}", field="accredited_sectors")
    if sectors and Role.VVB not in roles:
        raise ValidationError("only validation and verification bodies hold accreditation fields", field="accredited_sectors", rule="Measures Art. 30")
    return sectors


@mutating
def create_organisation(
    session: Session,
    actor: Actor,
    *,
    uscc_code: str,
    name: str,
    roles: list[str],
    name_en: str | None = None,
    province: str | None = None,
    accredited_sectors: list[str] | None = None,
    parent_id: int | None = None,
) -> Organisation:
    """Register a legal person. One organisation per USCC (Registry Rules Art. 6)."""
    policy.require(actor, "organisation.create")
    code = uscc.validate(uscc_code)
    if not name or not name.strip():
        raise ValidationError("is required", field="name")
    role_list = _roles(roles, "roles")
    if not role_list:
        raise ValidationError("at least one role is required", field="roles")
    sectors = _sectors(accredited_sectors, role_list)
    if session.execute(select(Organisation.id).where(Organisation.uscc == code)).first():
        raise Conflict(f"an organisation with 统一社会信用代码 {code} already exists", field="uscc", rule="Registry Rules Art. 6: one account per entity")
    if parent_id is not None and session.get(Organisation, parent_id) is None:
        raise ValidationError(f"no organisation {parent_id}", field="parent_id")
    org = Organisation(
        uscc=code, name=name.strip(), name_en=name_en, province=province, parent_id=parent_id,
        status="active", created_at=clock.now(session),
    )
    org.roles = [OrganisationRole(role=r.value) for r in role_list]
    org.accreditations = [Accreditation(sector=s) for s in sectors]
    session.add(org)
    session.flush()
    ledger.record(session, actor, "organisation.created", "organisation", org.id)
    return org


def get_organisation(session: Session, org_id: int) -> Organisation:
    return fetch(session, Organisation, org_id, "organisation", "organisation_id")


def organisation_by_uscc(session: Session, code: str) -> Organisation:
    org = session.execute(select(Organisation).where(Organisation.uscc == code.strip().upper())).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation with 统一社会信用代码 {code}", field="uscc")
    return org


def apply_profile_change(session: Session, actor: Actor, org: Organisation, changes: dict) -> Organisation:
    """Change name/English name/province (Registry Rules Art. 8); used through maker–checker."""
    allowed = {"name", "name_en", "province"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"cannot be changed here; changeable: {', '.join(sorted(allowed))}", field=sorted(unknown)[0])
    if "name" in changes and not str(changes["name"] or "").strip():
        raise ValidationError("is required", field="name")
    for key, value in changes.items():
        setattr(org, key, value)
    session.flush()
    ledger.record(session, actor, "organisation.profile_changed", "organisation", org.id, {"changes": changes})
    return org


# ---- users ---------------------------------------------------------------------------------------------


def may_act_alone_on_people(actor: Actor, org: Organisation) -> bool:
    """Who adds users, grants and revokes roles and deactivates users at once, without a second person: the system
    (the operator at the CLI, the demo) and the registry for any organisation but its own (registry-reviewed; its own
    users are two-person like everyone's). Everyone else proposes and a second user confirms (ccer.auth.people),
    so that one person cannot make the second user who confirms their requests (issue 15, item 3)."""
    return policy.is_system(actor) or (Role.REGISTRY_OPERATOR.value in actor.roles and actor.organisation_id != org.id)


def _require_alone(actor: Actor, org: Organisation, action: str) -> None:
    if may_act_alone_on_people(actor, org):
        return
    if not policy.can(actor, "user.propose", org):
        policy.require(actor, action, org)
    raise Forbidden(f"{action} for one's own organisation is a request that a second user of the organisation (one "
                    "who was a user before the request) or the registry confirms; propose it instead",
                    field="actor", rule="maker–checker: people (Registry Rules: 发起代表/确认代表)")


def _record_user(session: Session, actor: Actor, action: str, user: User, data: dict | None = None, *, acts: bool = False):
    ev = ledger.record(session, actor, action, "user", user.id, data)
    if acts:
        user.acts_since = ev.id
    return ev


@mutating
def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    organisation_id: int,
    roles: list[str],
    display_name: str | None = None,
    email: str | None = None,
    pending: bool = False,
) -> User:
    """Create a person acting for an organisation, with a subset of the organisation's roles. At once by the system
    or the registry (`may_act_alone_on_people`); `pending` (ccer.auth.people.create_user) makes an inactive user
    that a confirmed request activates."""
    org = get_organisation(session, organisation_id)
    if pending:
        policy.require(actor, "user.propose", org)
    else:
        _require_alone(actor, org, "user.create")
    if not isinstance(username, str) or not USERNAME.match(username):
        raise ValidationError("must be 3-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit", field="username")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"username {username!r} is taken", field="username")
    if email is not None and "@" not in email:
        raise ValidationError("is not an e-mail address", field="email")
    role_list = _roles(roles, "roles")
    missing = [r.value for r in role_list if r.value not in org.role_names]
    if missing:
        raise ValidationError(f"organisation {org.name} does not hold role(s) {', '.join(missing)}", field="roles")
    check_policy(password, username, org.name)
    user = User(
        username=username, display_name=display_name or username, email=email,
        password_hash=hash_password(password), organisation_id=org.id, is_active=not pending,
        created_at=clock.now(session),
    )
    user.roles = [UserRole(role=r.value) for r in role_list]
    session.add(user)
    session.flush()
    _record_user(session, actor, "user.created", user, {"pending": True} if pending else None, acts=not pending)
    return user


def get_user(session: Session, user_id, field: str = "user_id") -> User:
    return fetch(session, User, user_id, "user", field)


def apply_activation(session: Session, actor: Actor, user: User) -> User:
    """A user whose creation was requested becomes one (the request is confirmed): from now on it can log in and
    confirm requests made after this moment."""
    if user.is_active:
        raise Conflict(f"user {user.username} is already active", field="user_id")
    user.is_active = True
    session.flush()
    _record_user(session, actor, "user.activated", user, acts=True)
    return user


def role_change_problem(user: User, role: str, grant: bool) -> None:
    """Refuses a role the organisation does not hold, or a grant/revocation that changes nothing."""
    (r,) = _roles([role], "role")
    if grant and r.value not in user.organisation.role_names:
        raise ValidationError(f"organisation {user.organisation.name} does not hold role {r.value}", field="role")
    if grant == (r.value in user.role_names):
        raise Conflict(f"user {user.username} {'already holds' if grant else 'does not hold'} role {r.value}", field="role")


def apply_role_change(session: Session, actor: Actor, user: User, role: str, grant: bool) -> User:
    role_change_problem(user, role, grant)
    if grant:
        user.roles.append(UserRole(role=role))
    else:
        user.roles = [r for r in user.roles if r.role != role]
    session.flush()
    _record_user(session, actor, "user.role_granted" if grant else "user.role_revoked", user, {"role": role})
    return user


def apply_deactivation(session: Session, actor: Actor, user: User) -> User:
    """The user no longer acts for the organisation: it cannot log in, and every session and token ends."""
    if not user.is_active:
        raise Conflict(f"user {user.username} is not active", field="user_id")
    user.is_active = False
    revoke_everything_of(session, user.id)
    session.flush()
    _record_user(session, actor, "user.deactivated", user)
    return user


@mutating
def change_password(session: Session, actor: Actor, user_id: int, current: str, new: str) -> User:
    """A user changes its own password, knowing the current one; every web session and bearer token of the user ends
    (issue 15, item 5), so whoever had learnt the old password is logged out too."""
    user = get_user(session, user_id)
    if actor.user_id != user.id and not policy.is_system(actor):
        raise Forbidden("users change only their own password", field="actor")
    if actor.user_id == user.id and not check_password(user.password_hash, current or ""):
        raise Unauthorized("the current password is wrong", field="current_password")
    check_policy(new, user.username, user.organisation.name, field="new_password")
    if check_password(user.password_hash, new):
        raise ValidationError("must differ from the current password", field="new_password", rule="password policy: a new password")
    user.password_hash = hash_password(new)
    revoke_everything_of(session, user.id)
    session.flush()
    _record_user(session, actor, "user.password_changed", user)
    return user


def actor_for(user: User) -> Actor:
    return Actor(label=user.username, user_id=user.id, organisation_id=user.organisation_id, roles=frozenset(user.role_names))


def authenticate(session: Session, username: str, password: str) -> User:
    """The user with this username and password. An unknown username is checked against a dummy hash at the cost of a
    real one, so the answer takes as long either way and does not tell who has an account (issue 15, item 5)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none() if isinstance(username, str) else None
    matches = check_password(user.password_hash, password) if user is not None else check_nobody(password)
    if user is None or not matches or not user.is_active:
        raise Unauthorized("unknown username or wrong password", field="password")
    if user.organisation.status == "closed":
        raise Unauthorized("the organisation's account is closed (Registry Rules Art. 11)", field="username")
    return user


# ---- tokens --------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@mutating
def issue_token(session: Session, user: User, name: str = "api") -> str:
    """A new bearer token; the clear text is returned once and never stored."""
    token = "ccer_" + secrets.token_urlsafe(32)
    now = clock.now(session)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), name=name, created_at=now, expires_at=now + TOKEN_LIFETIME))
    session.flush()
    ledger.record(session, actor_for(user), "token.issued", "user", user.id, {"token_name": name})
    return token


def user_for_token(session: Session, token: str) -> User:
    row = session.execute(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).scalar_one_or_none()
    now = clock.now(session)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("bearer token unknown, revoked or expired", field="Authorization")
    if not row.user.is_active:
        raise Unauthorized("user is deactivated", field="Authorization")
    return row.user


@mutating
def revoke_token(session: Session, actor: Actor, token: str) -> None:
    row = session.execute(select(ApiToken).where(ApiToken.token_sha256 == _digest(token))).scalar_one_or_none()
    if row is None:
        raise NotFound("no such token", field="token")
    row.revoked_at = clock.now(session)
    ledger.record(session, actor, "token.revoked", "user", row.user_id, {"token_name": row.name})


def wire() -> None:
    """This module's event subjects, policy rules and hooks; the package's wire() calls it once (ccer.load_models)."""
    ledger.register_subject("organisation", organisation_state, lambda s: s.execute(select(Organisation.id)).scalars(),
                            snapshot_all=organisation_states)
    ledger.register_subject("user", user_state, lambda s: s.execute(select(User.id)).scalars(), snapshot_all=user_states)
