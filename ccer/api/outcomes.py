"""What a confirmed maker–checker request produced, as the API reports it next to the request (issue 17: a
confirmed retirement answers its retirement number, so the caller need not look for it)."""
from __future__ import annotations

from typing import Any


def outcome(result: Any) -> dict | None:
    """{kind, id, number?, certificate_url?} of what the confirmation made, a list of them, or None."""
    if result is None:
        return None
    if isinstance(result, (list, tuple)):
        items = [outcome(r) for r in result]
        return {"kind": "list", "items": [i for i in items if i]}
    kind = type(result).__name__.lower()
    out: dict = {"kind": kind, "id": getattr(result, "id", None)}
    number = getattr(result, "number", None)
    if isinstance(number, str):
        out["number"] = number
    if kind == "retirement" and isinstance(number, str):
        out["certificate_url"] = f"/api/v1/retirements/{number}/certificate.pdf"
    return out


def retirement_number(result: Any) -> str | None:
    """The retirement number (注销编号) when the confirmation retired CCERs."""
    if isinstance(result, (list, tuple)):
        numbers = [retirement_number(r) for r in result]
        return next((n for n in numbers if n), None)
    if type(result).__name__.lower() == "retirement":
        return getattr(result, "number", None)
    return None
