"""The public format of the ledger: canonical JSON and the event hash (docs/ledger-format.md).

This is the one place the bytes an event is hashed over are defined. Every path, on every database,
stores payloads as `canonical(...)` and chains events with `event_hash(...)`; the golden vectors
(tests/data/ledger_golden.json) pin both byte for byte, so the format cannot drift unnoticed.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

#: the prev_hash of the first event
GENESIS = "0" * 64

_SCALARS = (str, int, bool, float, type(None))


def plain(obj: Any) -> Any:
    """JSON-able form: Decimals as strings, datetimes as ISO 8601 in UTC, dates as YYYY-MM-DD."""
    if type(obj) in _SCALARS:  # most values; checkpoints plain every state of the registry
        return obj
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.astimezone(timezone.utc).isoformat()
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def dumps(plain_obj: Any) -> str:
    """Canonical JSON of an already plain value: keys sorted, no spaces, non-ASCII characters as themselves; NaN
    and the infinities are not JSON and are never written (docs/ledger-format.md §2.5)."""
    return json.dumps(plain_obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


#: JSON text as Python values, refusing NaN and the infinities (Python's json would read them)
loads = json.JSONDecoder(parse_constant=_not_json).decode


def canonical(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, Decimals and dates as strings."""
    return dumps(plain(obj))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event_content(seq: int, occurred_at: datetime, actor_user_id: int | None, actor: str, subject_type: str,
                  subject_id: str, action: str, payload_json: str, prev_hash: str) -> dict:
    """What an event's hash covers. The payload is included as its stored canonical text (a string), so a
    verifier hashes exactly the bytes it read."""
    return {"seq": seq, "occurred_at": plain(occurred_at), "actor_user_id": actor_user_id, "actor": actor,
            "subject_type": subject_type, "subject_id": subject_id, "action": action, "payload": payload_json,
            "prev_hash": prev_hash}


def event_hash(*args, **kwargs) -> str:
    """SHA-256 (hex) of the canonical JSON of `event_content(...)`."""
    return sha256(dumps(event_content(*args, **kwargs)))


def is_canonical(payload_json: str) -> bool:
    """Whether stored payload text is exactly its own canonical form (a verifier refuses anything else)."""
    try:
        return canonical(loads(payload_json)) == payload_json
    except (ValueError, RecursionError):  # not JSON, NaN, or nested beyond the parser's depth
        return False
