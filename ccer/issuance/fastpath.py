"""Transfers and retirements in one round trip per half on PostgreSQL.

Why: through the ORM a maker–checker transfer costs two transactions of some fifteen statements each and
~10 ms of Python; the registry must keep up with the exchange (bench/registry_tps.py). The functions in
migrations/sql/registry_fastpath_3.sql do each half — proposal, and confirmation with the account locks and
block cutting — in one statement, with its event (chained as ccer/events.py explains). Calls that threads
of one process make at the same moment share one transaction and one round trip, and their events are
appended together at the end (ccer/issuance/groupcommit.py, each call in a subtransaction of its own); a
call made alone is a transaction of its own.

They *decline* (SQLSTATE CC001, or a data error from a cast; nothing is written) whenever anything is
wrong or out of the ordinary: a serial range, the 5 % cap, a misspelt account, a block that changed. The
caller then runs the general path, which refuses with its reason or does the work. So the fast path never
accepts what the general path refuses, and the general path stays the one place where rules are explained.
The property and concurrency tests run on PostgreSQL through this path and on SQLite through the general
one, against the same model; test_registry_fastpath compares the two directly.

Used only for a top-level call whose session has written nothing: inside a caller's transaction a decline
would abort the caller's work, and the caller's writes would not be atomic with the operation.
"""
from __future__ import annotations

import threading
import weakref
from datetime import date, datetime, timezone
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached

from .. import events
from ..auth import makerchecker, policy
from ..config import TIME_ZONE
from ..db import RETRIES, RETRYABLE, after_commit, only_read
from ..events import Actor
from .accounts import parse_account_ref
from .groupcommit import GroupCommit
from .models import Retirement, Transfer

#: tests switch it off to run the general path on PostgreSQL too
ENABLED = True
UNDEFINED_FUNCTION = "42883"
KINDS = ("registry.transfer", "registry.retire")
#: engines whose database has no fast-path functions (migrated before them)
_missing: weakref.WeakSet[Engine] = weakref.WeakSet()
_groups: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def _applies(session: Session) -> bool:
    """On PostgreSQL, outside any service, with nothing the session wrote that would have to be part of
    the same transaction (a transaction that only read — the API's login lookup — is simply ended)."""
    bind = session.get_bind()
    if not (ENABLED and bind.dialect.name == "postgresql" and session.info.get("service_depth", 0) == 0
            and bind not in _missing and only_read(session)):
        return False
    if session.in_transaction():
        session.commit()
    return True


def _group(engine: Engine) -> GroupCommit:
    """The engine's group-commit queue (ccer/issuance/groupcommit.py): calls that threads make at the same
    moment share one transaction and one round trip."""
    with _groups_lock:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = GroupCommit(engine)
            event.listen(engine, "engine_disposed", _disposed)
        return group


def _disposed(engine: Engine) -> None:
    """The engine's pool was closed: close the group's connections with it."""
    with _groups_lock:
        group = _groups.pop(engine, None)
    if group is not None:
        group.close()


def _call(session: Session, fn: str, args: dict) -> dict | None:
    """Run one fast-path function ("propose" or "confirm") in a transaction of its own or shared with other
    threads' calls; None when it declined."""
    engine = session.get_bind()
    for _ in range(RETRIES + 1):
        outcome = _outcome(_group(engine).run(fn, args))
        if outcome is None:  # migrated before the fast path: the general path it is
            _missing.add(engine)
            return None
        if "retry" not in outcome:
            break
    else:
        raise psycopg.errors.lookup(outcome["retry"])(RETRYABLE[outcome["retry"]])
    if "declined" in outcome:
        return None
    if "error" in outcome:
        raise psycopg.errors.lookup(outcome["error"][0])(outcome["error"][1])
    result = outcome["ok"]
    session.expire_all()  # what this session remembers may predate the change
    sealed = result["sealed"]  # [head before, head after] when its group sealed (given to one call of the group), else None
    if sealed and events.passed_checkpoint(*sealed):
        session.info["checkpoint_due"] = True
        after_commit(session)
    return result


def _outcome(call) -> dict | None:
    """The call's outcome (see registry_fastpath_3.sql), a failure of its whole group read as one too;
    None when the database has no fast-path functions."""
    if call.error is None:
        return call.outcome
    state = getattr(call.error, "sqlstate", None) or ""
    if state == UNDEFINED_FUNCTION:
        return None
    if state in RETRYABLE:
        return {"retry": state}
    raise call.error


#: per model, (attribute, column, converter) — computed once
_CONVERTERS: dict[Any, list] = {}


def _converters(model) -> list[tuple[str, str, Any]]:
    """(attribute, column, str -> value or None) for each column of a model: JSON gives dates as text."""
    if model not in _CONVERTERS:
        configure_mappers()  # building instances by hand needs the mappers set up, as a constructor call would
        out = []
        for column in model.__table__.columns:
            kind = getattr(column.type, "impl", column.type).python_type  # through UTCDateTime to DateTime
            convert = (lambda v: datetime.fromisoformat(v).astimezone(timezone.utc)) if kind is datetime else (
                date.fromisoformat if kind is date else None)
            out.append((column.key, column.name, convert))
        _CONVERTERS[model] = out
    return _CONVERTERS[model]


def _detached(model, row: dict):
    """The ORM object for a row the function returned, without a query (detached: its columns are loaded)."""
    obj = model.__mapper__.class_manager.new_instance()
    for key, name, convert in _converters(model):
        value = row.get(name)
        obj.__dict__[key] = convert(value) if convert is not None and value is not None else value
    make_transient_to_detached(obj)
    return obj


def propose(session: Session, actor: Actor, kind: str, account_ref: int | str, payload: dict) -> Any | None:
    """The maker's half of a transfer or retirement whose payload the general path would store as is;
    None when the general path must do it."""
    if not _applies(session) or kind not in KINDS or actor.user_id is None or actor.organisation_id is None:
        return None
    if not policy.can(actor, makerchecker.OPERATIONS[kind].permission, policy.OrganisationRef(actor.organisation_id)):
        return None
    sender = parse_account_ref(account_ref)
    recipient = parse_account_ref(payload.get("to_account", "")) if kind == "registry.transfer" else (None, None)
    if sender is None or recipient is None:
        return None
    row = _call(session, "propose",
                {"kind": kind, "sender": sender[0], "sender_no": sender[1], "recipient": recipient[0], "recipient_no": recipient[1],
                 "payload": events.canonical(payload), "org": actor.organisation_id, "user": actor.user_id,
                 "actor": actor.label})
    return None if row is None else _detached(makerchecker.ApprovalRequest, row["request"])


def confirm(session: Session, confirmer: Actor, request_id: int) -> Any | None:
    """The checker's half of a pending transfer or retirement: the Transfer or Retirement, or None when
    the general path must do it."""
    if not _applies(session) or confirmer.user_id is None or confirmer.organisation_id is None or not isinstance(request_id, int):
        return None
    own = policy.OrganisationRef(confirmer.organisation_id)
    allowed = [k for k in KINDS if policy.can(confirmer, makerchecker.OPERATIONS[k].permission, own)]
    if not allowed:
        return None
    row = _call(session, "confirm",
                {"request": request_id, "user": confirmer.user_id, "actor": confirmer.label, "org": confirmer.organisation_id,
                 "allowed": allowed, "tz": TIME_ZONE})
    if row is None:
        return None
    return _detached(Transfer, row["transfer"]) if "transfer" in row else _detached(Retirement, row["retirement"])


makerchecker.fast_confirm(confirm)

__all__ = ["propose", "confirm", "ENABLED"]
