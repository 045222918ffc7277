"""What every response and every state-changing request of the app goes through (issue 15, item 5): CSRF, rate
limits, security headers and cookie flags. `init_security(app)` is called once by create_app.

CSRF. A browser attaches the session cookie to any request, a cross-origin one included, so a request that the
cookie authenticates and that changes state must prove it comes from our own pages:
- a page's form (every POST outside /api/, the login and the language switch included) carries the hidden field
  `csrf`, equal to the token derived from the cookie's id (ccer.auth.sessions.csrf_token);
- an API call made with the cookie carries the same token in the `X-CSRF-Token` header, which a cross-origin form
  cannot set (and a cross-origin script cannot set without a CORS preflight that this app never grants).
The API keeps accepting the cookie, rather than bearer tokens only, so that the pages' own scripts can call it as
the logged-in user; bearer-token calls need no CSRF token, since browsers never attach those by themselves. Both
kinds are also refused when an Origin (or, without one, a Referer) header names another site. Refusal: 403 naming
the field and the rule "CSRF".
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, render_template, request
from flask import session as web_session
from flask_limiter.errors import RateLimitExceeded

from ..auth.sessions import csrf_matches, csrf_token, new_id
from ..infra.errors import DomainError, Forbidden
from ..requests import SID, limiter, session_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: scripts and styles from our own origin only: no inline script, no eval, no CDN. Inline *style* attributes are
#: let through (templates use a few; CSS cannot run script). blob: workers and images are the map's (maplibre-gl).
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class CsrfRefused(Forbidden):
    code = "csrf_failed"


def page_csrf_token() -> str:
    """The token for the forms of this page, giving an anonymous visitor an id first (kept in the cookie)."""
    sid = web_session.get(SID)
    if not isinstance(sid, str):
        sid = web_session[SID] = new_id()
    return csrf_token(current_app.secret_key, sid)


def _origin_ok() -> bool:
    """No Origin (nor Referer) header, or one naming this site: its host as requested, or CCER_PUBLIC_URL's. An
    Origin of "null" (a sandboxed frame, a redirect from elsewhere) names no site and is refused."""
    origin = request.headers.get("Origin")
    claimed = origin if origin is not None else request.headers.get("Referer")
    if not claimed:
        return True
    netloc = urlsplit(claimed).netloc
    public = urlsplit(current_app.config["CCER_SETTINGS"].public_url).netloc
    return netloc in (request.host, public)


def check_csrf() -> None:
    """Before every request (see the module's docstring)."""
    if request.method in SAFE_METHODS:
        return
    api = request.path.startswith("/api/")
    if api and (request.headers.get("Authorization") or session_user() is None):
        return  # a bearer token, or no one's authority at stake: nothing a forged request could borrow
    if not _origin_ok():
        raise CsrfRefused(f"the request comes from another site ({request.headers.get('Origin') or request.headers.get('Referer')})",
                          field="Origin", rule="CSRF: same origin")
    field = "X-CSRF-Token" if api else "csrf"
    given = request.headers.get("X-CSRF-Token") if api else request.form.get("csrf")
    if not csrf_matches(current_app.secret_key, web_session.get(SID), given):
        message = ("a call made with the session cookie needs the page's CSRF token in the X-CSRF-Token header "
                   "(or use a bearer token)") if api else "the form has expired or did not come from this site; reload the page"
        raise CsrfRefused(message, field=field, rule="CSRF")


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["CCER_SETTINGS"].web.secure_cookies:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def too_many_requests(error: RateLimitExceeded):
    """429 in the one error format, naming the rule that was exceeded."""
    err = DomainError(f"{error.description}: at most {error.limit.limit}; try again later", field=None,
                      rule=f"rate limit: {error.limit.scope or 'request'} {error.limit.limit}")
    err.status, err.code = 429, "too_many_requests"
    if request.path.startswith("/api/"):
        return jsonify(err.to_dict()), 429
    return render_template("error.html", error=err), 429


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        return False
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.3):
            return True
    except OSError:
        return False


def storage_uri(web) -> str:
    """Redis at CCER_REDIS_URL when it answers (counters shared by every worker process), else in memory (per
    process: still a limit, only a looser one), said in the log."""
    if web.redis_url.startswith("memory://"):
        return "memory://"
    if _redis_reachable(web.redis_url):
        return web.redis_url
    logging.getLogger(__name__).warning("rate limits kept in memory: Redis at %s does not answer", web.redis_url)
    return "memory://"


def init_security(app: Flask) -> None:
    web = app.config["CCER_SETTINGS"].web
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        RATELIMIT_ENABLED=web.rate_limits,
        RATELIMIT_STORAGE_URI=storage_uri(web) if web.rate_limits else "memory://",
        RATELIMIT_HEADERS_ENABLED=False,
        # Redis going away later must not turn logins into 5xx: count in memory meanwhile
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "ccer")
    limiter.init_app(app)
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.jinja_env.globals["csrf_token"] = page_csrf_token
