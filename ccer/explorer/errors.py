"""Error pages for people: a path that does not exist, a method a page does not take, a bad request — a page
in the visitor's language, not the API's JSON (which stays the answer under /api/)."""
from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

#: the HTTP errors a page answers with the error page (the others keep Flask's and the API's handlers)
PAGE_ERRORS = (400, 403, 404, 405)


def _page_error(error: HTTPException):
    if request.path.startswith("/api/"):
        api = current_app.extensions.get("ccer.api")
        if api is not None:
            return api.handle_http_exception(error)
        return error
    return render_template("error.html", error=error, status=error.code), error.code


def init_app(app) -> None:
    # registered by code: Flask looks a code's handlers up before the HTTPException handler the API installs
    for code in PAGE_ERRORS:
        app.register_error_handler(code, _page_error)
