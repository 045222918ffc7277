"""The limits of every value a request may carry (issue 15 §1), declared once: the API's marshmallow fields, the
path converter, the request-wide scan of the API's argument parser, the CLI and the pages all check them here.

Integers stay within their column (PostgreSQL INTEGER for ids, BIGINT for quantities), text within its column,
with no NUL (PostgreSQL refuses it in text) and no lone surrogate (not encodable as UTF-8); tonnes are whole
numbers (1.9 t is refused, never stored as 1); dates and years fall in the range of the scheme's records; file
names are plain names. A refusal names the field and the rule; the API answers it 422."""
from __future__ import annotations

import math
import re
from datetime import date

from marshmallow import ValidationError as SchemaError, fields, validate

from .errors import ValidationError

INT32_MAX = 2**31 - 1  # PostgreSQL INTEGER: every id and count column
INT64_MAX = 2**63 - 1  # PostgreSQL BIGINT: quantities and serial numbers
MAX_TONNES = 10**12  # one request's quantity: well inside a BIGINT even when summed (as the exchange's lot bound)
FIRST_YEAR, LAST_YEAR = 1990, 2100  # vintages, compliance years, dates: the scheme's records fall in between
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
NAME_LEN = 200  # names and titles (String(200) columns)
SHORT_LEN = 80  # codes, references, usernames
TEXT_LEN = 4000  # free text: reasons, notes, comments, findings (a 10 MB note made a 20 MB ledger event)
MAX_DEPTH = 8  # nesting of a free-form JSON object (facts, periods, payloads)
MAX_ITEMS = 1000  # members of a free-form list or object


# ---- the checks, shared by the API, the CLI and the pages ------------------------------------------------------


def text_problem(value: str, multiline: bool = True) -> str | None:
    """Why `value` cannot be stored as text, or None: NUL and other control characters, lone surrogates."""
    for c in value:
        o = ord(c)
        if o == 0:
            return "NUL characters are not allowed"
        if 0xD800 <= o <= 0xDFFF:
            return "lone surrogates are not text (not encodable as UTF-8)"
        if (o < 32 and not (multiline and c in "\n\r\t")) or o == 127:
            return "control characters are not allowed"
    return None


def check_text(value: str, field: str, max_len: int = TEXT_LEN, multiline: bool = True) -> str:
    """The CLI's and the pages' check of one text value: a ValidationError naming the field, or the value."""
    problem = text_problem(value, multiline)
    if problem:
        raise ValidationError(problem, field=field, rule="text")
    if len(value) > max_len:
        raise ValidationError(f"at most {max_len} characters", field=field, rule="length")
    return value


def parse_id(text: str) -> int | None:
    """An id written in ASCII digits within an INTEGER column, or None (str.isdigit() accepts '¹', int() does not)."""
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= INT32_MAX:
        return int(text)
    return None


def tree_problem(value, depth: int = 0) -> str | None:
    """Why a free-form JSON value cannot be stored: bad text anywhere (keys included), an integer beyond BIGINT,
    a float that is not finite, too deep or too long."""
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if -INT64_MAX <= value <= INT64_MAX else "an integer beyond the 64-bit range"
    if isinstance(value, float):
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(value, (list, tuple, dict)):
        if len(value) > MAX_ITEMS:
            return f"more than {MAX_ITEMS} members"
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for k, v in items:
            problem = (text_problem(k) if isinstance(k, str) else None) or tree_problem(v, depth + 1)
            if problem:
                return problem
    return None


# ---- marshmallow validators and fields --------------------------------------------------------------------------


def _clean(multiline: bool):
    def check(value):
        problem = text_problem(value, multiline) if isinstance(value, str) else None
        if problem:
            raise SchemaError(problem)
    return check


def _tree(value):
    problem = tree_problem(value)
    if problem:
        raise SchemaError(problem)


def Text(max_len: int = TEXT_LEN, min_len: int = 0, multiline: bool = True, validators=(), **kw) -> fields.Str:
    """Free text: at most `max_len` characters, no NUL, controls (but line breaks and tabs) or lone surrogates."""
    return fields.Str(validate=[validate.Length(min=min_len, max=max_len), _clean(multiline), *validators], **kw)


def Name(max_len: int = NAME_LEN, min_len: int = 1, **kw) -> fields.Str:
    """A name, title or code on one line."""
    return Text(max_len, min_len, multiline=False, **kw)


def Choice(values, **kw) -> fields.Str:
    return fields.Str(validate=validate.OneOf(list(values)), **kw)


def Id(**kw) -> fields.Int:
    """The id of a row: a whole number within the INTEGER column; strict (a JSON integer) in bodies, `strict=False`
    for query parameters, which are text."""
    kw.setdefault("strict", True)
    return fields.Int(validate=validate.Range(min=1, max=INT32_MAX), **kw)


def Count(min_value: int = 0, max_value: int = INT32_MAX, **kw) -> fields.Int:
    """A whole number within an INTEGER column (registry numbers, batch numbers)."""
    return fields.Int(strict=True, validate=validate.Range(min=min_value, max=max_value), **kw)


def Tonnes(min_value: int = 1, max_value: int = MAX_TONNES, **kw) -> fields.Int:
    """tCO2e in whole tonnes (CCERs are whole tonnes, Registry Rules Art. 3): 1.9 is refused, never rounded."""
    metadata = {"description": "whole tCO2e", **kw.pop("metadata", {})}
    return fields.Int(strict=True, validate=validate.Range(min=min_value, max=max_value), metadata=metadata, **kw)


def Year(**kw) -> fields.Int:
    """A vintage or compliance year."""
    return fields.Int(strict=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR), **kw)


def Day(**kw) -> fields.Date:
    """A calendar date (ISO 8601) within the scheme's years."""
    return fields.Date(validate=validate.Range(min=FIRST_DAY, max=LAST_DAY), **kw)


def Document(**kw) -> fields.Dict:
    """A free-form JSON object (facts, payloads): bounded depth and size, clean text, 64-bit integers."""
    return fields.Dict(validate=_tree, **kw)


def Documents(min_items: int = 0, max_items: int = MAX_ITEMS, **kw) -> fields.List:
    """A list of free-form JSON objects (periods, trades), each as a Document."""
    return fields.List(fields.Dict(validate=_tree), validate=validate.Length(min=min_items, max=max_items), **kw)


_SEPARATORS = re.compile(r"[/\\:]")


def _file_name(value: str):
    if value in (".", "..") or _SEPARATORS.search(value):
        raise SchemaError("a file name, not a path ('.', '..' and separators are refused)")


def FileName(**kw) -> fields.Str:
    return Text(255, 1, multiline=False, validators=[_file_name], **kw)


def file_name_problem(value: str) -> str | None:
    """The same rule for an uploaded file's name (multipart forms)."""
    try:
        _file_name(value)
    except SchemaError as err:
        return str(err.messages[0])
    return text_problem(value, multiline=False)


def Longitude(**kw) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(min=-180, max=180), **kw)


def Latitude(**kw) -> fields.Float:
    return fields.Float(allow_nan=False, validate=validate.Range(min=-90, max=90), **kw)


# ---- timestamps out ---------------------------------------------------------------------------------------------


class Instant(fields.DateTime):
    """An instant as the API writes it: ISO 8601 in UTC with its offset (2026-12-07T02:00:00+00:00), whether the row
    was just made (clock.now, Beijing time) or read back from the database — the convention of the ledger's hashed
    events too (ledger.codec.plain), so one instant reads the same in an event and in a resource. A naive value is
    UTC, as the database columns store it (infra.db.UTCDateTime). Calendar dates (deadlines) stay Beijing dates."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        from datetime import timezone

        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
