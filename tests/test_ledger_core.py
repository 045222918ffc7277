"""The C core of ledger verification (ccer/ledger/_core.c) against its Python definition.

Its contract (the comment at the top of _core.c): it only ever ACCEPTS what the Python definition accepts —
`codec.is_canonical` (ccer/ledger/codec.py), the digests `verify._native_digests` computes, the states
`verify._Walk.vouch_all` writes — with the same bytes, and hands anything else back to the Python path."""
from __future__ import annotations

import hashlib
import importlib
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select, text

from ccer import ledger
from ccer.ledger import codec, fastjson
from ccer.ledger.codec import GENESIS

from tests.test_ledger_verify import _trade_world, registry_key, world  # noqa: F401  (fixtures, reused)

V = importlib.import_module("ccer.ledger.verify")  # the module (ccer.ledger.verify is also the function's name)
core = pytest.importorskip("ccer.ledger._core")
settings.register_profile("ledger_core", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MODEST = settings.get_profile("ledger_core")

# ---- values -------------------------------------------------------------------------------------------------------

_SPECIAL = st.sampled_from(['"', "\\", "/", "\x00", "\x01", "\x08", "\x0b", "\x1f", "\n", "\t", "\x7f", "\u2028",
                            "\u2029", "\ufeff", "é", "中", "😀", "！"])
TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs",)), _SPECIAL), max_size=12)
#: keys with no character Python escapes (codec.dumps writes them as themselves)
PLAIN_KEY = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\',
                                  min_codepoint=0x20), max_size=8)
#: integers the C proves: at most 640 characters (sys.int_info.str_digits_check_threshold, the lowest int-string
#: limit Python can be set to: a larger one may be refused by the Python path)
INTS = st.one_of(st.integers(min_value=-2 ** 64, max_value=2 ** 64), st.integers(min_value=-10 ** 639 + 1, max_value=10 ** 640 - 1))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, TEXT)


def json_values(keys=PLAIN_KEY, scalars=SCALARS):
    return st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                        st.dictionaries(keys, kids, max_size=4)), max_leaves=20)


# ---- 1. proven_canonical: True only where codec.is_canonical is True ----------------------------------------------

@MODEST
@given(json_values())
def test_the_canonical_text_of_a_float_free_value_is_proven(value):
    t = codec.dumps(value)  # the definition: codec.dumps writes the canonical text
    assert codec.is_canonical(t) and core.proven_canonical(t), t


def _perturbations(t: str, v, pos: int, ch: str) -> list[str]:
    """Texts near the canonical text `t` of `v`: most are not canonical (a few are, e.g. 1.0 is a float)."""
    p = pos % (len(t) + 1)
    out = [t[:p] + ch + t[p:], t[:p] + t[p + 1:], t[:p], t + ch, t[:p] + " " + t[p:],
           re.sub(r"\\u00([0-9a-f]{2})", lambda m: "\\u00" + m.group(1).upper(), t),  # upper-case hex
           t.replace("/", "\\/"), re.sub(r"[A-Za-z]", lambda m: "\\u%04x" % ord(m.group()), t, count=1),
           t.replace("\\n", "\n", 1), t.replace("\\u0001", "\x01", 1),  # a raw control character
           json.dumps(v, sort_keys=True, ensure_ascii=True, separators=(",", ":")),  # escaped non-ASCII
           json.dumps(v, sort_keys=True, ensure_ascii=False),  # spaces
           *(f"[{t},{tok}]" for tok in ("-0", "01", "1.0", "1e3", "-01", "1E3", "+1", "0.5", "NaN", "tru"))]
    if isinstance(v, dict) and v:
        first = codec.dumps(dict([next(iter(sorted(v.items())))]))[1:-1]
        out.append("{" + first + "," + t[1:])  # a duplicated key
        out.append(json.dumps(dict(reversed(sorted(v.items()))), ensure_ascii=False, separators=(",", ":")))  # swapped
    return out


@MODEST
@given(json_values(keys=TEXT, scalars=st.one_of(SCALARS, st.floats(allow_nan=False, allow_infinity=False))), st.integers(0, 10 ** 6),
       st.sampled_from(list(' "\\,:0-.e}]{[\x01\n') + ["\\u0041", "\\/", "\u2028"]))
def test_what_is_proven_canonical_is_canonical(value, pos, ch):
    for t in [codec.dumps(value), *_perturbations(codec.dumps(value), value, pos, ch)]:
        if core.proven_canonical(t):  # the C may say "not proven" of a canonical text, never "proven" of another
            assert codec.is_canonical(t), t


@pytest.mark.parametrize("t", [
    '{"a":1 }', ' 1', '1 ', '{"a" :1}', '{"b":1,"a":2}', '{"a":1,"a":1}', '"\\u001F"', '"\\u00e9"', '"\\u0041"',
    '"\\/"', '"\\u000a"', '"\\u0009"', '-0', '01', '-01', '1.0', '1e3', '1E3', '+1', '[1,]', '{"a":1,}', '1x', '[1',
    '{"a":', '"abc', 'tru', 'nul', '[]]', '"\x01"', '"\n"', '"\ud83d\ude00"', '"\\ud83d\\ude00"', '\ufeff1', 'NaN',
    'Infinity', '', '[1,2]\n', '{"a":{"c":1,"b":2}}', '{"":1,"":2}'])
def test_hand_cases_not_proven(t):
    assert not core.proven_canonical(t)
    if t not in ('1.0', '"\ud83d\ude00"'):  # canonical by codec (a float; an emoji written as itself)
        assert not codec.is_canonical(t)


@pytest.mark.parametrize("t", [  # canonical (codec) but outside what the C proves: conservative "not proven"
    "1.5", "[0.0]", "1" * 641, "-" + "9" * 640, "[" * 65 + "]" * 65, '{"a\\n":1}', '{"\\"":1}', '"\ud800"', '{"a":-0.0}'])
def test_conservative_cases(t):
    assert codec.is_canonical(t) and not core.proven_canonical(t)


@pytest.mark.parametrize("t", ["1" * 640, "-" + "9" * 639, "[" * 60 + "]" * 60, "[" * 64 + "]" * 64, '"\\u0000\\u001f"',
                               '"\\b\\f\\n\\r\\t\\"\\\\"', '{"":0,"a":[true,false,null],"é":{},"😀":"\u2028"}',
                               '{"！":1,"😀":2}'])
def test_hand_cases_proven(t):
    assert codec.is_canonical(t) and core.proven_canonical(t)


# ---- 2. row_digests: verify._native_digests' Python expression ------------------------------------------------------

def _order_keys(names):  # as verify._native_digests builds them
    order = tuple(sorted(range(1, len(names) + 1), key=lambda j: names[j - 1]))
    return order, tuple(fastjson.encode(names[j - 1]) for j in order)


def _python_digests(rows, names, enc):
    return b"".join(hashlib.sha256(b"\x00" + str(r[0]).encode() + b"|" + enc(dict(zip(names, r[1:])))).digest()[:16]
                    for r in rows)


ROW_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 63) + 1, 2 ** 63 - 1),
                      st.text(st.one_of(st.characters(blacklist_categories=("Cs",)), _SPECIAL)))


@MODEST
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",))), min_size=0, max_size=6, unique=True).flatmap(
    lambda names: st.tuples(st.just(names), st.lists(st.tuples(st.integers(0, 2 ** 40), *[ROW_VALUE] * len(names)),
                                                     max_size=6))))
def test_row_digests_equal_the_python_expression(names_rows):
    names, rows = names_rows
    got = core.row_digests(rows, *_order_keys(names))
    assert got == _python_digests(rows, names, fastjson.encode)
    assert got == _python_digests(rows, names, lambda v: codec.dumps(v).encode())  # and the definition itself


@pytest.mark.parametrize("bad", [1.5, Decimal("1"), 2 ** 64, 2 ** 63, -(2 ** 63) - 1, [1], {"a": 1}, b"x", "\ud800"])
def test_row_digests_hand_back_what_they_do_not_write(bad):
    order_keys = _order_keys(("a", "b"))
    assert core.row_digests([(1, 2, "x"), (2, bad, None)], *order_keys) is None  # the Python path does the page
    if isinstance(bad, int):  # an id beyond 64 bits too
        assert core.row_digests([(bad, 2, "x")], *order_keys) is None


def test_row_digests_of_extreme_ints():
    rows, names = [(0, -(2 ** 63), 2 ** 63 - 1, True, False, None, "")], ("z", "a", "t", "f", "n", "")
    assert core.row_digests(rows, *_order_keys(names)) == _python_digests(rows, names, fastjson.encode)


# ---- 3. walk: the same states vouched as the Python path ----------------------------------------------------------

def _arrays(walk: V._Walk):
    return ({n: (bytes(s.seqs), bytes(s.digests), dict(s.other), s.count, s.sparse) for n, s in walk.slots.items()},
            {n: (bytes(r.present), bytes(r.hashes), dict(r.texts)) for n, r in walk.rooted.items()})


def _chain(monkeypatch, rows, with_core: bool, page: int, copy: bool = False, **walk_kw):
    """verify._Chain over `rows` (pages of `page`; copy: as binary COPY chunks of `page` rows, `_Chain.chunk`), with
    or without the C core: what it wrote and where it stopped."""
    with monkeypatch.context() as mp:
        if not with_core:
            mp.setattr(V, "_core", None)
        walk, report = V._Walk(**walk_kw), V.VerifyReport()
        chain = V._Chain(walk, 1, GENESIS, {}, None, report)
        bad = None
        for a in range(0, len(rows), page):
            bad = chain.chunk(_copy_bytes(rows[a:a + page])) if copy else chain.page(rows[a:a + page])
            if bad is not None:
                break
    return _arrays(walk), chain.expected, chain.prev, str(bad)


IDS = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["0", "007", "12a", "", "٣", "x:y", "2147483647",
                                                                 "2147483648", "3000000", "99999999999", "-1", "1e3"]))
ACTIVE = st.sampled_from([True, False, 1, None, "true"])  # serial_block's Merkle predicate: KeptWhen("active")
_BLOCK = st.fixed_dictionaries({"active": ACTIVE}, optional={"first": INTS, "owner": TEXT})  # what the C vouches
STATE = st.one_of(_BLOCK, _BLOCK, _BLOCK, st.none(), st.integers(), st.lists(st.integers(), max_size=2),
                  st.fixed_dictionaries({}, optional={"active": ACTIVE, "f": st.floats(allow_nan=False, allow_infinity=False),
                                                      'a"b': st.integers()}))  # a float, an escaped key: handed back
TYPES = st.sampled_from(["serial_block", "serial_block", "account", "organisation", "no_such_type"])
PAYLOAD = st.fixed_dictionaries({}, optional={
    "state": STATE, "states": st.one_of(st.dictionaries(st.builds("{}:{}".format, TYPES, IDS), STATE, max_size=4),
                                        st.just([]), st.just("x"), st.just({"serial_block": {"active": True}})),
    "note": st.one_of(TEXT, st.floats(allow_nan=False, allow_infinity=False), INTS)})
T0 = datetime(2025, 9, 15, tzinfo=timezone.utc)
EVENT = st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(-(2 ** 63), 2 ** 63 - 1)), TEXT, TYPES, IDS, TEXT,
                  PAYLOAD, st.sampled_from(["", "", "", "", "", "", "", "perturb", "hash", "prev", "seq"]), st.integers(0, 99))


def _rows(events):
    """Chain rows hashed by the definition (codec.event_hash); `how` spoils one: a payload perturbed (mostly not
    canonical, hashed as it is), a wrong hash, a wrong prev_hash, a wrong seq."""
    rows, prev = [], GENESIS
    for seq, (dt, uid, actor, stype, sid, action, payload, how, k) in enumerate(events, 1):
        at = T0 + timedelta(microseconds=dt)
        p = codec.dumps(payload)
        if how == "perturb":
            chars = ' "\\,:0-.e}]{'
            near = _perturbations(p, payload, 7 * k, chars[k % len(chars)])
            p = near[k % len(near)]
        prev_hash = prev if how != "prev" else "f" * 64
        h = codec.event_hash(seq, at, uid, actor, stype, sid, action, p, prev_hash)
        rows.append((seq + (how == "seq"), at, uid, actor, stype, sid, action, p, prev_hash,
                     h if how != "hash" else hashlib.sha256(h.encode()).hexdigest()))
        prev = h
    return rows


@pytest.fixture(scope="module")
def subject_types():
    from ccer import load_models

    load_models()


@MODEST
@given(st.lists(EVENT, max_size=8), st.booleans(), st.sampled_from([None, 30]), st.integers(1, 4))
def test_walk_writes_what_vouch_all_writes(subject_types, monkeypatch, events, incremental, cap, page):
    rows = _rows(events)
    kw = dict(incremental=incremental, caps=None if cap is None else {n: cap for n in ledger.SUBJECT_TYPES})
    assert _chain(monkeypatch, rows, True, page, **kw) == _chain(monkeypatch, rows, False, page, **kw)


def _copy_bytes(rows) -> bytes:
    """Chain rows in PostgreSQL's binary COPY row format (its documentation, COPY, "Binary Format": a 16-bit field
    count, each field a 32-bit length, -1 for NULL, then its bytes; integers big-endian, an instant as microseconds
    since 2000-01-01 UTC). seq as 4 bytes (the column's int) or 8 on every other row, actor_user_id as 4 bytes
    when it fits, else 8."""
    out = bytearray()
    for seq, at, uid, *texts in rows:
        fields = [seq.to_bytes(4 if seq % 2 else 8, "big", signed=True),
                  ((at - datetime(2000, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)).to_bytes(8, "big", signed=True),
                  None if uid is None else uid.to_bytes(4 if -2 ** 31 <= uid < 2 ** 31 else 8, "big", signed=True),
                  *(t.encode() for t in texts)]
        out += len(fields).to_bytes(2, "big")
        for f in fields:
            out += (-1).to_bytes(4, "big", signed=True) if f is None else len(f).to_bytes(4, "big") + f
    return bytes(out)


@MODEST
@given(st.lists(EVENT, max_size=8), st.booleans(), st.sampled_from([None, 30]), st.integers(1, 4))
def test_walk_copy_writes_what_the_python_path_writes(subject_types, monkeypatch, events, incremental, cap, per_chunk):
    """_core.walk_copy over binary COPY rows: the same arrays, the same stop and the same problem as the Python
    path reading the same bytes (copy_event), and as the walk over the rows as tuples — a row it hands back
    written by neither (a perturbed payload, a wrong hash, prev_hash or seq)."""
    rows = _rows(events)
    kw = dict(incremental=incremental, caps=None if cap is None else {n: cap for n in ledger.SUBJECT_TYPES})
    handed_back: dict[str, list] = {"copy": [], "tuples": []}
    event = V._Chain.event
    with monkeypatch.context() as mp:  # the rows each walk hands back to the Python path: the same ones
        mp.setattr(V._Chain, "event", lambda self, row: handed_back[which].append(row[0]) or event(self, row))
        which = "copy"
        with_c = _chain(monkeypatch, rows, True, per_chunk, copy=True, **kw)
        which = "tuples"
        _chain(monkeypatch, rows, True, per_chunk, **kw)
    assert handed_back["copy"] == handed_back["tuples"]
    assert with_c == _chain(monkeypatch, rows, False, per_chunk, copy=True, **kw) == _chain(monkeypatch, rows, False, per_chunk, **kw)


def test_walk_hand_cases(subject_types, monkeypatch):
    """One subject in "state" and "states" (the last write wins), a states key without a colon, ids kept by text,
    beyond the slots' cap, far beyond the Merkle arrays; a pending-like negative id is not an index."""
    on, off = {"active": True, "n": 1}, {"active": False}
    payloads = [{"state": on, "states": {"serial_block:5": off, "serial_block": on, "account:007": 1}},
                {"state": off, "states": {"serial_block:3000000": on, "serial_block:2147483647": on}},
                {"state": on, "states": {"serial_block:40": on, "serial_block:٣": on, "serial_block:-1": None}},
                {"states": {"serial_block:3000000": None, "serial_block:5": on}}, {"state": [1, 2]}, [1], 7, {}]
    events = [(0, None, "a", "serial_block", sid, "x", p, "", 0) for sid, p in zip(["5", "9", "0", "7", "6", "1", "2", "3"], payloads)]
    for kw in ({}, {"incremental": True}, {"caps": {n: 8 for n in ledger.SUBJECT_TYPES}}):
        with_c = _chain(monkeypatch, _rows(events), True, 3, **kw)
        assert with_c == _chain(monkeypatch, _rows(events), False, 3, **kw) and with_c[1] == len(events) + 1


def test_walk_escapes_quotes_and_backslashes_wherever_they_fall(subject_types, monkeypatch):
    """The payload, written into the event's hash content as a JSON string, 16 bytes at a time where it can: a quote
    or a backslash at every offset of a block, in runs, at the end, in payloads shorter and longer than a block —
    the chain (hashed by codec.event_hash) walks to its end, with the same arrays as without the core."""
    notes = [("x" * k) + c + ("y" * m) for k in range(0, 34) for c in ('"', "\\", '\\"', '""\\') for m in (0, 1, 15, 16, 17)]
    notes += ["", '"' * 40, "\\" * 40, 'é"中\\' * 9]
    events = [(0, None, "a", "serial_block", str(i % 7), "x", {"note": n, "state": {"active": True}}, "", 0)
              for i, n in enumerate(notes)]
    handed_back = []
    event = V._Chain.event
    monkeypatch.setattr(V._Chain, "event", lambda self, row: handed_back.append(row[0]) or event(self, row))
    with_c = _chain(monkeypatch, _rows(events), True, 50)
    assert handed_back == []  # the core hashed every one of them as the definition does
    assert with_c == _chain(monkeypatch, _rows(events), False, 50) and with_c[1] == len(events) + 1
    # and from binary COPY rows: none read in Python (the list so far: the run without the core)
    handed_back.clear()
    read = V.copy_event
    monkeypatch.setattr(V, "copy_event", lambda *a: handed_back.append(a[1]) or read(*a))
    assert _chain(monkeypatch, _rows(events), True, 50, copy=True) == with_c and handed_back == []


def test_walk_hands_back_a_rooted_type_it_cannot_evaluate(subject_types, monkeypatch):
    """A rooted type whose predicate is not a KeptWhen: the Python path vouches (same arrays)."""
    from ccer.ledger.subjects import SubjectType

    monkeypatch.setitem(ledger.SUBJECT_TYPES, "zz_rooted", SubjectType("zz_rooted", None, None, lambda s: True, None, None))
    rows = _rows([(0, None, "a", "zz_rooted", "3", "x", {"state": {"v": 1}}, "", 0),
                  (0, None, "a", "account", "4", "x", {"state": {"v": 2}, "states": {"zz_rooted:x": 1}}, "", 0)])
    with_c, without = _chain(monkeypatch, rows, True, 5), _chain(monkeypatch, rows, False, 5)
    assert with_c == without and with_c[0][1]["zz_rooted"][0][3] == 1


def test_review_findings_stay_fixed(subject_types, monkeypatch):
    """A read-only review of _core.c (session 9) found each of these with a concrete input."""
    from ccer.ledger.subjects import KeptWhen, SubjectType

    # a type named "" is found for a states key ":5" (a first-byte shortcut compared the terminator)
    monkeypatch.setitem(ledger.SUBJECT_TYPES, "", SubjectType("", None, None, None, None, None))
    rows = _rows([(0, None, "a", "other", "1", "x", {"states": {":5": {"x": 1}}}, "", 0)])
    with_c = _chain(monkeypatch, rows, True, 5)
    assert with_c == _chain(monkeypatch, rows, False, 5) and with_c[0][0][""][3] == 1

    # a KeptWhen subclass with its own rule is evaluated by Python, not by C's "field is true"
    class Stricter(KeptWhen):
        def __call__(self, state):
            return super().__call__(state) and not state.get("retired")

    monkeypatch.setitem(ledger.SUBJECT_TYPES, "zz_strict", SubjectType("zz_strict", None, None, Stricter("active"), None, None))
    rows = _rows([(0, None, "a", "zz_strict", "3", "x", {"state": {"active": True, "retired": True}}, "", 0)])
    with_c = _chain(monkeypatch, rows, True, 5)
    assert with_c == _chain(monkeypatch, rows, False, 5) and with_c[0][1]["zz_strict"][0] == b""

    # Slots whose put_int replaces its arrays (rather than extending them): C reads them again, no use after free
    class Rebinding(V.Slots):
        def put_int(self, i, seq, dg):
            self.seqs, self.digests = V.array("q", self.seqs), bytearray(self.digests)
            super().put_int(i, seq, dg)

    monkeypatch.setattr(V, "Slots", Rebinding)
    rows = _rows([(0, None, "a", "account", str(i), "x", {"state": {"n": i}, "states": {"account:100": 1, "account:2": 2}}, "", 0)
                  for i in (1, 3000)])
    with_c = _chain(monkeypatch, rows, True, 5)
    assert with_c == _chain(monkeypatch, rows, False, 5) and with_c[1] == 3

    # a start outside the rows is refused, not read
    with pytest.raises(IndexError):
        core.walk([], -1, 1, GENESIS, 0, (), codec.plain, None, "")

    # an integer longer than the lowest int-string limit Python can be set to is not proven
    assert not core.proven_canonical("9" * 641) and core.proven_canonical("9" * 640)


# ---- walk vs. the Python path on a real ledger, on both databases -------------------------------------------------

def _report(session, monkeypatch, with_core: bool, calls: list | None = None):
    with monkeypatch.context() as mp:
        if not with_core:
            mp.setattr(V, "_core", None)
        if calls is not None:
            event = V._Chain.event
            mp.setattr(V._Chain, "event", lambda self, row: calls.append(row[0]) or event(self, row))
        r = ledger.verify(session)
    session.rollback()
    return [str(p) for p in r.problems], r.events, r.head, r.subjects, r.checkpoints


def _ledger(world, session):
    _trade_world(world, session)
    ledger.take_checkpoint(session)
    world.transfer(world.trader, world.emitter, quantity=50)  # events after the checkpoint: tampered below
    session.commit()
    return session.execute(select(ledger.Checkpoint.seq)).scalar_one()


def _rehash(session, from_seq: int) -> None:
    """What a database-level forger does: every hash from `from_seq` on recomputed (codec.event_hash), the head too."""
    prev = session.execute(select(ledger.Event.hash).where(ledger.Event.seq == from_seq - 1)).scalar_one()
    for ev in session.execute(select(ledger.Event).where(ledger.Event.seq >= from_seq).order_by(ledger.Event.seq)).scalars():
        ev.prev_hash = prev
        ev.hash = prev = ev.compute_hash()
    session.get(ledger.LedgerHead, 1).hash = prev
    session.commit()


def _tamper(session, seq, kind):
    ev = session.execute(select(ledger.Event).where(ledger.Event.seq == seq)).scalar_one()
    if kind == "canonical edit":  # still canonical, hash left: "content does not match its hash"
        ev.payload_json = codec.dumps(dict(codec.loads(ev.payload_json), zz_note="篡改"))
    elif kind == "not canonical":  # hashes recomputed: only the canonical check catches it
        ev.payload_json = ev.payload_json.replace(",", ", ", 1) if "," in ev.payload_json else ev.payload_json + " "
    elif kind == "hash":
        ev.hash = "0" * 64
    elif kind == "float":  # canonical, hashes recomputed: only the Python path can vouch it, verify still passes
        ev.payload_json = codec.dumps(dict(codec.loads(ev.payload_json), zz_rate=0.125))
    session.commit()
    if kind in ("not canonical", "float"):
        _rehash(session, seq)


@pytest.mark.parametrize("kind", [None, "canonical edit", "not canonical", "hash", "float"])
def test_verify_reports_the_same_with_and_without_the_core(world, session, monkeypatch, kind):
    cp_seq = _ledger(world, session)
    n = ledger.head(session)[0]
    if kind is not None:
        _tamper(session, cp_seq + 2, kind)
    calls: list = []
    with_c = _report(session, monkeypatch, True, calls)
    assert with_c == _report(session, monkeypatch, False)
    assert with_c[1] == (n if kind in (None, "float") else cp_seq + 1) and with_c[4] == 1
    assert (with_c[0] == []) is (kind in (None, "float"))
    assert calls == ([] if kind is None else [cp_seq + 2])  # the C walked every good event, handed back the odd one


def test_the_walks_arrays_are_identical_on_a_real_chain(world, session, monkeypatch):
    _ledger(world, session)
    _tamper(session, ledger.head(session)[0] - 1, "float")  # one event only the Python path vouches
    rows = [tuple(r) for r in ledger.chain_rows(session)]
    caps = V.type_caps(session)
    for page in (len(rows), 4):
        with_c = _chain(monkeypatch, rows, True, page, caps=caps)
        assert with_c == _chain(monkeypatch, rows, False, page, caps=caps) and with_c[1] == len(rows) + 1
        assert with_c[0][1]["serial_block"][0].count(1) > 0  # Merkle leaves kept


def test_caps_take_the_planners_row_estimate_only_when_every_id_fits(world, session, monkeypatch):
    """type_caps counts a table's rows only when PostgreSQL's estimate (pg_class.reltuples) is missing or too small
    for the ids there: the caps are the counted ones for the dense ids of a registry, and the reports the same."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the row estimate is PostgreSQL's")
    _ledger(world, session)
    with monkeypatch.context() as m:
        m.setattr(V, "_rows_estimate", lambda *a: None)
        counted = V.type_caps(session)  # every table counted
    report = ledger.verify(session)
    session.execute(text("ANALYZE serial_blocks"))
    assert V._rows_estimate(session, V.SUBJECT_TYPES["serial_block"].snapshot_all.columns[0].table) > 0
    assert V.type_caps(session)["serial_block"] == counted["serial_block"]
    # an estimate that is stale (far fewer rows than the ids reach) is not taken: the rows are counted
    session.execute(text("UPDATE pg_class SET reltuples = 0 WHERE oid = 'serial_blocks'::regclass"))
    top = session.execute(text("SELECT max(id) FROM serial_blocks")).scalar()
    session.execute(text("UPDATE serial_blocks SET id = :far WHERE id = :top"), {"far": 5 * V.BASE_CAP, "top": top})
    caps = V.type_caps(session)
    assert caps["serial_block"] == counted["serial_block"]  # (2 × the rows counted + the base: not the far id)
    session.rollback()
    assert ledger.verify(session).problems == report.problems


def test_among_reads_runs_as_ranges_and_the_rest_by_id(world, session, monkeypatch):
    """subjects.select_among: runs of ≥ RUN consecutive ids as ranges (PostgreSQL), the others as one array; the
    same rows as `IN` either way, whatever the order and repeats of the ids, in id order when asked — and the text
    an incremental verification sends (FieldsScan.among_sql) reads the same rows as the Core statement."""
    from ccer.infra.db import driver_rows
    from ccer.issuance.models import SerialBlock
    from ccer.ledger import subjects
    from ccer.ledger.subjects import among_params, select_among

    monkeypatch.setattr(subjects, "RUN", RUN := 8)
    assert among_params([*range(1, 20), 30, 3, 19]) == {"among_lo": "{1}", "among_hi": "{19}", "among_singles": "{30}"}
    _trade_world(world, session)
    conn = session.connection()
    ev = ledger.Event.__table__
    every = session.execute(select(ev.c.id)).scalars().all()
    assert len(every) > RUN + 10
    sql = str(select_among(conn, [ev.c.id], [*range(1, 20), 30]).compile(session.get_bind()))
    assert ("BETWEEN" in sql) is (session.get_bind().dialect.name == "postgresql")
    ids = [*range(1, RUN + 6), every[-1], RUN + 9, 3, 10 ** 9, RUN + 9]  # a run, singles, a repeat, one not there
    got = session.execute(select_among(conn, [ev.c.id], ids, ordered=True)).scalars().all()
    assert got == sorted(set(ids) & set(every))
    where = ev.c.id % 2 == 0  # with conditions: in both halves of the union
    got = session.execute(select_among(conn, [ev.c.id], ids, where, ordered=True)).scalars().all()
    assert got == sorted(i for i in set(ids) & set(every) if i % 2 == 0)
    if session.get_bind().dialect.name == "postgresql":
        scan = ledger.SUBJECT_TYPES["serial_block"].snapshot_all
        blocks = session.execute(select(SerialBlock.id)).scalars().all()
        ids = [*blocks[:RUN + 2], blocks[-1], 10 ** 9]
        core = sorted(tuple(r) for r in session.execute(select_among(conn, scan.columns, ids)))
        assert core and sorted(driver_rows(conn, scan.among_sql(conn), among_params(ids))) == core


@pytest.mark.parametrize("kind", [None, "canonical edit", "hash", "float", "row"])
def test_scratch_arrays_give_the_same_reports(world, session, monkeypatch, kind):
    """Per-id arrays in scratch files (SCRATCH_FROM lowered so that this small ledger uses them: the walk's, the
    tables' — shared with the table-scanning process on PostgreSQL — and the Merkle roots by windows) give the
    reports the in-memory arrays give, on a good ledger and after each tamper, with one process and with two — and
    with two, whether the tables kept in them are read as one job or in parts (PART lowered: a few ids each)."""
    _ledger(world, session)
    if kind == "row":  # a row edited behind the platform's back: named by the table comparison
        session.execute(text("UPDATE serial_blocks SET last = last + 1 WHERE id = (SELECT max(id) FROM serial_blocks)"))
        session.commit()
    elif kind is not None:
        _tamper(session, ledger.head(session)[0] - 1, kind)
    jobs = (1, 2) if session.get_bind().dialect.name == "postgresql" else (1,)
    reports = []
    for scratch_from, part in ((V.SCRATCH_FROM, V.PART), (1, V.PART), (1, 3)):
        monkeypatch.setattr(V, "SCRATCH_FROM", scratch_from)
        monkeypatch.setattr(V, "PART", part)
        for j in jobs:
            r = ledger.verify(session, jobs=j)
            session.rollback()
            reports.append(([str(p) for p in r.problems], r.events, r.head, r.subjects, r.checkpoints))
    assert all(r == reports[0] for r in reports)
    assert (reports[0][0] == []) is (kind in (None, "float"))
    if kind == "row":
        assert any("serial_block" in p and "differs" in p for p in reports[0][0])


def test_jobs_put_the_tables_in_scratch_arrays_in_parts(monkeypatch):
    """_jobs: the largest table first, then the invariants, then the other tables, largest first; a table whose
    arrays are its cap (kept in scratch files) in parts of PART ids covering 0…size − 1 exactly, the others whole."""
    monkeypatch.setattr(V, "PART", 4)
    caps = {"a": V.BASE_CAP, "big": 10, "mid": 9, "small": V.BASE_CAP}
    tops = {"big": 10, "mid": 9, "small": 3}
    monkeypatch.setattr(V, "SCRATCH_FROM", 5)
    jobs = V._jobs(caps, tops, ["c1", "c2"])
    assert jobs == [("table", "big", (0, 3)), ("table", "big", (4, 7)), ("table", "big", (8, 9)), ("check", "c1"),
                    ("check", "c2"), ("table", "mid", (0, 3)), ("table", "mid", (4, 7)), ("table", "mid", (8, 8)),
                    ("table", "small", None), ("table", "a", None)]


def test_scratch_arrays_are_mapped_files_and_roots_by_windows_match(subject_types, monkeypatch):
    """A Rooted in scratch files computes its root a window at a time; the same as from the whole blob."""
    from ccer.ledger.subjects import SUBJECT_TYPES

    monkeypatch.setattr(V, "SCRATCH_FROM", 1)
    kind = SUBJECT_TYPES["serial_block"]
    a, b = V.Rooted(kind, 5000), V.Rooted(kind)
    assert a.fixed and isinstance(a.present, V.mmap.mmap) and not b.fixed
    for i in range(0, 5000, 3):
        h = hashlib.sha256(str(i).encode()).digest()
        a.put(i, h)
        b.put(i, h)
    a.put(7000, b"\x01" * 32)  # beyond the scratch arrays: kept by its text, in natural order
    b.put(7000, b"\x01" * 32)
    assert a.root() == b.root() == V.root_of_blob(b.blob())
    a.texts.clear()
    b.put(7000, None)
    assert a._root_by_windows({}, window=1 << 12) == b.root()


def test_driver_rows_read_binary_for_their_own_statement_only(session):
    """The binary format is an option of the statement driver_rows runs, not of the connection: the statements
    after it read as before (a review found it stuck to the transaction)."""
    from ccer.infra.db import driver_rows

    conn = session.connection()
    assert driver_rows(conn, "SELECT 1", {}) == [(1,)]
    assert "ccer_binary" not in conn.get_execution_options()
    assert session.execute(text("SELECT 'x'")).scalar() == "x"


def test_the_table_scanning_process_is_stopped_when_verify_fails(world, session, monkeypatch):
    """An error in the verifying process's own share of the jobs: raised, and the other process does not outlive it."""
    import multiprocessing

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a second process shares the snapshot on PostgreSQL only")
    _ledger(world, session)
    original, parent = V.table_digests, __import__("os").getpid()

    def failing(*a, **kw):
        if __import__("os").getpid() == parent:
            raise ValueError("the parent's share failed")
        return original(*a, **kw)

    monkeypatch.setattr(V, "table_digests", failing)
    with pytest.raises(ValueError, match="parent's share"):
        ledger.verify(session, jobs=2)
    session.rollback()
    assert multiprocessing.active_children() == []


def _pg_only(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the chain is read ahead on PostgreSQL only (the driver's pipeline mode)")


def _failing_send(monkeypatch, which: int):
    """ReadAhead.send, with its `which`-th statement replaced by one that fails on the server."""
    from ccer.infra.ahead import ReadAhead

    sent, send = [], ReadAhead.send
    monkeypatch.setattr(ReadAhead, "send", lambda self, sql, params: sent.append(sql) or
                        send(self, "SELECT 1/0" if len(sent) == which else sql, params))


def _paged_ledger(world, session, transfers: int = 4, monkeypatch=None) -> int:
    """A checkpoint, then `transfers` transfers. monkeypatch: the chain read in pages on PostgreSQL (as from a
    server whose text may not be valid UTF-8), not streamed (`chain_copy`)."""
    if monkeypatch is not None:
        from ccer.infra import pgcopy

        monkeypatch.setattr(pgcopy, "utf8", lambda conn: False)
    _trade_world(world, session)
    ledger.take_checkpoint(session)
    for _ in range(transfers):
        world.transfer(world.trader, world.emitter, quantity=5)
    session.commit()
    return session.execute(select(ledger.Checkpoint.seq)).scalar_one()


def test_a_bad_event_is_named_though_the_page_read_ahead_fails(world, session, monkeypatch):
    """The next page is sent before this one is walked: when the walk stops at a bad event, that page is not
    wanted, and its failure on the server does not replace the report naming the event."""
    _pg_only(session)
    cp = _paged_ledger(world, session, monkeypatch=monkeypatch)
    assert ledger.head(session)[0] >= cp + 5
    _tamper(session, cp + 3, "hash")
    _failing_send(monkeypatch, 3)  # pages of 2: the second page (cp+3, cp+4) is walked while the third is in flight
    report = ledger.verify(session, since=cp, page=2)
    assert len(report.problems) == 1 and report.events == cp + 2
    assert str(report.problems[0]).startswith(f"event #{cp + 3}: content does not match its hash")
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_the_first_page_read_ahead_is_small_and_the_pages_cover_the_chain(world, session, monkeypatch):
    """The first page is of at most FIRST_PAGE rows (nothing is there to work on while it comes), the others of
    `page`; together the same rows as one read, in order, whatever the sizes."""
    from ccer.infra import ahead as A

    _pg_only(session)
    _trade_world(world, session)
    whole = [tuple(r) for r in ledger.chain_rows(session)]
    session.rollback()
    for first, page in ((3, 7), (7, 3), (1, len(whole)), (len(whole), 1)):
        monkeypatch.setattr(A, "FIRST_PAGE", first)
        with A.ReadAhead(session.connection()) as ahead:
            pages = list(V.chain_pages(session, 0, page, ahead))
        session.rollback()
        assert [len(p) for p in pages[:-1]] == [min(first, page)] + [page] * (len(pages) - 2)
        assert [r for p in pages for r in p] == whole


def test_a_read_ahead_that_fails_raises_as_any_statement_does(world, session, monkeypatch):
    """A wanted page that fails comes out as SQLAlchemy's error (what the platform's retry and error handling
    know), and the session works again after a rollback."""
    from sqlalchemy.exc import DBAPIError

    _pg_only(session)
    cp = _paged_ledger(world, session, monkeypatch=monkeypatch)
    _failing_send(monkeypatch, 3)
    with pytest.raises(DBAPIError, match="division by zero"):
        ledger.verify(session, since=cp, page=2)
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


# ---- the full verification's chain as one binary COPY stream (PostgreSQL) -------------------------------------------

@pytest.fixture(params=["libpq", "psycopg"])
def reader(request, monkeypatch):
    """Both ways a COPY's rows are taken: by the C loop through the driver's libpq, or psycopg's Copy, a row per call."""
    from ccer.infra import pgcopy

    if request.param == "libpq":
        assert pgcopy._libpq() is not None  # (Linux: one libpq loaded, the driver's)
    else:
        monkeypatch.setattr(pgcopy, "_libpq", lambda: None)
    return request.param


def _streamed(session) -> tuple[list[tuple], list[int], list[bool]]:
    """The rows of `chain_copy`, each read by `copy_event` (the Python path), the chunks' sizes and ended marks."""
    from psycopg import pq

    driver = session.connection().connection.driver_connection
    rows, sizes, lasts = [], [], []
    for data, ended in V.chain_copy(session, 0):
        lasts.append(ended)
        # marked ended exactly when the connection is free: the COPY over, psycopg's lock not held
        assert ended == (driver.pgconn.transaction_status != pq.TransactionStatus.ACTIVE and not driver.lock.locked())
        pos = 0
        while pos < len(data):
            row, pos = V.copy_event(data, pos)
            rows.append(row)
        assert pos == len(data)  # whole rows only
        sizes.append(len(data))
    assert lasts[-1] and lasts == sorted(lasts)  # those after the statement's end said so: the last, maybe more
    session.rollback()
    return rows, sizes, lasts


def test_the_streamed_chain_is_the_paged_chain_in_any_chunking(world, session, monkeypatch, reader):
    """chain_copy gives the rows chain_rows gives (the driver's own values: aware instants, ints, str), in
    chunks of at least CHUNK bytes of whole rows, whatever CHUNK is."""
    from ccer.infra import pgcopy

    _pg_only(session)
    _paged_ledger(world, session)
    whole = [tuple(r) for r in ledger.chain_rows(session)]
    session.rollback()
    for size in (1, 700, 10 ** 9):
        monkeypatch.setattr(pgcopy, "CHUNK", size)
        rows = _streamed(session)
        rows, sizes, lasts = rows
        assert rows == whole and all(n >= size for n in sizes[:-1])
        assert len(sizes) == len(whole) if size == 1 else 1 < len(sizes) < len(whole) if size == 700 else len(sizes) == 1
        assert lasts.count(True) == 1 if size == 1 else lasts[-1]
    assert isinstance(rows[0][1], datetime) and rows[0][1].utcoffset() == timedelta(0)


@pytest.mark.parametrize("kind", [None, "canonical edit", "not canonical", "float"])
def test_a_streamed_verification_reports_as_a_paged_one(world, session, monkeypatch, kind, reader):
    """A full verification on PostgreSQL streams the chain (`_walk_stream`): the same report as the same
    verification in pages, in chunks of one row (a checkpoint at a chunk's end) as of a megabyte; the C walk
    hands back only the odd event (read in Python: copy_event)."""
    from ccer.infra import pgcopy

    _pg_only(session)
    cp = _paged_ledger(world, session)
    if kind is not None:
        _tamper(session, cp + 2, kind)

    def report(**patches):
        with monkeypatch.context() as mp:
            for name, value in patches.items():
                mp.setattr(pgcopy, name, value)
            streamed, read = [], V.copy_event
            mp.setattr(V, "copy_event", lambda *a: streamed.append("python") or read(*a))
            walk = V._walk_stream
            mp.setattr(V, "_walk_stream", lambda *a, **kw: streamed.append("stream") or walk(*a, **kw))
            r = ledger.verify(session)
        session.rollback()
        return [str(p) for p in r.problems], r.events, r.head, r.subjects, r.checkpoints, streamed

    paged = report(utf8=lambda conn: False)
    assert paged[-1] == [] and report()[:-1] == report(CHUNK=1)[:-1] == paged[:-1]
    assert report()[-1] == ["stream"] + ["python"] * (kind is not None)
    assert (paged[0] == []) is (kind in (None, "float"))


def test_a_bad_event_early_in_the_stream_is_named_and_the_stream_stopped(world, session, monkeypatch, reader):
    """The walk stops at the first bad event with the rest of the stream unread: the COPY is cancelled, and the
    session works again after a rollback."""
    from ccer.infra import pgcopy

    _pg_only(session)
    cp = _paged_ledger(world, session)
    _tamper(session, 3, "hash")
    monkeypatch.setattr(pgcopy, "CHUNK", 1)
    closed, copy_chunks = [], pgcopy.copy_chunks

    def watched(*a, **kw):
        try:
            yield from copy_chunks(*a, **kw)
        except GeneratorExit:
            closed.append(True)
            raise

    monkeypatch.setattr(pgcopy, "copy_chunks", watched)
    report = ledger.verify(session)
    assert [str(p)[:44] for p in report.problems] == ["event #3: content does not match its hash (a"]
    assert report.events == 2 and closed == [True] and cp > 3
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_a_stream_left_early_is_cancelled_and_the_session_works_after_a_rollback(session, reader):
    """A COPY far from its end when the reader stops: cancelled on the server (the transaction failed, as after
    any cancelled statement), not read to its end; the session works after a rollback."""
    from psycopg import pq

    from ccer.infra import pgcopy

    _pg_only(session)
    assert session.execute(text("SELECT 1")).scalar() == 1
    conn = session.connection()
    chunks = pgcopy.copy_chunks(conn, "SELECT g, repeat('x', 200) FROM generate_series(1, 20000000) g", 1000)
    data, last = next(chunks)
    assert len(data) >= 1000 and not last
    chunks.close()
    assert conn.connection.driver_connection.info.transaction_status == pq.TransactionStatus.INERROR
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_the_libpq_is_taken_only_when_it_is_the_drivers(monkeypatch):
    """pgcopy._libpq: the one libpq loaded, when its version is the one psycopg runs on; else None (psycopg's Copy)."""
    import psycopg
    from psycopg import pq

    from ccer.infra import pgcopy

    pgcopy._libpq.cache_clear()
    try:
        assert pgcopy._libpq() is not None
        pgcopy._libpq.cache_clear()
        monkeypatch.setattr(pq, "version", lambda: 1)
        assert pgcopy._libpq() is None
    finally:
        pgcopy._libpq.cache_clear()


def test_a_failing_copy_raises_as_any_statement_does(session, reader):
    """An error of the COPY's query comes out as SQLAlchemy's error, and the session works after a rollback."""
    from sqlalchemy.exc import DBAPIError

    from ccer.infra import pgcopy

    _pg_only(session)
    assert session.execute(text("SELECT 1")).scalar() == 1  # (in the session's transaction)
    with pytest.raises(DBAPIError, match="division by zero"):
        list(pgcopy.copy_chunks(session.connection(), "SELECT 1/0"))
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1
    assert list(pgcopy.copy_chunks(session.connection(), "SELECT 1 WHERE false")) == [(b"", True)]  # header, trailer
    # failing after rows have come, chunks of them handed on
    got = []
    with pytest.raises(DBAPIError, match="division by zero"):
        for data, last in pgcopy.copy_chunks(session.connection(), "SELECT g, 1 / (g - 3000) FROM generate_series(1, 5000) g", 100):
            got.append(data)
            assert not last
    assert got and all(len(d) >= 100 for d in got)
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_an_instant_python_has_no_datetime_for_is_named_not_a_crash(world, session):
    """occurred_at set to 'infinity' behind the platform's back: the driver has no datetime for it; the stream
    reads it as its text, and the event is named (no event's hash was made from it)."""
    _pg_only(session)
    _paged_ledger(world, session)
    session.execute(text("UPDATE events SET occurred_at = 'infinity' WHERE seq = 4"))
    session.commit()
    report = ledger.verify(session)
    assert [str(p)[:44] for p in report.problems] == ["event #4: content does not match its hash (a"]
    session.rollback()
    # PostgreSQL's binary instants: microseconds since 2000-01-01 UTC; the infinities are the 64-bit extremes
    assert V.copy_instant(0) == datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert V.copy_instant(86_400_000_001) == datetime(2000, 1, 2, 0, 0, 0, 1, tzinfo=timezone.utc)
    assert (V.copy_instant(2 ** 63 - 1), V.copy_instant(-(2 ** 63))) == ("infinity", "-infinity")
    far = 10_000 * 366 * 86_400 * 10 ** 6  # past year 9999: its text
    assert V.copy_instant(far) == f"{far} microseconds after 2000-01-01T00:00:00+00:00"


def test_walk_copy_hands_back_what_it_cannot_read_and_writes_nothing(world, session, monkeypatch):
    """_core.walk_copy on a row cut short, a row of other fields, or one not following on from `prev`: it stops
    before it (status 2, the offset unmoved, prev and seq as given); copy_event names a cut row. (That it writes
    nothing of such a row: test_walk_copy_writes_what_the_python_path_writes.)"""
    from ccer.infra import pgcopy

    _pg_only(session)
    _trade_world(world, session)
    monkeypatch.setattr(pgcopy, "CHUNK", 1)
    chunks = [bytes(c) for c, _ in V.chain_copy(session, 0)]
    session.rollback()
    first = chunks[0]
    at = (V._MIN_MICROS, V._copy_at_text(V._MIN_MICROS))
    good = core.walk_copy(first, 0, 1, GENESIS, 0, (), V._copy_at_text, *at)
    assert good[:4] == (len(first), 2, V.copy_event(first, 0)[0][9], 0)
    cut = first[:-1]
    assert core.walk_copy(cut, 0, 1, GENESIS, 0, (), V._copy_at_text, *at)[:4] == (0, 1, GENESIS, 2)
    with pytest.raises(ValueError, match="cut short"):
        V.copy_event(cut, 0)
    nine = b"\x00\x09" + first[2:]  # a field count other than the chain's
    assert core.walk_copy(nine, 0, 1, GENESIS, 0, (), V._copy_at_text, *at)[:4] == (0, 1, GENESIS, 2)
    assert core.walk_copy(chunks[1], 0, 2, GENESIS, 0, (), V._copy_at_text, *at)[:4] == (0, 2, GENESIS, 2)  # prev
    # two rows in one buffer, stopping at a checkpoint's seq after the first
    both = first + chunks[1]
    assert core.walk_copy(both, 0, 1, GENESIS, 1, (), V._copy_at_text, *at)[:4] == (len(first), 2, good[2], 1)
    with pytest.raises(IndexError):
        core.walk_copy(first, len(first) + 1, 1, GENESIS, 0, (), V._copy_at_text, *at)


def test_incremental_reads_touched_rows_in_statements_of_a_few_ids(world, session, monkeypatch, reader):
    """The touched rows are read AMONG ids per statement, two in flight: with AMONG lowered to 2 the same report,
    and a touched row edited behind the platform's back is named."""
    from ccer.infra import pgcopy

    _pg_only(session)
    cp = _ledger(world, session)
    base = ledger.verify(session, since=cp)
    session.rollback()
    monkeypatch.setattr(V, "AMONG", 2)
    few = ledger.verify(session, since=cp)
    session.rollback()
    assert base.ok and few.ok and (few.subjects, few.events, few.head) == (base.subjects, base.events, base.head)
    # ids touched so far are read ahead once the stream has ended, while the chunks left are walked (`_send_touched`),
    # the others after the walk (chunks of one event: only the last is walked after the stream's end)
    early, send = [], V._send_touched
    monkeypatch.setattr(V, "_send_touched", lambda *a: early.append(send(*a)) or early[-1])
    # chunks of one event: the last event's blocks are read after the stream, the first event's ahead
    monkeypatch.setattr(pgcopy, "CHUNK", 1)
    touched, head = _touched_blocks(session, cp), ledger.head(session)[0]
    low = min(i for i, seq in touched if seq == min(s for _, s in touched))
    high = max(i for i, seq in touched if seq == head and all(i != j for j, s in touched if s < head))
    assert low != high
    session.execute(text("UPDATE serial_blocks SET last = last + 1 WHERE id IN (:a, :b)"), {"a": low, "b": high})
    session.commit()
    report = ledger.verify(session, since=cp)
    assert [name for name, _, _ in early[0]].count("serial_block") == 1 and low in dict((n, i) for n, i, _ in early[0])["serial_block"]
    assert all(high not in ids for _, ids, _ in early[0])
    assert {f"serial_block {b} differs" for b in (low, high)} <= {str(p).split(" from ")[0].split(": ", 1)[-1] for p in report.problems}


def test_reads_sent_ahead_ask_each_id_once_of_two_types_at_most_among_ids_each(subject_types, monkeypatch):
    """_to_send, called again as the walk goes on: only ids not asked before, at most two types in all (a type
    touched later that comes first in the registry's order waits), at most AMONG ids of each in all."""
    monkeypatch.setattr(V, "AMONG", 3)
    among = [n for n, k in ledger.SUBJECT_TYPES.items() if isinstance(k.snapshot_all, V.FieldsScan) and k.snapshot_all.native]
    first, second, third = among[:3]
    walk = V._Walk(incremental=True)

    def touch(name, *ids):
        for i in ids:
            walk.slots[name].sparse[i] = (1, bytes(16))

    touch(second, 5, 1)
    touch(third, 7)
    sent = [(name, ids, None) for name, ids in V._to_send(walk)]
    assert [(n, ids) for n, ids, _ in sent] == [(second, [1, 5]), (third, [7])]
    touch(first, 2)  # comes first in the order, but two types are asked already
    touch(second, 9, 3, 4)
    more = V._to_send(walk, sent)
    assert more == [(second, [3])]  # one more of it fits in AMONG; 4 and 9 wait, as the first type does
    sent += [(n, ids, None) for n, ids in more]
    assert V._to_send(walk, sent) == []
    asked = V._asked(sent)
    assert asked == {second: {1, 3, 5}, third: {7}}
    # what _touched_rows reads after: every id not asked, once
    rest = {name: sorted(walk.slots[name].sparse.keys() - asked.get(name, set())) for name in V._among_types(walk)}
    assert rest == {first: [2], second: [4, 9], third: []}


def test_a_streamed_incremental_names_a_bad_event_though_a_read_sent_ahead_fails(world, session, monkeypatch):
    """The touched rows' reads sent once the stream has ended (chunks of one event: before the last): when the
    walk stops at a bad event there, their failure does not replace the report; otherwise it is raised as
    SQLAlchemy's error."""
    from sqlalchemy.exc import DBAPIError

    from ccer.infra import pgcopy

    _pg_only(session)
    cp = _paged_ledger(world, session)
    monkeypatch.setattr(pgcopy, "CHUNK", 1)
    _failing_send(monkeypatch, 1)
    with pytest.raises(DBAPIError, match="division by zero"):
        ledger.verify(session, since=cp)
    session.rollback()
    head = ledger.head(session)[0]
    _tamper(session, head, "hash")
    report = ledger.verify(session, since=cp)
    assert [str(p)[:len(f"event #{head}: content")] for p in report.problems] == [f"event #{head}: content"]
    session.rollback()
    assert session.execute(text("SELECT 1")).scalar() == 1


def test_incremental_names_a_touched_row_deleted_behind_the_platforms_back(world, session):
    """The touched rows are compared in one piece when every one is there and as vouched; a row missing (fewer rows
    than ids asked for) is looked at id by id and named."""
    _pg_only(session)
    cp = _ledger(world, session)
    assert ledger.verify(session, since=cp).ok
    session.rollback()
    gone = session.execute(text("SELECT max(subject_id::int) FROM events WHERE seq > :s AND subject_type = 'transfer'"),
                           {"s": cp}).scalar_one()
    session.execute(text("DELETE FROM registry_transfers WHERE id = :i"), {"i": gone})
    session.commit()
    problems = [str(p) for p in ledger.verify(session, since=cp).problems]
    assert [p for p in problems if "differs" in p] == [p for p in problems if f"transfer {gone} differs" in p] != []


def _touched_blocks(session, cp):
    """(serial block id, seq) of the blocks the events after `cp` vouch for."""
    out = []
    for seq, payload in session.execute(text("SELECT seq, payload_json FROM events WHERE seq > :s"), {"s": cp}):
        for key in (json.loads(payload).get("states") or {}):
            if key.startswith("serial_block:"):
                out.append((int(key.split(":")[1]), seq))
    return out


def test_verify_reads_the_same_instants_whatever_the_sessions_time_zone(world, session):
    """The verdict and the instants read do not depend on the transaction's time zone: the chain is read with it
    set to UTC (which the driver loads faster than a named zone), in a transaction whose zone was Shanghai's too."""
    _pg_only(session)
    _trade_world(world, session)
    before = [r[1] for r in ledger.chain_rows(session)]
    session.rollback()
    session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    shanghai = [r[1] for r in ledger.chain_rows(session)]
    assert shanghai == before  # (aware datetimes compare as instants)
    report = ledger.verify(session)
    assert report.ok and report.events == len(before)
    assert [r[1] for r in ledger.chain_rows(session)] == before
    session.rollback()
