"""The public ledger format against its golden vectors, tests/data/ledger_golden.json (docs/ledger-format.md).

(a) The platform's codec and Merkle tree reproduce every committed value, and so does an independent
    implementation written here from the document alone (the "spec_" functions), so the document is precise
    enough to re-implement.
(b) On SQLite and PostgreSQL, events written through the platform's own append path — `ledger.record` under a
    frozen platform clock, or pending rows sealed by `ledger.seal` — are stored byte for byte as the vectors say,
    and `ledger.verify` passes.
(c) A payload that is not its own canonical text is refused.
Finally, the vectors pin each choice of the format: any plausible other choice (key order, separators, escapes,
time format, Merkle hashing) fails them.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from ccer import ledger

from ccer.infra import clock, merkle
from ccer.infra.actor import Actor
from ccer.api.ledger import EventOut
from ccer.cli import main
from ccer.ledger import codec

GOLDEN = Path(__file__).resolve().parent / "data" / "ledger_golden.json"
#: the SHA-256 of the committed vectors. Regenerating them (tests/make_ledger_golden.py --write) is a change of the
#: public format that every verifier outside the platform must follow: it has to change this line too.
GOLDEN_SHA256 = "d9c8b2a7ded85924aaf4e85fa5742aacc8cdab4840b292f3a247e6df1ebde61b"

V = json.loads(GOLDEN.read_text(encoding="ascii"))
EVENTS = V["events"]
BLOCKS = V["merkle"]["holdings"]["subject_type"]
#: the vectors' serial blocks: their Merkle tree keeps the live ones, as the registry's serial_block does
KEEP_ACTIVE = ledger.SubjectType(BLOCKS, snapshot=None, all_ids=None, merkle=lambda state: bool(state["active"]))


def _at(v: dict) -> datetime:
    return datetime.fromisoformat(v["occurred_at"])


def _hash_args(v: dict) -> tuple:
    return (v["seq"], _at(v), v["actor_user_id"], v["actor"], v["subject_type"], v["subject_id"], v["action"],
            v["payload_json"], v["prev_hash"])


def test_the_vectors_are_the_committed_ones():
    raw = GOLDEN.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == GOLDEN_SHA256
    assert raw.isascii()  # every non-ASCII character escaped: no editor or transcoding can alter a vector
    assert V["genesis"] == ledger.GENESIS == "0" * 64
    assert len(EVENTS) == 5 and [v["seq"] for v in EVENTS] == [1, 2, 3, 4, 5]


# ---- (a) the platform's codec and Merkle tree reproduce every value ------------------------------------------------


@pytest.mark.parametrize("case", V["canonical"], ids=[c["name"] for c in V["canonical"]])
def test_canonical_json_of_parsed_text(case):
    assert ledger.canonical(json.loads(case["input"])) == case["canonical"]
    assert ledger.is_canonical(case["canonical"])
    assert ledger.is_canonical(case["input"]) is (case["input"] == case["canonical"])


@pytest.mark.parametrize("case", V["plain"], ids=[f"{c['type'][:8]}:{c['input']}" for c in V["plain"]])
def test_values_that_are_not_json(case):
    from decimal import Decimal
    from datetime import date

    kind = case["type"]
    if kind == "decimal":
        value = Decimal(case["input"])
    elif kind == "datetime":
        value = datetime.fromisoformat(case["input"])
    elif kind == "date":
        value = date.fromisoformat(case["input"])
    else:
        value = dict(case["input"])  # a mapping with integer keys, given as pairs
    assert ledger.plain(value) == case["plain"]
    assert ledger.canonical(value) == case["canonical"]


@pytest.mark.parametrize("v", EVENTS, ids=[f"seq{v['seq']}" for v in EVENTS])
def test_event_payload_and_hash(v):
    assert ledger.canonical(v["payload"]) == v["payload_json"]
    assert ledger.is_canonical(v["payload_json"])
    assert json.loads(v["payload_json"]) == v["payload"]
    assert codec.plain(_at(v)) == v["occurred_at"]
    assert codec.dumps(codec.event_content(*_hash_args(v))) == v["hashed"]
    assert ledger.event_hash(*_hash_args(v)) == v["hash"] == ledger.sha256(v["hashed"])


def test_the_chain_links_from_genesis_to_the_head():
    prev = V["genesis"]
    for v in EVENTS:
        assert v["prev_hash"] == prev
        prev = v["hash"]
    assert V["head"] == {"seq": 5, "hash": prev}


@pytest.mark.parametrize("name", list(V["merkle"]["trees"]))
def test_merkle_trees(name):
    t = V["merkle"]["trees"][name]
    assert merkle.root(t["leaves"]) == t["root"]
    assert [merkle.leaf_hash(x).hex() for x in t["leaves"]] == t["leaf_hashes"]
    assert [[h.hex() for h in level] for level in (merkle._levels(t["leaves"]) if t["leaves"] else [])] == t["levels"]
    for index, path in t.get("proofs", {}).items():
        assert merkle.proof(t["leaves"], int(index)) == [tuple(step) for step in path]
        assert merkle.verify_proof(t["leaves"][int(index)], [tuple(step) for step in path], t["root"])
    if name == "empty":
        assert t["root"] == hashlib.sha256(b"").hexdigest()


def test_the_holdings_replayed_from_the_events():
    """The live blocks the chain vouches for after event 5, as Merkle leaves "id|canonical state" in natural id
    order (2, 10, 13 — not 10, 13, 2), and their root, through the platform's own replay."""
    h = V["merkle"]["holdings"]
    events = [ledger.Event(seq=v["seq"], subject_type=v["subject_type"], subject_id=v["subject_id"], payload_json=v["payload_json"])
              for v in EVENTS]
    states = {}
    for ev in events:
        for name, sid, state in ledger.vouched(ev):
            if name == BLOCKS:
                states[sid] = state
    assert states == h["states"]
    assert ledger.merkle_leaves(KEEP_ACTIVE, states) == h["leaves"]
    assert [leaf.split("|", 1)[0] for leaf in h["leaves"]] == ["2", "10", "13"]
    assert merkle.root(h["leaves"]) == h["root"]
    assert merkle.proof(h["leaves"], 1) == [tuple(step) for step in h["proofs"]["1"]]


def test_the_exported_checkpoint_checks_offline(tmp_path):
    export = V["export"]
    assert export["roots"] == {BLOCKS: V["merkle"]["holdings"]["root"]} and export["head_hash"] == V["head"]["hash"]
    path = tmp_path / "cp.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    ok = CliRunner().invoke(main, ["ledger", "check-export", str(path)])
    assert ok.exit_code == 0, ok.output
    assert f"checkpoint #5 head {V['head']['hash']}" in ok.output and "3 golden_block" in ok.output
    export["leaves"][BLOCKS][1] = export["leaves"][BLOCKS][1].replace('"account_id":8', '"account_id":7')
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    bad = CliRunner().invoke(main, ["ledger", "check-export", str(path)])
    assert bad.exit_code == 1 and "do not hash to the recorded root" in bad.output


# ---- (a) an independent implementation, from docs/ledger-format.md alone ----------------------------------------

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def spec_string(s: str) -> str:
    """§ Canonical JSON: a string is quoted; " \\ and \\b \\f \\n \\r \\t take their two-character escapes, other
    characters below U+0020 are \\u00xx (lowercase hex), everything else is itself."""
    return '"' + "".join(_SHORT_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in s) + '"'


def spec_canonical(value) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return spec_string(value)
    if isinstance(value, list):
        return "[" + ",".join(spec_canonical(x) for x in value) + "]"
    keys = sorted(value, key=lambda k: [ord(c) for c in k])  # by Unicode code point
    return "{" + ",".join(spec_string(k) + ":" + spec_canonical(value[k]) for k in keys) + "}"


def spec_event_hash(v: dict) -> str:
    """§ Event hash: SHA-256 of the UTF-8 of this object, its keys in this (sorted) order, the payload as a string."""
    uid = "null" if v["actor_user_id"] is None else str(v["actor_user_id"])
    preimage = (f'{{"action":{spec_string(v["action"])},"actor":{spec_string(v["actor"])},"actor_user_id":{uid},'
                f'"occurred_at":{spec_string(v["occurred_at"])},"payload":{spec_string(v["payload_json"])},'
                f'"prev_hash":{spec_string(v["prev_hash"])},"seq":{v["seq"]},"subject_id":{spec_string(v["subject_id"])},'
                f'"subject_type":{spec_string(v["subject_type"])}}}')
    assert preimage == v["hashed"]
    return hashlib.sha256(preimage.encode("utf-8")).hexdigest()


def spec_merkle_root(leaves: list[str]) -> str:
    """§ Merkle tree: leaf = SHA-256(0x00 ‖ UTF-8), node = SHA-256(0x01 ‖ left ‖ right) over raw 32-byte digests,
    pairs from the left, an odd last node carried up unchanged; no leaves: SHA-256 of nothing."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + leaf.encode("utf-8")).digest() for leaf in leaves]
    while len(level) > 1:
        pairs = [level[i:i + 2] for i in range(0, len(level), 2)]
        level = [hashlib.sha256(b"\x01" + p[0] + p[1]).digest() if len(p) == 2 else p[0] for p in pairs]
    return level[0].hex()


def rfc6962_mth(leaves: list[str]) -> bytes:
    """§ Merkle tree: the same root as RFC 6962's Merkle Tree Hash (§2.1), which splits at the largest power of two."""
    if len(leaves) <= 1:
        return hashlib.sha256(b"\x00" + leaves[0].encode("utf-8") if leaves else b"").digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_mth(leaves[:k]) + rfc6962_mth(leaves[k:])).digest()


def spec_occurred_at(at: datetime) -> str:
    """§ Instants: UTC, YYYY-MM-DDTHH:MM:SS, then .ffffff only when the microseconds are not zero, then +00:00."""
    u = at.astimezone(timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S") + (f".{u.microsecond:06d}" if u.microsecond else "") + "+00:00"


def test_an_independent_implementation_reproduces_the_vectors():
    for case in V["canonical"]:
        assert spec_canonical(json.loads(case["input"])) == case["canonical"], case["name"]
    prev = V["genesis"]
    for v in EVENTS:
        assert spec_canonical(json.loads(v["payload_json"])) == v["payload_json"]
        assert spec_occurred_at(_at(v)) == v["occurred_at"]
        assert v["prev_hash"] == prev
        prev = spec_event_hash(v)
        assert prev == v["hash"]
    for t in [*V["merkle"]["trees"].values(), V["merkle"]["holdings"]]:
        assert spec_merkle_root(t["leaves"]) == t["root"] == rfc6962_mth(t["leaves"]).hex()
    h = V["merkle"]["holdings"]
    natural = sorted(h["states"], key=lambda sid: (len(sid), sid))
    assert [f"{sid}|{spec_canonical(h['states'][sid])}" for sid in natural if h["states"][sid]["active"]] == h["leaves"]


# ---- (b) the platform's append path stores them byte for byte, on both databases --------------------------------


def _actor_rows(session) -> None:
    """The user events 2 and 3 name (events.actor_user_id is a foreign key), inserted directly; two events after
    the golden ones vouch for them, so that `verify`'s state cross-check passes."""
    from ccer.auth.models import Organisation, User

    at = datetime(2025, 9, 1, tzinfo=timezone.utc)
    session.add(Organisation(id=1, uscc="914403001922038216", name="甲公司", status="active", created_at=at))
    session.flush()
    session.add(User(id=1, username="owner1", display_name="业主一", password_hash="golden vectors: not a password hash",
                     organisation_id=1, is_active=True, created_at=at))
    session.flush()


def _stored(session) -> list[tuple]:
    length = "octet_length(payload_json)" if session.get_bind().dialect.name == "postgresql" else "length(CAST(payload_json AS BLOB))"
    return session.execute(text(f"SELECT seq, actor_user_id, actor, subject_type, subject_id, action, payload_json, {length} AS n, "
                                "prev_hash, hash FROM events ORDER BY seq")).all()


@pytest.mark.parametrize("path", ["record", "seal"])
def test_the_platform_stores_the_vectors_byte_for_byte(session, path):
    _actor_rows(session)
    for v in EVENTS:
        if path == "record":  # the platform's append path: the clock frozen at the event's instant, given in Beijing time
            clock.set_time(session, _at(v).astimezone(clock.CST), freeze=True)
            ledger.record(session, Actor(label=v["actor"], user_id=v["actor_user_id"]), v["action"], v["subject_type"],
                          v["subject_id"], v["payload"])
        else:  # pending rows, as a transaction that found the head taken leaves them, sealed afterwards in id order
            session.add(ledger.Event(occurred_at=_at(v), actor_user_id=v["actor_user_id"], actor=v["actor"], subject_type=v["subject_type"],
                                     subject_id=v["subject_id"], action=v["action"], payload_json=v["payload_json"]))
            session.flush()
    if path == "seal":
        assert len(ledger.pending(session)) == 5
        assert ledger.seal(session) == (0, 5)
    session.commit()

    rows = _stored(session)
    assert [(r.seq, r.actor_user_id, r.actor, r.subject_type, r.subject_id, r.action) for r in rows] == \
           [(v["seq"], v["actor_user_id"], v["actor"], v["subject_type"], v["subject_id"], v["action"]) for v in EVENTS]
    for r, v in zip(rows, EVENTS):
        assert r.payload_json.encode("utf-8") == v["payload_json"].encode("utf-8")
        assert r.n == len(v["payload_json"].encode("utf-8"))  # the bytes stored, counted by the database
        assert (r.prev_hash, r.hash) == (v["prev_hash"], v["hash"])
    stored = session.execute(select(ledger.Event).order_by(ledger.Event.seq)).scalars().all()
    assert [codec.plain(ev.occurred_at) for ev in stored] == [v["occurred_at"] for v in EVENTS]
    assert [ev.compute_hash() for ev in stored] == [v["hash"] for v in EVENTS]
    served = [EventOut().dump(ev) for ev in stored]  # what GET /api/v1/events serves a verifier
    assert [{k: e[k] for k in ("seq", "occurred_at", "payload_json", "prev_hash", "hash")} for e in served] == \
           [{k: v[k] for k in ("seq", "occurred_at", "payload_json", "prev_hash", "hash")} for v in EVENTS]
    assert ledger.head(session) == (5, V["head"]["hash"])

    system = Actor.system("test")
    ledger.record(session, system, "golden.fixture", "organisation", 1)
    ledger.record(session, system, "golden.fixture", "user", 1)
    session.commit()
    report = ledger.verify(session)
    assert report.ok, [str(p) for p in report.problems]
    assert report.events == 7 and report.subjects == 2
    h = V["merkle"]["holdings"]
    states = ledger.replayed_states(session, BLOCKS, 5)
    assert states == h["states"]
    assert ledger.merkle_leaves(KEEP_ACTIVE, states) == h["leaves"]
    assert merkle.root(ledger.merkle_leaves(KEEP_ACTIVE, states)) == h["root"]


# ---- (c) a payload that is not canonical is refused -------------------------------------------------------------


def _variants() -> dict[str, str]:
    one, two, four = EVENTS[0]["payload_json"], EVENTS[1]["payload_json"], EVENTS[3]["payload_json"]
    return {
        "a space after a colon": one.replace('"quantity":1500', '"quantity": 1500', 1),
        "a space after a comma": one.replace(",", ", ", 1),
        "keys out of order": '{"state":' + json.dumps(json.loads(one)["state"], sort_keys=True, separators=(",", ":")) +
                             ',"quantity":1500,' + one[one.index('"states"'):],
        "non-ASCII escaped": two.replace("海", "\\u6d77"),
        "slash escaped": two.replace("slash /", "slash \\/"),
        "uppercase hex escape": two.replace("\\u001f", "\\u001F"),
        "U+2028 escaped": two.replace("\u2028", "\\u2028"),
        "a trailing newline": one + "\n",
        "a byte order mark": "\ufeff" + one,
        "a Decimal as a number": four.replace('"12.50"', "12.50"),
        "a number with an exponent": four.replace('"price_fen":1250', '"price_fen":1.25e3'),
        "an integer with a plus sign": four.replace('"price_fen":1250', '"price_fen":+1250'),
        "not JSON": one[:-1],
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_non_canonical_payload_text_is_not_canonical(name):
    variant = _variants()[name]
    assert variant != EVENTS[0]["payload_json"] and variant not in {v["payload_json"] for v in EVENTS}
    assert not ledger.is_canonical(variant)


def test_verify_refuses_a_sealed_event_whose_payload_is_not_canonical(session):
    """Hashed and chained like any other (sealing hashes the stored text), yet refused: the format requires the
    payload to be its own canonical text, so that one event has one byte sequence."""
    v = EVENTS[0]
    session.add(ledger.Event(occurred_at=_at(v), actor_user_id=None, actor=v["actor"], subject_type=v["subject_type"],
                             subject_id=v["subject_id"], action=v["action"], payload_json=_variants()["a space after a colon"]))
    session.flush()
    ledger.seal(session)
    session.commit()
    report = ledger.verify(session)
    assert [str(p) for p in report.problems] == ["event #1: payload is not canonical JSON (docs/ledger-format.md)"]


# ---- the vectors pin every choice: another choice fails them ------------------------------------------------------


def _reproduced() -> bool:
    """Whether the platform's codec and Merkle tree still reproduce every vector."""
    try:
        for case in V["canonical"]:
            assert ledger.canonical(json.loads(case["input"])) == case["canonical"]
        for v in EVENTS:
            assert ledger.canonical(v["payload"]) == v["payload_json"]
            assert ledger.event_hash(*_hash_args(v)) == v["hash"]
        for t in [*V["merkle"]["trees"].values(), V["merkle"]["holdings"]]:
            assert merkle.root(t["leaves"]) == t["root"]
    except AssertionError:
        return False
    return True


def _go_style(text_: str) -> str:  # Go's encoding/json: HTML-safe escapes and U+2028/U+2029 escaped
    return (text_.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _utf16_sorted(obj):
    if isinstance(obj, dict):
        return {k: _utf16_sorted(obj[k]) for k in sorted(obj, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(obj, list):
        return [_utf16_sorted(x) for x in obj]
    return obj


OTHER_SERIALISERS = {
    "default separators": lambda o: json.dumps(o, sort_keys=True, ensure_ascii=False),
    "keys in insertion order": lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":")),
    "keys by UTF-16 unit (JavaScript's sort)": lambda o: json.dumps(_utf16_sorted(o), ensure_ascii=False, separators=(",", ":")),
    "ASCII only": lambda o: json.dumps(o, sort_keys=True, ensure_ascii=True, separators=(",", ":")),
    "uppercase hex escapes": lambda o: json.dumps(o, sort_keys=True, ensure_ascii=False, separators=(",", ":")).replace("\\u001f", "\\u001F"),
    "Go's encoding/json escapes": lambda o: _go_style(json.dumps(o, sort_keys=True, ensure_ascii=False, separators=(",", ":"))),
}


@pytest.mark.parametrize("name", list(OTHER_SERIALISERS))
def test_another_json_serialiser_fails_the_vectors(monkeypatch, name):
    assert _reproduced()
    monkeypatch.setattr(codec, "dumps", OTHER_SERIALISERS[name])
    assert not _reproduced()


OTHER_INSTANTS = {
    "Z for UTC": lambda at: at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
    "Beijing time": lambda at: at.astimezone(clock.CST).isoformat(),
    "always microseconds": lambda at: at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
    "milliseconds": lambda at: at.astimezone(timezone.utc).isoformat(timespec="milliseconds"),
    "trailing zeros trimmed": lambda at: at.astimezone(timezone.utc).isoformat().replace("500000+", "5+"),
    "a space for T": lambda at: at.astimezone(timezone.utc).isoformat(sep=" "),
}


@pytest.mark.parametrize("name", list(OTHER_INSTANTS))
def test_another_time_format_fails_the_vectors(monkeypatch, name):
    plain = codec.plain
    monkeypatch.setattr(codec, "plain", lambda obj: OTHER_INSTANTS[name](obj) if isinstance(obj, datetime) else plain(obj))
    assert not _reproduced()


def _levels_duplicating_the_odd_node(leaves):  # Bitcoin's rule: an odd last node is paired with itself
    level = [merkle.leaf_hash(x) for x in leaves]
    levels = [level]
    while len(level) > 1:
        level = [merkle._node(level[i], level[i + 1] if i + 1 < len(level) else level[i]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


OTHER_TREES = {
    "no leaf prefix": ("leaf_hash", lambda data: hashlib.sha256(data.encode("utf-8")).digest()),
    "no node prefix": ("_node", lambda left, right: hashlib.sha256(left + right).digest()),
    "nodes over hex text": ("_node", lambda left, right: hashlib.sha256(b"\x01" + (left.hex() + right.hex()).encode()).digest()),
    "odd node paired with itself": ("_levels", _levels_duplicating_the_odd_node),
}


@pytest.mark.parametrize("name", list(OTHER_TREES))
def test_another_merkle_tree_fails_the_vectors(monkeypatch, name):
    attribute, replacement = OTHER_TREES[name]
    monkeypatch.setattr(merkle, attribute, replacement)
    assert not _reproduced()
