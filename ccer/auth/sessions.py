"""Web sessions held on the server (issue 15, item 5): a login opens one, the signed cookie carries only its random
id, each request finds it again by the id's SHA-256, and it ends at logout, at a password change, after an idle
time and after an absolute lifetime — both read on the platform clock (ccer.infra.clock), so a moved clock
expires sessions as it expires everything else.

The CSRF token of a page or an API call made with the cookie is derived from the same id (an HMAC under the app's
secret), so there is nothing more to store and a token is worth nothing with another cookie."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..infra import clock
from ..infra.config import Web
from ..infra.db import mutating
from .models import ApiToken, User, WebSession

#: the session is touched (last_seen_at written) at most this often, not on every request
TOUCH_EVERY = timedelta(minutes=1)


def new_id() -> str:
    return secrets.token_urlsafe(32)


def digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def csrf_token(secret_key: str, sid: str) -> str:
    """The CSRF token bound to a cookie's id (a session's, or an anonymous visitor's before the login)."""
    return hmac.new(secret_key.encode(), b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret_key: str, sid: str | None, token: str | None) -> bool:
    return bool(sid and token) and hmac.compare_digest(csrf_token(secret_key, sid), str(token))


@mutating
def open_session(session: Session, user: User, web: Web) -> str:
    """Open a session for a user who just logged in; returns the new id (for the cookie, never stored)."""
    sid = new_id()
    now = clock.now(session)
    session.add(WebSession(sid_sha256=digest(sid), user_id=user.id, created_at=now, last_seen_at=now,
                           expires_at=now + timedelta(hours=web.session_hours)))
    return sid


def live_user(session: Session, sid: str, web: Web) -> tuple[User, WebSession] | None:
    """The user of a live session, or None when the id is unknown, revoked, idle too long, past its absolute end,
    or its user deactivated."""
    row = session.execute(select(WebSession).where(WebSession.sid_sha256 == digest(sid))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = clock.now(session)
    if now >= row.expires_at or now >= row.last_seen_at + timedelta(minutes=web.session_idle_minutes):
        return None
    if not row.user.is_active:
        return None
    return row.user, row


def needs_touch(session: Session, row: WebSession) -> bool:
    return clock.now(session) - row.last_seen_at >= TOUCH_EVERY


@mutating
def touch(session: Session, session_id: int) -> None:
    """Record that a session was used now (the idle time runs from here)."""
    session.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=clock.now(session)))


@mutating
def revoke(session: Session, sid: str) -> None:
    """Logout: the session's cookie is worth nothing from now on."""
    session.execute(update(WebSession).where(WebSession.sid_sha256 == digest(sid), WebSession.revoked_at.is_(None))
                    .values(revoked_at=clock.now(session)))


def revoke_everything_of(session: Session, user_id: int) -> int:
    """Every web session and bearer token of a user (password change, deactivation), in the caller's transaction.
    Returns how many were live."""
    now = clock.now(session)
    n = session.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount
    n += session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                         .values(revoked_at=now)).rowcount
    return n
