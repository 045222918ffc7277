"""What a web request carries: its database session and the actor behind it. The API resources, the pages
and the app factory (which closes the session when the request's app context ends) all use these, so they
live here rather than in the app factory or the API package that import those resources and pages."""
from __future__ import annotations

from flask import current_app, g, request
from flask import session as web_session
from sqlalchemy.orm import Session

from .infra.actor import Actor
from .auth import policy
from .auth.models import User
from .auth.services import actor_for, user_for_token
from .infra.errors import TooLarge, ValidationError


def db_session() -> Session:
    """The request's session (one per app context)."""
    if "db" not in g:
        g.db = current_app.extensions["ccer.sessions"]()
    return g.db


def close_session(_exc: BaseException | None = None) -> None:
    """End of an app context: close the request's session, if it opened one."""
    session = g.pop("db", None)
    if session is not None:
        session.close()


def current_actor() -> Actor:
    """The acting user: bearer token, else the web session, else anonymous."""
    if "actor" in g:
        return g.actor
    session = db_session()
    header = request.headers.get("Authorization", "")
    actor = policy.anonymous()
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ValidationError("expected 'Bearer <token>'", field="Authorization")
        actor = actor_for(user_for_token(session, token.strip()))
    else:
        uid = web_session.get("user_id")
        if uid:
            user = session.get(User, uid)
            if user is not None and user.is_active:
                actor = actor_for(user)
    g.actor = actor
    return actor


def refuse_oversized() -> None:
    """Bounded work (issue 15), before every request: a body longer than the app's MAX_CONTENT_LENGTH
    (CCER_MAX_REQUEST_BYTES) is refused 413 from its Content-Length, before it is read, parsed or anyone is
    authenticated. A body sent without a length is cut off by Flask at the same limit as it is read."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        raise TooLarge(f"the request body is {length:,} bytes; the limit is {limit:,}", field="body",
                       rule="request size (CCER_MAX_REQUEST_BYTES)")
