"""ccer/ledger/fastjson.py gives the stdlib's canonical verdict and bytes (docs/ledger-format.md §2), faster.

The reference is codec.dumps / codec.is_canonical (Python's json); every answer of the fast path is compared
with it: every code point as a string and as a key, random JSON values (hypothesis) and perturbations of their
canonical text — the float forms msgspec writes differently from Python's repr above all."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccer.ledger import fastjson
from ccer.ledger.codec import dumps, is_canonical

pytestmark = pytest.mark.skipif(fastjson.msgspec is None, reason="msgspec not installed: the stdlib decides everything")


def test_every_code_point_is_written_as_the_stdlib_writes_it():
    bad = []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:  # surrogates are not scalar values; never stored (§2.3)
            continue
        ch = chr(c)
        want = dumps({ch: ch}).encode("utf-8")
        if fastjson.encode({ch: ch}) != want:
            bad.append(hex(c))
    assert bad == []


def test_keys_sort_by_code_point_not_utf16():
    # U+FF01 before U+1F600 by code point; JavaScript's UTF-16 sort puts it after (§2.2)
    value = {"\U0001F600": 1, "！": 2, "a": 3, "\ue000": 4, "\U00010000": 5, "": 6}
    assert fastjson.encode(value) == dumps(value).encode("utf-8")
    assert fastjson.parse(dumps(value)) == (value, True, True)


@pytest.mark.parametrize("text, canonical", [
    ('{"a":1}', True),
    ('{"a": 1}', False),                          # a space
    ('{"b":1,"a":2}', False),                     # key order
    ('{"a":1,"a":1}', False),                     # a duplicated key
    ('[9007199254740993]', True),                 # exact beyond 2^53
    ('[123456789012345678901234567890]', True),   # beyond 64 bits
    ('[-0]', False),                              # -0 is written 0
    ('[01]', False),
    ('[1.0]', True), ('[1e+16]', True), ('[1e-05]', True), ('[-0.0]', True),  # Python's repr (§2.5)
    ('[1e16]', False), ('[0.00001]', False), ('[1E+16]', False), ('[1.50]', False), ('[100]', True),
    ('["\\u00e9"]', False), ('["é"]', True), ('["\\/"]', False), ('["/"]', True),
    ('["\\u001F"]', False), ('["\\u001f"]', True), ('["\\n"]', True), ('["\\u000a"]', False),
    ('["\\ud83d\\ude00"]', False), ('["😀"]', True),
    ('NaN', False), ('[Infinity]', False), ('{"a":-Infinity}', False),  # not JSON (§2.5), though Python's json reads them
    ('[' * 5000 + ']' * 5000, False),             # nested beyond both parsers' depth: refused, not a crash
    ('{"a":1}\n', False), ('\ufeff{"a":1}', False), ('', False), ('{', False), ('tru', False),
])
def test_verdicts_are_the_stdlib_verdicts(text, canonical):
    value, ok, exact = fastjson.parse(text)
    assert ok is is_canonical(text) is canonical
    if ok:
        assert dumps(value) == text
        if exact:  # the fast encoder may then write its parts
            assert fastjson.encode(value) == text.encode("utf-8")


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                       max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_random_values_get_the_stdlib_bytes_and_verdict(value):
    text = dumps(value)
    got, ok, exact = fastjson.parse(text)
    assert ok
    assert dumps(got) == text
    assert (fastjson.encode(got) if exact else dumps(got).encode("utf-8")) == text.encode("utf-8")
    # perturbed texts: the fast verdict is the stdlib's
    for other in (json.dumps(value, ensure_ascii=False), json.dumps(value, sort_keys=True), text.replace(",", ", ", 1),
                  text.replace(".0", "", 1), text.replace("e+", "e", 1), text + " "):
        assert fastjson.parse(other)[1] is is_canonical(other)
