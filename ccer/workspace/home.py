"""GET /workspace/ — the home of a logged-in user: one panel per role held."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from ..infra import clock
from ..requests import current_actor, db_session
from .blueprint import bp
from .panels import panels_for


def login_required():
    """Workspace pages are for logged-in users; anonymous visitors go to the login page and come back."""
    actor = current_actor()
    if actor.user_id is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


bp.before_request(login_required)


@bp.get("/")
def index():
    session = db_session()
    actor = current_actor()
    today = clock.now(session).date()
    return render_template("workspace/home.html", panels=panels_for(session, actor), today=today)
