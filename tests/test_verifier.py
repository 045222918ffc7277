"""The stand-alone verifier (verifier/, package ccer_verify): standard library and `cryptography` only, nothing of
the platform. Its test data: the golden vectors (tests/data/ledger_golden.json) made into an export by hand from
docs/ledger-format.md §9, and bad exports made from it — each must name its first bad line and exit non-zero.
(Exports made by the platform itself are checked in tests/test_ledger_verify.py.)"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VERIFIER = Path(__file__).resolve().parent.parent / "verifier"
sys.path.insert(0, str(VERIFIER))
import ccer_verify  # noqa: E402

HAVE_MSGSPEC = ccer_verify._accel is not None
GOLDEN = json.loads((Path(__file__).resolve().parent / "data" / "ledger_golden.json").read_text(encoding="ascii"))
EVENTS = GOLDEN["events"]


def _canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Key:
    def __init__(self, seed: bytes):
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.hex = raw.hex()
        self.id = ccer_verify.key_id(raw)

    def checkpoint(self, seq: int, head: str, roots: dict, **extra) -> str:
        sig = self.private.sign(_canon({"head_hash": head, "key_id": self.id, "roots": roots, "seq": seq}).encode()).hex()
        return _canon({"checkpoint": {"created_at": "2025-10-01T08:00:00+08:00", "head_hash": head, "key_id": self.id,
                                      "roots": roots, "seq": seq, "signature": sig, **extra}})


REGISTRY, OTHER = Key(b"\x42" * 32), Key(b"\x11" * 32)


def header(key: Key = REGISTRY, since=None) -> str:
    return _canon({"ccer_ledger_export": 1, "genesis": GOLDEN["genesis"],
                   "key": {"algorithm": "Ed25519", "key_id": key.id, "public_key": key.hex},
                   "rooted": {GOLDEN["merkle"]["holdings"]["subject_type"]: "active"}, "since": since})


def event_line(v: dict) -> str:
    """§9: the hashed object of §3 (the payload as its text) plus the hash."""
    return _canon({"action": v["action"], "actor": v["actor"], "actor_user_id": v["actor_user_id"], "hash": v["hash"],
                   "occurred_at": v["occurred_at"], "payload": v["payload_json"], "prev_hash": v["prev_hash"],
                   "seq": v["seq"], "subject_id": v["subject_id"], "subject_type": v["subject_type"]})


def golden_export(key: Key = REGISTRY, leaves: bool = False) -> list[str]:
    exp = GOLDEN["export"]
    extra = {"leaves": exp["leaves"]} if leaves else {}
    return [header(key), *map(event_line, EVENTS), key.checkpoint(5, exp["head_hash"], exp["roots"], **extra),
            _canon({"end": {"events": 5, "head_hash": GOLDEN["head"]["hash"], "seq": 5}})]


def check(lines: list[str], raw: bytes | None = None, **kw):
    data = raw if raw is not None else "".join(line + "\n" for line in lines).encode("utf-8")
    return ccer_verify.verify(data.splitlines(keepends=True), **kw)


def bad(lines: list[str], raw: bytes | None = None, **kw) -> ccer_verify.BadLine:
    with pytest.raises(ccer_verify.BadLine) as err:
        check(lines, raw, **kw)
    return err.value


def rechain(events: list[dict]) -> list[dict]:
    """Recompute prev_hash and hash (§3) after editing events: only the check aimed at is then left to fail."""
    prev, out = GOLDEN["genesis"], []
    for v in events:
        v = dict(v, prev_hash=prev)
        body = {k: v[k] for k in ("action", "actor", "actor_user_id", "occurred_at", "prev_hash", "seq", "subject_id", "subject_type")}
        body["payload"] = v["payload_json"]
        v["hash"] = prev = __import__("hashlib").sha256(_canon(body).encode()).hexdigest()
        out.append(v)
    return out


@pytest.fixture(params=["compiled", "msgspec", "stdlib"])
def accel(request, monkeypatch):
    """Each check three ways: with the compiled accelerator (_fast.c, msgspec behind it for what it hands back), with
    msgspec alone, and with the standard library alone."""
    if request.param == "compiled":
        if ccer_verify._fast is None:
            pytest.skip("the compiled accelerator was not built")
    else:
        monkeypatch.setattr(ccer_verify, "COMPILED", False)
    if request.param == "msgspec":
        if not HAVE_MSGSPEC:
            pytest.skip("msgspec is not installed (the extra `fast`)")
    elif request.param == "stdlib":
        monkeypatch.setattr(ccer_verify, "FAST", False)
    return request.param


# ---- the golden vectors ----------------------------------------------------------------------------------------------


def test_the_golden_vectors_verify(accel):
    r = check(golden_export(), key=REGISTRY.hex)
    assert (r.events, r.first_seq, r.last_seq, r.head_hash) == (5, 1, 5, GOLDEN["head"]["hash"])
    assert r.checkpoints == 1 and r.roots_checked == 1 and r.unanchored == 0 and r.key_id == REGISTRY.id
    assert check(golden_export(leaves=True), key=REGISTRY.hex).roots_checked == 1


def test_the_verifier_reproduces_the_vectors_pieces():
    for case in GOLDEN["canonical"]:
        assert ccer_verify.canonical(json.loads(case["input"])) == case["canonical"], case["name"]
    for name, t in GOLDEN["merkle"]["trees"].items():
        assert ccer_verify.merkle_root([ccer_verify.leaf_hash(x) for x in t["leaves"]]) == t["root"], name
    for v in EVENTS:  # the line without its hash member is the hashed text
        line = event_line(v)
        i = line.index(',"hash":"')
        assert line[:i] + line[i + 74:] == v["hashed"]


def test_an_export_since_a_checkpoint_with_its_leaves(accel):
    """Events 4 and 5 after a checkpoint at #3 that carries its leaves: the roots of #5 are recomputed from them."""
    holdings = GOLDEN["merkle"]["holdings"]
    states3 = {}
    for v in EVENTS[:3]:
        p = json.loads(v["payload_json"])
        for k, state in p.get("states", {}).items():
            name, _, sid = k.partition(":")
            if name == holdings["subject_type"]:
                states3[sid] = state
    leaves3 = [f"{sid}|{_canon(state)}" for sid, state in sorted(states3.items(), key=lambda kv: (len(kv[0]), kv[0]))
               if state["active"]]
    root3 = ccer_verify.merkle_root([ccer_verify.leaf_hash(x) for x in leaves3])
    h3 = EVENTS[2]["hash"]
    name = holdings["subject_type"]
    lines = [header(since={"head_hash": h3, "seq": 3}), REGISTRY.checkpoint(3, h3, {name: root3}, leaves={name: leaves3}),
             event_line(EVENTS[3]), event_line(EVENTS[4]), REGISTRY.checkpoint(5, GOLDEN["head"]["hash"], GOLDEN["export"]["roots"]),
             _canon({"end": {"events": 2, "head_hash": GOLDEN["head"]["hash"], "seq": 5}})]
    r = check(lines, key=REGISTRY.hex, trust={"seq": 3, "head_hash": h3})
    assert (r.first_seq, r.last_seq, r.events, r.roots_checked) == (4, 5, 2, 1)
    lines[1] = REGISTRY.checkpoint(3, h3, {name: root3}, leaves={name: leaves3[1:]})
    assert bad(lines, key=REGISTRY.hex).line == 2


# ---- bad input: the first bad line named, nothing repaired -------------------------------------------------------------


def test_a_truncated_export(accel):
    lines = golden_export()
    raw = "".join(line + "\n" for line in lines).encode()
    cut = bad(lines, raw[: raw.index(b"\n", len(raw) // 2) + 20])  # in the middle of a line
    assert "does not end" in cut.message
    gone = bad(lines[:-1])  # at a line's end: the last line is missing
    assert gone.line == 8 and "truncated" in gone.message
    short = bad(lines[:4])
    assert short.line == 5 and "truncated" in short.message
    assert "empty" in bad([], b"").message


def test_a_reordered_export(accel):
    lines = golden_export()
    lines[2], lines[3] = lines[3], lines[2]
    e = bad(lines)
    assert e.line == 3 and "expected event #2" in e.message
    moved = golden_export()
    moved.insert(4, moved.pop(6))  # the checkpoint before its event
    assert bad(moved).line == 5


def test_a_wrong_signature(accel):
    lines = golden_export()
    cp = json.loads(lines[6])
    sig = cp["checkpoint"]["signature"]
    cp["checkpoint"]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    lines[6] = _canon(cp)
    e = bad(lines, key=REGISTRY.hex)
    assert e.line == 7 and "signature does not verify" in e.message


def test_a_checkpoint_from_another_registry_key(accel):
    lines = golden_export()
    lines[6] = OTHER.checkpoint(5, GOLDEN["export"]["head_hash"], GOLDEN["export"]["roots"])
    e = bad(lines, key=REGISTRY.hex)
    assert e.line == 7 and "not the registry key" in e.message
    theirs = golden_export(key=OTHER)  # a whole export under another key: refused at its first line
    e = bad(theirs, key=REGISTRY.hex)
    assert e.line == 1 and "not the registry key you gave" in e.message


def test_a_payload_that_is_not_canonical(accel):
    events = [dict(v) for v in EVENTS]
    events[2]["payload_json"] = events[2]["payload_json"].replace(",", ", ", 1)
    lines = golden_export()
    lines[1:6] = map(event_line, rechain(events))
    e = bad(lines)
    assert e.line == 4 and "payload is not canonical" in e.message


def test_a_line_that_is_not_canonical_or_not_json(accel):
    lines = golden_export()
    lines[2] = lines[2].replace('"actor":', '"actor": ', 1)
    assert bad(lines).line == 3 and "not canonical" in bad(lines).message
    lines = golden_export()
    lines[5] = lines[5][:-1]
    assert bad(lines).line == 6 and "not JSON" in bad(lines).message


def test_an_altered_event_and_an_altered_root(accel):
    lines = golden_export()
    lines[3] = lines[3].replace('"actor":"system"', '"actor":"mallory"') if '"actor":"system"' in lines[3] else \
        lines[3].replace('"actor":"', '"actor":"x', 1)
    e = bad(lines)
    assert e.line == 4 and "does not hash to its hash" in e.message
    lines = golden_export()
    roots = {k: "0" * 64 for k in GOLDEN["export"]["roots"]}
    lines[6] = REGISTRY.checkpoint(5, GOLDEN["export"]["head_hash"], roots)  # signed, but not what the events replay to
    e = bad(lines, key=REGISTRY.hex)
    assert e.line == 7 and "Merkle root" in e.message


def test_a_rewrite_is_caught_through_a_checkpoint_kept_outside(accel):
    kept = {"seq": 3, "head_hash": EVENTS[2]["hash"]}
    events = [dict(v) for v in EVENTS]
    events[0]["actor"] = "rewritten"
    new = rechain(events)
    lines = [header(), *map(event_line, new), _canon({"end": {"events": 5, "head_hash": new[-1]["hash"], "seq": 5}})]
    assert check(lines).events == 5  # consistent in itself …
    e = bad(lines, trust=kept)  # … but not with what was kept
    assert e.line == 4 and "rewritten" in e.message
    short = [header(), *map(event_line, EVENTS[:2]), _canon({"end": {"events": 2, "head_hash": EVENTS[1]["hash"], "seq": 2}})]
    assert "cut short" in bad(short, trust=kept).message


def test_the_command_exits_non_zero_naming_the_line(tmp_path):
    good, broken = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("".join(line + "\n" for line in golden_export()), encoding="utf-8")
    lines = golden_export()
    lines[2], lines[3] = lines[3], lines[2]
    broken.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "ccer_verify", *a], cwd=VERIFIER, capture_output=True, text=True)  # noqa: E731
    ok = run(str(good), "--key", REGISTRY.hex)
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 5 events"), ok.stderr
    no_key = run(str(good))
    assert no_key.returncode == 0 and "trusting the key the export names" in no_key.stderr
    fail = run(str(broken), "--key", REGISTRY.hex)
    assert fail.returncode == 1 and fail.stderr.startswith("FAIL line 3: ")
    assert run(str(good), "--key", "not-a-key").returncode == 2
    assert run(str(tmp_path / "missing.jsonl")).returncode == 2


def test_it_needs_nothing_of_the_platform():
    code = ("import sys, ccer_verify, ccer_verify.__main__; "
            "print(sorted(m for m in sys.modules if m == 'ccer' or m.startswith('ccer.')))")
    out = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path[:0] = " + repr([str(VERIFIER)] + [p for p in sys.path if "site-packages" in p]) + "; " + code],
                         capture_output=True, text=True, cwd=VERIFIER)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
    for src in (VERIFIER / "ccer_verify").glob("*.py"):
        text = src.read_text(encoding="utf-8")
        assert "import ccer\n" not in text and "from ccer" not in text and "import ccer." not in text
    meta = (VERIFIER / "pyproject.toml").read_text()
    assert 'dependencies = ["cryptography' in meta and 'name = "ccer-verify"' in meta


@pytest.mark.parametrize("jobs", [1, 2])
def test_chunks_and_processes_give_the_same_answers(monkeypatch, jobs, accel):
    """Lines are checked in chunks, side by side with --jobs; what links the chunks is checked in order, so the
    first bad line is named whatever the chunk it falls in."""
    monkeypatch.setattr(ccer_verify, "CHUNK", 300)  # a few lines a chunk
    good = golden_export(leaves=True)
    assert check(good, key=REGISTRY.hex, jobs=jobs).roots_checked == 1
    cases = {3: "expected event #2", 7: "signature does not verify", 8: "truncated"}
    swapped = golden_export()
    swapped[2], swapped[3] = swapped[3], swapped[2]
    broken = golden_export()
    cp = json.loads(broken[6])
    cp["checkpoint"]["signature"] = "0" * 128
    broken[6] = _canon(cp)
    for lines, line in ((swapped, 3), (broken, 7), (golden_export()[:-1], 8)):
        e = bad(lines, key=REGISTRY.hex, jobs=jobs)
        assert e.line == line and cases[line] in e.message
    after = golden_export() + [golden_export()[1]]
    assert "after the export's last line" in bad(after, jobs=jobs).message


# ---- the optional accelerator (msgspec) and the stdlib give the same answers ------------------------------------------

needs_msgspec = pytest.mark.skipif(not HAVE_MSGSPEC, reason="msgspec is not installed (the extra `fast`)")


def test_the_accelerator_is_used_when_installed(monkeypatch):
    """So that the parametrised tests above do test two paths: with msgspec the standard library parses only the
    header, the checkpoint and the last line of the vectors' export (every event line and payload is judged by
    msgspec, none falls back); without it, all eight lines and five payloads."""
    if not HAVE_MSGSPEC:
        pytest.skip("msgspec is not installed")
    calls = {"line": 0, "payload": 0, "rest": 0}
    parse, payload, rest = ccer_verify._parse, ccer_verify._payload, ccer_verify._event_rest

    def counted(name, f):
        def call(*a):
            calls[name] += 1
            return f(*a)
        return call

    monkeypatch.setattr(ccer_verify, "_parse", counted("line", parse))
    monkeypatch.setattr(ccer_verify, "_payload", counted("payload", payload))
    monkeypatch.setattr(ccer_verify, "_event_rest", counted("rest", rest))
    if ccer_verify._fast is not None:  # the compiled accelerator takes every event line whole
        check(golden_export(), key=REGISTRY.hex)
        assert calls == {"line": 3, "payload": 0, "rest": 0}
        monkeypatch.setattr(ccer_verify, "COMPILED", False)
        calls.update(line=0, payload=0)
    check(golden_export(), key=REGISTRY.hex)
    assert calls == {"line": 3, "payload": 0, "rest": 5}
    calls.update(line=0, payload=0, rest=0)
    monkeypatch.setattr(ccer_verify, "FAST", False)
    check(golden_export(), key=REGISTRY.hex)
    assert calls == {"line": 8, "payload": 5, "rest": 5}


@needs_msgspec
def test_the_accelerator_writes_every_character_as_the_standard_library():
    """§2.3, exhaustively: every Unicode scalar value, as an object key (keys sorted by code point, §2.2) and as a
    string, is written by msgspec byte for byte as by json.dumps(sort_keys, ensure_ascii=False), and read back."""
    accel = ccer_verify._accel
    for start in range(0, 0x110000, 0x1000):
        chars = [chr(c) for c in range(start, start + 0x1000) if not 0xD800 <= c <= 0xDFFF]
        if not chars:
            continue
        value = {c: [c, "a" + c + "\\"] for c in reversed(chars)}  # made in reverse: the keys must be sorted
        text = _canon(value).encode("utf-8")
        assert accel.ENCODE(value) == text, hex(start)
        assert accel.DECODE(text) == value, hex(start)
    spread = {chr(c): c for c in range(1, 0x110000, 251) if not 0xD800 <= c <= 0xDFFF}  # keys across all planes
    assert accel.ENCODE(spread) == _canon(spread).encode("utf-8")
    # the examples of §2: U+FF01 before U+1F600 (code points, not UTF-16 units); lowercase \u00xx; / U+2028 as such
    assert accel.ENCODE({"😀": 1, "！": 2}) == '{"！":2,"😀":1}'.encode()
    assert accel.ENCODE(["\x0b\x1f\b\f\n\r\t\"\\/\x7f\u2028\u2029\ufeff"]) == \
        '["\\u000b\\u001f\\b\\f\\n\\r\\t\\"\\\\/\x7f\u2028\u2029\ufeff"]'.encode()
    assert accel.ENCODE([9007199254740993, -(2 ** 200)]) == f"[9007199254740993,{-(2 ** 200)}]".encode()


def _verdict(text: str, fast: bool):
    """(True, the value's canonical text) when the payload text is canonical, else False."""
    try:
        value, _ = ccer_verify._payload(text, ccer_verify._accel if fast else None)
    except ValueError:
        return False
    return True, ccer_verify.canonical(value)


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2 ** 300), max_value=2 ** 300),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=16)
#: edits that make canonical text non-canonical, or other canonical text, or not JSON
_SNIPPETS = [" ", "\\", '"', "\\/", "/", "0", "-", "-0", ".", "e", "E", "+", ".0", "e5", ",", ":", "{}", "[]", "}", "]", "\u2028",
             "\x7f", "\x1f", "é", "e\u0301", "\\u00e9", "\\u00E9", "\\ud800", "\\ud83d\\ude00", "😀", "1.0", "\x00", "\\n", "\n",
             "\ufeff", "null", "true", "NaN", "Infinity", "1e400", "99999999999999999999"]


def _perturb(text: str, data) -> str:
    pos = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["insert", "replace", "delete", "swap"]))
    if kind == "delete" or kind == "swap" and pos + 1 >= len(text):
        return text[:pos] + text[pos + 1:]
    if kind == "swap":
        return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2:]
    bit = data.draw(st.sampled_from(_SNIPPETS))
    return text[:pos] + bit + text[pos + (kind == "replace"):]


@needs_msgspec
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_json, data=st.data())
def test_fast_and_stdlib_verdicts_agree_on_payloads(value, data):
    """Random JSON values (unicode keys and strings, big integers, floats): the canonical text is canonical both
    ways (with a float the accelerator declines and the stdlib decides), and a perturbed text gets the same
    verdict and the same value both ways."""
    text = _canon(value)
    assert _verdict(text, True) == _verdict(text, False) == (True, text)
    for _ in range(3):
        bad = _perturb(text, data)
        assert _verdict(bad, True) == _verdict(bad, False), bad


_states = st.dictionaries(st.sampled_from(["serial_block:1", "serial_block:2", "serial_block:10", "serial_block:007",
                                           "serial_block:x", "serial_block:١", "project:3", "serial_block", "serial_block:a:b"]),
                          st.one_of(st.fixed_dictionaries({"active": st.sampled_from([True, False, 1, None])},
                                                          optional={"n": _json, "名": st.text(max_size=4)}), _json),
                          max_size=4)
_payloads = st.fixed_dictionaries({}, optional={"state": _json, "states": _states, "x": _json, "列": st.text(max_size=4)})


@needs_msgspec
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(_payloads, min_size=1, max_size=5), uids=st.lists(st.one_of(st.none(), st.integers()), min_size=5, max_size=5),
       subjects=st.lists(st.sampled_from(["1", "10", "0", "01", "x", "serial_block"]), min_size=5, max_size=5), data=st.data())
def test_fast_and_stdlib_check_event_lines_alike(payloads, uids, subjects, data):
    """Whole chunks of event lines (chained, with vouched serial-block states), canonical and then perturbed — in a
    line or in a payload before the line is hashed — give the same ops, leaves, counts and first error both ways."""
    events = []
    for i, p in enumerate(payloads):
        text = _canon(p)
        if data.draw(st.booleans()) and i == len(payloads) - 1:
            text = _perturb(text, data)  # a payload that may not be canonical, its line hashed as it is
        events.append({"action": "a.b", "actor": data.draw(st.text(max_size=4)), "actor_user_id": uids[i],
                       "occurred_at": "2025-09-15T00:00:00+00:00", "payload_json": text, "seq": i + 1,
                       "subject_id": subjects[i], "subject_type": data.draw(st.sampled_from(["serial_block", "project"]))})
    lines = [event_line(v) for v in rechain(events)]
    if data.draw(st.booleans()):
        k = data.draw(st.integers(0, len(lines) - 1))
        lines[k] = _perturb(lines[k], data)
    raw = "".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass")
    rooted = {"serial_block": "active"}
    fast = ccer_verify._check_chunk((raw, rooted, 3, True, False))
    slow = ccer_verify._check_chunk((raw, rooted, 3, False, False))
    if ccer_verify._fast is not None:  # the compiled accelerator: the same ops, the same first bad line
        assert ccer_verify._check_chunk((raw, rooted, 3, False, True)) == slow
    assert fast == slow


def test_the_merkle_tree_kept_between_roots_gives_the_full_roots():
    """§6: roots recomputed from the tree kept since the last root equal roots computed from scratch, after sets,
    re-sets and removals anywhere (and with ids that are not integers, natural order)."""
    import hashlib
    import random

    rnd = random.Random(20)
    tree = ccer_verify._Rooted("active")
    for step in range(80):
        if step % 12 == 6:  # most leaves gone (the tree loses levels), to grow back with other leaves
            for key in rnd.sample(sorted(tree.leaves, key=str), k=len(tree.leaves) * 9 // 10):
                del tree.leaves[key]
                tree.changed.append(key)
        for _ in range(rnd.choice([0, 1, 5, 40, 120])):
            key = rnd.randrange(300) if step < 60 else rnd.choice([rnd.randrange(300), f"x{rnd.randrange(9)}"])
            if rnd.random() < 0.3:
                tree.leaves.pop(key, None)
            else:
                tree.leaves[key] = hashlib.sha256(f"{key}.{step}".encode()).digest()
            tree.changed.append(key)
        keys = sorted(tree.leaves, key=lambda k: (len(str(k)), str(k)))  # natural order, spelt out
        assert tree.root() == ccer_verify.merkle_root([tree.leaves[k] for k in keys]), step


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_is_read_by_the_workers_in_ranges(tmp_path, monkeypatch, jobs, accel):
    """verify_file hands the workers byte ranges of the file, not its bytes: every line begins in exactly one range,
    lines longer than a range included, and the line numbers are those of the whole file."""
    path = tmp_path / "l.jsonl"
    lines = golden_export(leaves=True)
    path.write_bytes("".join(line + "\n" for line in lines).encode())
    sizes = [len(line.encode()) + 1 for line in lines]
    # ranges of a byte or a few (a line begins at each range's first or last byte), shorter than most lines, of one
    # line's length (a range begins where a line begins, after its newline, or one byte later), and whole lines
    for chunk in (1, 2, 3, 97, sizes[1], sizes[1] - 1, sizes[1] + 1, sizes[1] + sizes[2], 1 << 20):
        monkeypatch.setattr(ccer_verify, "CHUNK", chunk)
        r = ccer_verify.verify_file(str(path), key=REGISTRY.hex, jobs=jobs)
        assert (r.events, r.checkpoints, r.roots_checked, r.head_hash) == (5, 1, 1, GOLDEN["head"]["hash"]), chunk
    monkeypatch.setattr(ccer_verify, "CHUNK", 97)
    swapped = lines[:]
    swapped[3], swapped[4] = swapped[4], swapped[3]
    path.write_bytes("".join(line + "\n" for line in swapped).encode())
    with pytest.raises(ccer_verify.BadLine) as e:
        ccer_verify.verify_file(str(path), key=REGISTRY.hex, jobs=jobs)
    assert e.value.line == 4 and "expected event #3" in e.value.message
    path.write_bytes("".join(line + "\n" for line in lines).encode()[:-1])  # the last line without its newline
    with pytest.raises(ccer_verify.BadLine) as e:
        ccer_verify.verify_file(str(path), key=REGISTRY.hex, jobs=jobs)
    assert e.value.line == 8 and "does not end" in e.value.message


def test_it_works_without_msgspec(tmp_path):
    """The accelerators are optional: with msgspec not importable and the compiled module not built the verifier
    uses the standard library alone (and keeps its leaves in a dict)."""
    good = tmp_path / "good.jsonl"
    good.write_text("".join(line + "\n" for line in golden_export()), encoding="utf-8")
    code = ("import sys; sys.modules['msgspec'] = None; sys.modules['ccer_verify._fast'] = None; "
            "sys.path.insert(0, 'VERIFIER'); import ccer_verify; "
            "assert ccer_verify._accel is None and not ccer_verify.FAST and ccer_verify._fast is None; "
            "assert not ccer_verify.COMPILED; "
            "print(ccer_verify.verify_file('GOOD', key='KEY', jobs=2).events)")
    code = code.replace("VERIFIER", str(VERIFIER)).replace("GOOD", str(good)).replace("KEY", REGISTRY.hex)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "5", out.stderr


def test_the_three_paths_agree_on_the_review_cases():
    """A read-only review of _fast.c (session 9): a `states` key without a colon names the subject with the empty id
    (§5: split at the first colon, as the platform reads it) on every path; an id of 700 digits is kept as text, not
    a crash (Python's int-string limit); both give the same ops compiled, with msgspec and with the stdlib."""
    rooted = {"serial_block": "active"}
    events = [dict(EVENTS[0], subject_type="project", payload_json=_canon(p), seq=i + 1) for i, p in enumerate([
        {"states": {"serial_block": {"active": True, "x": 1}}},
        {"states": {"serial_block:" + "7" * 700: {"active": True}}, "state": {"active": True}},
        {"states": {"serial_block": {"active": False}, "serial_block:5": {"active": True}}}])]
    raw = "".join(event_line(v) + "\n" for v in rechain(events)).encode("utf-8")
    runs = [ccer_verify._check_chunk((raw, rooted, None, fast, compiled))
            for fast, compiled in ((False, False), (True, False), (False, True))]
    assert runs[0] == runs[1] == runs[2] and runs[0]["error"] is None and runs[0]["events"] == 3
    ops = [op for op in runs[0]["ops"] if op[0] == "serial_block"]
    assert ops == [("serial_block", {"7" * 700: ops[0][1]["7" * 700], 5: ops[0][1][5]}, [""])]


@pytest.mark.skipif(ccer_verify._fast is None, reason="the compiled accelerator was not built")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(st.one_of(st.integers(0, 70_000), st.sampled_from([200_000, 5_000_000, 2 ** 40, "x", "007"])),
                                   max_size=30),
                          st.lists(st.integers(0, 70_000), max_size=10)), min_size=1, max_size=4))
def test_flat_leaves_give_the_roots_of_the_dict(changes):
    """_FlatRooted (scratch arrays grown as ids come, far ids and text ids in a dict, roots by windows through cached
    chunk subtrees) gives _Rooted's roots (§6) after every interval of changes."""
    flat, plain = ccer_verify._FlatRooted("active"), ccer_verify._Rooted("active")
    for sets, dels in changes:
        s = {k: hashlib.sha256(repr(k).encode()).digest() for k in sets}
        flat.apply(dict(s), list(dels))
        plain.apply(dict(s), list(dels))
        assert flat.root() == plain.root()


@pytest.mark.skipif(ccer_verify._fast is None, reason="the compiled accelerator was not built")
def test_flat_leaves_forget_a_far_id_once_the_arrays_reach_it():
    """A review's case: an id kept in the dict while far beyond the arrays, which later grow past it, is then the
    arrays' — deleting it (or setting it again) must not leave the old leaf in the dict."""
    for last in ("delete", "set"):
        flat, plain = ccer_verify._FlatRooted("active"), ccer_verify._Rooted("active")
        h = {k: hashlib.sha256(str(k).encode()).digest() for k in (1_500_000, 1_100_000, 2_000_000)}
        steps = [({1_500_000: h[1_500_000]}, []), ({1_100_000: h[1_100_000]}, []), ({2_000_000: h[2_000_000]}, []),
                 ({}, [1_500_000]) if last == "delete" else ({1_500_000: b"\x07" * 32}, [])]
        for sets, dels in steps:
            flat.apply(dict(sets), list(dels))
            plain.apply(dict(sets), list(dels))
            assert flat.root() == plain.root()


@pytest.mark.skipif(ccer_verify._fast is None, reason="the compiled accelerator was not built")
def test_the_accelerator_reads_escapes_wherever_they_fall():
    """The payload in an event line is a JSON string of JSON: its escapes (a quote, a backslash, runs of them) at
    every offset of a 16-byte block, in payloads shorter and longer than a block. The compiled check proves each
    line itself (it hands none back to Python), with the seq, hash and prev_hash the line says — and the chunk gets
    the same ops as by the standard library."""
    notes = [("x" * k) + c + ("y" * m) for k in range(34) for c in ('"', "\\", '\\"', '""\\') for m in (0, 1, 15, 16, 17)]
    notes += ["", '"' * 40, "\\" * 40, 'é"中\\' * 9]
    events = [{"action": "a.b", "actor": "x", "actor_user_id": None, "occurred_at": "2025-09-15T00:00:00+00:00",
               "payload_json": _canon({"note": n, "state": {"active": True}}), "seq": i + 1, "subject_id": str(i),
               "subject_type": "serial_block"} for i, n in enumerate(notes)]
    events = rechain(events)
    for v in events:
        got = ccer_verify._fast.event_line(event_line(v).encode("utf-8"), (("serial_block", "active", {}),))
        assert got is not None and got[:3] == (v["seq"], v["hash"], v["prev_hash"]), v["payload_json"]
    raw = "".join(event_line(v) + "\n" for v in events).encode("utf-8")
    rooted = {"serial_block": "active"}
    assert ccer_verify._check_chunk((raw, rooted, 3, False, True)) == ccer_verify._check_chunk((raw, rooted, 3, False, False))


@pytest.mark.skipif(ccer_verify._fast is None, reason="the compiled accelerator was not built")
def test_event_lines_takes_the_lines_that_follow_on_and_stops_before_the_others():
    """The compiled check of many lines in one call (`_fast.event_lines`) takes the event lines that follow on from
    the one before them, each writing its rooted states; it stops before a gap, a break in the chain, the trusted
    seq, a line of another kind or one without its newline — with nothing of that line written — and the Python
    path decides it."""
    rooted = {"serial_block": "active"}
    events = [dict(EVENTS[0], subject_type="project", seq=i + 1,
                   payload_json=_canon({"states": {f"serial_block:{i}": {"active": True, "n": i}}})) for i in range(5)]
    lines = [event_line(v) for v in rechain(events)]
    hashes = [json.loads(line)["hash"] for line in lines]
    raw = "".join(line + "\n" for line in lines).encode("utf-8")
    after = [len("".join(line + "\n" for line in lines[:k]).encode("utf-8")) for k in range(6)]  # offset after k lines
    none = ccer_verify._NO_SEQ

    def run(data, seq, prev, trust=none):
        pending: dict = {}
        got = ccer_verify._fast.event_lines(data, after[1], (("serial_block", "active", pending),), seq, prev, trust)
        return got, sorted(pending)

    assert run(raw, 1, hashes[0]) == ((after[5], 4, 5, hashes[4]), [1, 2, 3, 4])
    assert run(raw, 1, hashes[0], trust=3) == ((after[2], 1, 2, hashes[1]), [1])  # the trusted event is the Python path's
    assert run(raw, 1, "0" * 64) == ((after[1], 0, 1, "0" * 64), [])  # prev_hash is not the hash before it
    assert run(raw, 2, hashes[0]) == ((after[1], 0, 2, hashes[0]), [])  # a gap: #3 expected
    assert run(raw[:-1], 1, hashes[0]) == ((after[4], 3, 4, hashes[3]), [1, 2, 3])  # the last line does not end
    checkpoint = raw[:after[3]] + b'{"checkpoint":{}}\n' + raw[after[3]:]
    assert run(checkpoint, 1, hashes[0]) == ((after[3], 2, 3, hashes[2]), [1, 2])
    # the verdicts are the Python path's: the same chunk results with the compiled check and without it
    for data in (raw, raw[:-1], checkpoint, raw[:after[2]] + raw[after[3]:]):
        assert ccer_verify._check_chunk((data, rooted, 3, False, True)) == ccer_verify._check_chunk((data, rooted, 3, False, False))


def test_a_kept_checkpoint_beyond_any_seq_gets_its_verdict(accel):
    """A kept checkpoint whose seq no export reaches — even past 64 bits, where the compiled check's seqs stop —
    is judged as any other: the export ends before it."""
    for seq in (10 ** 6, 2 ** 63, 10 ** 30):
        e = bad(golden_export(), key=REGISTRY.hex, trust={"seq": seq, "head_hash": "0" * 64})
        assert "before the checkpoint you kept" in e.message and "cut short" in e.message
