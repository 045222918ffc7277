"""What a web request carries: its database session and the actor behind it. The API resources, the pages
and the app factory (which closes the session when the request's app context ends) all use these, so they
live here rather than in the app factory or the API package that import those resources and pages."""
from __future__ import annotations

from flask import current_app, g, request
from flask import session as web_session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.orm import Session

from .infra.actor import Actor
from .auth import policy, sessions
from .auth.services import actor_for, user_for_token
from .infra.errors import TooLarge, ValidationError

#: the cookie's one key: the web session's id after a login, an anonymous visitor's id before (for the CSRF token)
SID = "sid"

#: rate limits (Flask-Limiter), set up per app by ccer.web.security.init_security from the settings (ccer.infra.config.Web)
limiter = Limiter(key_func=get_remote_address)


def _settings():
    return current_app.config["CCER_SETTINGS"].web


#: logins on the pages and bearer-token creation share one budget per client address (CCER_RATE_LOGIN)
limit_logins = limiter.shared_limit(lambda: _settings().rate_login, scope="login", methods=["POST"],
                                    error_message="too many login attempts from this address (CCER_RATE_LOGIN)")
#: public comments per client address (CCER_RATE_COMMENT)
limit_comments = limiter.shared_limit(lambda: _settings().rate_comment, scope="comment", methods=["POST"],
                                      error_message="too many comments from this address (CCER_RATE_COMMENT)")


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
        user = session_user()
        if user is not None:
            actor = actor_for(user)
    g.actor = actor
    return actor


def session_user():
    """The user of the request's web session when the session is live (not revoked, idle or past its end), else
    None. A live session's last use is written at most once a minute (sessions.TOUCH_EVERY)."""
    if "session_user" in g:
        return g.session_user
    user = None
    sid = web_session.get(SID)
    if isinstance(sid, str) and len(sid) < 100:
        session = db_session()
        found = sessions.live_user(session, sid, _settings())
        if found is not None:
            user, row = found
            if sessions.needs_touch(session, row):
                sessions.touch(session, row.id)
    g.session_user = user
    return user


def refuse_oversized() -> None:
    """Bounded work (issue 15), before every request: a body longer than the app's MAX_CONTENT_LENGTH
    (CCER_MAX_REQUEST_BYTES) is refused 413 from its Content-Length, before it is read, parsed or anyone is
    authenticated. A body sent without a length is cut off by Flask at the same limit as it is read."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and length is not None and length > limit:
        raise TooLarge(f"the request body is {length:,} bytes; the limit is {limit:,}", field="body",
                       rule="request size (CCER_MAX_REQUEST_BYTES)")
