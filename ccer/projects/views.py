"""The public's comment on a project in publicity (Measures Art. 12): the form's POST. The project's page itself
is the explorer's (ccer/explorer/pages.py), which shows the form and, on a mistake, the message next to it."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from ..infra.errors import DomainError
from ..requests import current_actor, db_session, limit_comments
from . import comments

bp = Blueprint("projects_pages", __name__, url_prefix="/projects")


@bp.post("/<int:project_id>", endpoint="comment")
@limit_comments  # CCER_RATE_COMMENT per client address (issue 15)
def comment(project_id: int):
    from ..explorer.pages import project_page  # the page the form belongs to

    session = db_session()
    form = {"author_name": request.form.get("author_name", ""), "body": request.form.get("body", "")}
    try:
        comments.submit(session, current_actor(), "project", project_id, form["author_name"], form["body"])
    except DomainError as err:
        session.rollback()
        if err.status == 404:
            raise
        return project_page(project_id, error=str(err), error_field=err.field, form=form, status=422)
    return redirect(url_for("explorer.project", project_id=project_id, sent=1))
