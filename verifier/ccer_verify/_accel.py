"""The optional accelerator (`pip install ccer-verify[fast]`): canonical JSON (docs/ledger-format.md §2) checked with
msgspec instead of the standard library's `json`, about ten times faster. Importing this module fails without msgspec;
the verifier then uses the standard library alone and gives the same answers.

Why a "yes" from here is the standard library's "yes" (soundness):

- msgspec decodes integers exactly, however large (§2.4), and strings to the same `str` as `json.loads`;
- `ENCODE` (sorted keys, no spaces, characters as themselves but the escapes of §2.3) writes every float-free JSON
  value byte for byte as `json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))` does — the
  escapes checked for every code point, and the whole by a property test (tests/test_verifier.py);
- floats never get that far: msgspec formats them unlike Python's `repr`, which §2.5 prescribes, so `DECODE`
  refuses any (`float_hook`) and the text goes to the standard library.

So when `ENCODE(DECODE(b)) == b`, b is the canonical text of a float-free value v, the standard library parses b
to that same v and writes v back as b: its verdict is "canonical" too, with the same value. Any other outcome
(msgspec says not canonical, or cannot decode) is never taken as the verdict: the caller asks the standard library,
so a bad line gets exactly the standard library's verdict and message.
"""
from __future__ import annotations

from typing import Optional

import msgspec


def _no_floats(text: str):
    raise ValueError("a float: the standard library decides (§2.5)")


#: bytes → value, any float refused
DECODE = msgspec.json.Decoder(float_hook=_no_floats).decode
#: value → canonical bytes (for float-free values; see above)
ENCODE = msgspec.json.Encoder(order="sorted").encode
#: what DECODE raises for text it does not take (nesting deeper than it goes: the standard library decides too)
ERRORS = (msgspec.DecodeError, ValueError, RecursionError)


class Event(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An event line (§9.3): the ten members in sorted order, with §1's types; all required, no others. A Struct
    encodes its fields in definition order, so `ENCODE_EVENT(e)` is the canonical line (keys sorted) — cheaper
    than a dict, and the types need no check of their own (measured: see verifier/README.md)."""

    action: str
    actor: str
    actor_user_id: Optional[int]  # noqa: UP045 (msgspec evaluates it: `int | None` fails on Python 3.9)
    hash: str
    occurred_at: str
    payload: str
    prev_hash: str
    seq: int
    subject_id: str
    subject_type: str


#: an event line's bytes → Event (raises ERRORS, or msgspec.ValidationError, a DecodeError, on a wrong member)
DECODE_EVENT = msgspec.json.Decoder(Event, float_hook=_no_floats).decode
ENCODE_EVENT = msgspec.json.Encoder().encode
