"""Web pages: session login for people. The role workspaces and the public explorer grow here.

A login opens a web session held on the server (ccer.auth.sessions): the signed cookie carries only its id, so
logout, a password change or the session's expiry end it for good. CSRF, rate limits and security headers:
ccer.web.security."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from .. import ledger
from ..auth import services, sessions
from ..infra.errors import DomainError, Unauthorized
from ..requests import SID, current_actor, db_session, limit_logins
from .security import page_csrf_token

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _inject():
    return {"csrf_token": page_csrf_token, "actor": current_actor()}


@bp.get("/")
def home():
    seq, head = ledger.head(db_session())
    return render_template("home.html", seq=seq, head=head)


def _same_site(target: str | None) -> str | None:
    """A `next` path on this site only (no scheme, no host, no //host): anything else is an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    return target


def _start_session(user) -> None:
    """A new cookie id at every login (no session fixation); only the visitor's language choice is kept."""
    lang = session.get("lang")
    session.clear()
    session[SID] = sessions.open_session(db_session(), user, current_app.config["CCER_SETTINGS"].web)
    if lang:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
@limit_logins
def login():
    error = None
    if request.method == "POST":
        try:
            user = services.authenticate(db_session(), request.form.get("username", ""), request.form.get("password", ""))
        except Unauthorized as exc:
            error = exc.message
        else:
            _start_session(user)
            return redirect(_same_site(request.args.get("next")) or url_for("workspace.index"))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    sid = session.get(SID)
    if isinstance(sid, str):
        sessions.revoke(db_session(), sid)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.home"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change one's password: the policy applies, and every session and token of the user ends — this one too, so
    the user logs in again with the new password."""
    actor = current_actor()
    if actor.user_id is None:
        return redirect(url_for("web.login", next=url_for("web.password")))
    error = None
    if request.method == "POST":
        try:
            services.change_password(db_session(), actor, actor.user_id, request.form.get("current_password", ""),
                                     request.form.get("new_password", ""))
        except DomainError as exc:
            error = exc
        else:
            session.pop(SID, None)
            return redirect(url_for("web.login"))
    return render_template("auth/password.html", error=error), (error.status if error else 200)
