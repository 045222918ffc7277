"""What every workspace form does with a refused service call: the DomainError goes next to its field, what was
typed stays in the form, and nothing is saved (each service is one transaction, rolled back when it raises)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request

from ..infra.errors import DomainError, Forbidden, NotFound, Unauthorized
from ..requests import db_session
from . import errors as refusals


class Errors(dict):
    """field -> message; `general` collects what names no field of the form shown."""

    def put(self, err: DomainError, fields: set[str] | None = None) -> None:
        field = err.field or ""
        # the create service names the crediting dates facts.*; the form (and the methodology) calls them project.*
        if field.startswith("facts."):
            field = "project." + field[len("facts."):]
        text = refusals.text(err)  # in the page's language (workspace/errors.py)
        if fields is not None and field not in fields:
            self.setdefault("general", []).append(f"{field}: {text}" if field else text)
        else:
            self[field] = text


def attempt(call: Callable[[], Any], errors: Errors, fields: set[str] | None = None) -> Any:
    """Run one service call; a DomainError lands in `errors` (refusals of access are not form errors: they propagate)."""
    try:
        return call()
    except NotFound as err:
        if fields is None or err.field not in fields:  # a record of the URL: the 404 page
            raise
        errors.put(err, fields)  # a reference typed into the form (an account number): beside its field
        return None
    except (Forbidden, Unauthorized):
        raise
    except DomainError as err:
        errors.put(err, fields)
        return None


def flash_outcome(call: Callable[[], Any], done: Callable[[Any], str], refused: Callable[[DomainError], str] = str) -> None:
    """A one-button decision on a page of lists (accept, open, publish…): done → `done(result)` flashed; refused →
    `refused(err)` flashed, on the same redirect (refusals of access are not form errors: they propagate)."""
    try:
        result = call()
    except DomainError as err:
        if err.status in (401, 403, 404):
            raise
        flash(refused(err))
    else:
        flash(done(result))


def evidence_of(name: str = "evidence") -> tuple[str, bytes] | None:
    """An uploaded evidence file as (file name, bytes), for the answering service to store (validation/evidence.py)."""
    f = request.files.get(name)
    if f is None or not f.filename:
        return None
    return f.filename, f.read()


def finish(record, errors: Errors, page: Callable[[Errors], Any], done: str, url: str):
    """After a POST: refused → the same page again (422) with the errors beside their fields and what was typed (the
    record re-read: the service rolled back); done → the message and a redirect to `url` (no re-POST on reload)."""
    if errors:
        db_session().refresh(record)
        return page(errors)
    flash(done)
    return redirect(url)
