"""Web pages: session login for people. The role workspaces and the public explorer grow here."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from . import ledger
from .auth import services
from .infra.errors import Unauthorized
from .requests import current_actor, db_session

bp = Blueprint("web", __name__)


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@bp.app_context_processor
def _inject():
    return {"csrf_token": _csrf_token, "actor": current_actor()}


@bp.before_app_request
def _check_csrf():
    if request.method == "POST" and not request.path.startswith("/api/"):
        if request.form.get("csrf") != session.get("csrf"):
            abort(400, "form expired; reload the page")


@bp.get("/")
def home():
    seq, head = ledger.head(db_session())
    return render_template("home.html", seq=seq, head=head)


def _same_site(target: str | None) -> str | None:
    """A `next` path on this site only (no scheme, no host, no //host): anything else is an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = services.authenticate(db_session(), request.form.get("username", ""), request.form.get("password", ""))
        except Unauthorized as exc:
            error = exc.message
        else:
            session.clear()
            session["user_id"] = user.id
            return redirect(_same_site(request.args.get("next")) or url_for("workspace.index"))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("web.home"))
