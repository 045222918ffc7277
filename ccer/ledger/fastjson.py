"""Canonical JSON (docs/ledger-format.md §2) checked and written at the speed verification needs.

`codec.dumps` defines the canonical text (Python's `json`, sorted keys, no spaces, characters as themselves).
Verifying half a million events with it spends most of its time in the stdlib parser and encoder; msgspec does
the same work in C, about ten times faster. It is used only where it provably gives the stdlib's answer:

- its decoder keeps integers exact at any size and is told to refuse floats (`float_hook`): Python writes a
  float as its `repr`, msgspec differently, so any text with a float goes to the stdlib;
- for float-free values its sorted-key encoder equals `codec.dumps` byte for byte — keys by code point, every
  character escaped as Python escapes it (tests/test_ledger_fastjson.py checks every code point and random
  values);
- so `encode(decode(t)) == t` proves t canonical by the stdlib's rule too; any other outcome (not canonical,
  not parseable, a float) is decided by the stdlib itself, so its verdict and messages are the stdlib's.

Without msgspec installed everything goes through the stdlib (slower, same answers)."""
from __future__ import annotations

from typing import Any

from .codec import dumps, loads

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; the stdlib gives the same answers
    msgspec = None


def _no_float(_text: str) -> float:
    raise ValueError("a float: decided by the stdlib")


if msgspec is not None:
    _decode = msgspec.json.Decoder(float_hook=_no_float).decode
    #: canonical bytes of a float-free JSON value (dict keys all strings)
    encode = msgspec.json.Encoder(order="sorted").encode
    #: a lone surrogate (possible in a Python str, never in UTF-8 storage) cannot be encoded: the stdlib decides
    _FAILED: tuple = (msgspec.ValidationError, msgspec.DecodeError, UnicodeEncodeError)
else:  # pragma: no cover
    def encode(value: Any) -> bytes:
        return dumps(value).encode("utf-8")


def _stdlib(text: str) -> tuple[Any, bool, bool]:
    try:
        value = loads(text)
        return value, dumps(value) == text, False
    except (ValueError, RecursionError):  # not JSON, NaN or an infinity, nested beyond the parser's depth
        return None, False, False


def parse(text: str) -> tuple[Any, bool, bool]:
    """(value, canonical, exact) of stored JSON text: whether `text` is exactly the canonical text of its own
    parse, and whether `encode` writes this value's parts canonically (True: no floats in it)."""
    if msgspec is None:  # pragma: no cover
        return _stdlib(text)
    try:
        value = _decode(text)
        if encode(value) == text.encode("utf-8"):
            return value, True, True
    except (*_FAILED, RecursionError):
        pass
    return _stdlib(text)
