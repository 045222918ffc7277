"""Generator of tests/data/ledger_golden.json, the golden vectors of the public ledger format
(docs/ledger-format.md). Not part of the test run.

The committed JSON is the reference: tests/test_ledger_golden.py checks the platform against it, literally.
This script was run once to write it, from the platform's own codec and Merkle tree. Running it again and
committing a different file is a change of the public format, which every verifier outside the platform would
have to follow — and tests/test_ledger_golden.py pins the file's SHA-256 so that it cannot happen by accident.

    python tests/make_ledger_golden.py            # prints the file's SHA-256 if it is unchanged
    python tests/make_ledger_golden.py --write    # rewrites it (a format change: say so in the commit)

The file is pure ASCII (every non-ASCII character written as a \\uXXXX escape), so that no editor, terminal or
transcoding can alter the vectors; any JSON parser reads the exact strings back.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ccer.infra import merkle
from ccer.ledger.codec import GENESIS, canonical, dumps, event_content, event_hash, plain
from ccer.ledger.subjects import SubjectType, merkle_leaves

OUT = Path(__file__).resolve().parent / "data" / "ledger_golden.json"

#: the subject type of the vectors' serial blocks; its Merkle tree keeps live ("active") blocks, as the
#: registry's serial_block does
BLOCKS = "golden_block"
KEEP_ACTIVE = SubjectType(BLOCKS, snapshot=None, all_ids=None, merkle=lambda state: bool(state["active"]))


def block(first: int, last: int, account: int, status: str, active: bool, parent: int | None, vintage: int) -> dict:
    return {"account_id": account, "active": active, "first": first, "last": last, "parent_id": parent,
            "status": status, "vintage": vintage}


# ---- a short chain exercising the format's corners ---------------------------------------------------------

EVENTS = [
    {   # an issuance: the subject's state under "state", the blocks it created under "states"; whole second
        "occurred_at": "2025-09-15T00:00:00+00:00", "actor_user_id": None, "actor": "system",
        "subject_type": "golden_issuance", "subject_id": "1", "action": "golden.issued",
        "payload": {
            "state": {"batch": 1, "project_id": 3, "quantity": 1500, "vintages": [2023, 2024]},
            "states": {f"{BLOCKS}:2": block(1, 500, 7, "issued", True, None, 2023),
                       f"{BLOCKS}:9": block(501, 1500, 7, "issued", True, None, 2024)},
            "quantity": 1500,
        },
    },
    {   # text: Chinese, full-width punctuation, emoji (outside the BMP), characters JSON must escape (quote,
        # backslash, control characters) and ones it need not (slash, DEL, U+2028/U+2029, U+FEFF, a combining
        # accent — never normalised); keys that sort differently by code point and by UTF-16 unit; microseconds
        "occurred_at": "2025-09-15T01:02:03.123456+00:00", "actor_user_id": 1, "actor": "owner1",
        "subject_type": "golden_note", "subject_id": "甲-1", "action": "golden.noted",
        "payload": {
            "title": "海上风电（示范）项目 “一期” — 😀",
            "escaped": "quote \" backslash \\ newline \n tab \t return \r backspace \b formfeed \f nul \x00 unit-sep \x1f",
            "unescaped": "slash / del \x7f line-sep \u2028 para-sep \u2029 bom \ufeff e+accent e\u0301 é",
            "keys": {"😀": 1, "！": 2, "中": 3, "é": 4, "a": 5, "B": 6, "_": 7, "": 8},
            "empty": {"object": {}, "array": [], "string": ""},
        },
    },
    {   # a transfer cuts block 9 in two: its state and the three blocks' after the change; .500000 (six digits)
        "occurred_at": "2025-09-15T01:02:04.500000+00:00", "actor_user_id": 1, "actor": "owner1",
        "subject_type": "golden_transfer", "subject_id": "1", "action": "golden.transferred",
        "payload": {
            "state": {"from_account_id": 7, "kind": "transfer", "quantity": 400, "to_account_id": 8},
            "states": {f"{BLOCKS}:9": block(501, 1500, 7, "split", False, None, 2024),
                       f"{BLOCKS}:10": block(501, 900, 8, "issued", True, 9, 2024),
                       f"{BLOCKS}:11": block(901, 1500, 7, "issued", True, 9, 2024)},
        },
    },
    {   # numbers: integers (negative, zero, beyond 2^53), Decimals as strings (trailing zeros and exponents kept),
        # booleans and null; an event about a block ("state" of the subject itself); 00:00 Beijing the next day
        "occurred_at": "2025-09-16T16:00:00.000001+00:00", "actor_user_id": None, "actor": "cli",
        "subject_type": BLOCKS, "subject_id": "2", "action": "golden.frozen",
        "payload": {
            "state": block(1, 500, 7, "frozen", True, None, 2023),
            "integers": [0, -1, 2023, 9007199254740993, -9007199254740993],
            "decimals": ["12.50", "-0.00", "1E+3", "0.000001", "1E-7"],
            "price_fen": 1250, "frozen": True, "released": False, "order_ref": None,
        },
    },
    {   # a retirement of part of block 11: live blocks are now 2, 10 and 13 (three leaves); whole second
        "occurred_at": "2025-10-01T00:00:00+00:00", "actor_user_id": None, "actor": "system",
        "subject_type": "golden_retirement", "subject_id": "CCER-R-2025-000001", "action": "golden.retired",
        "payload": {
            "state": {"beneficiary_name": "某某（北京）科技有限公司", "purpose": "voluntary", "quantity": 100},
            "states": {f"{BLOCKS}:11": block(901, 1500, 7, "split", False, 9, 2024),
                       f"{BLOCKS}:12": block(901, 1000, 7, "retired", False, 11, 2024),
                       f"{BLOCKS}:13": block(1001, 1500, 7, "issued", True, 11, 2024)},
        },
    },
]


# ---- canonical JSON of parsed text: what a verifier recomputes -----------------------------------------------

CANONICAL = [
    ("keys sorted, no spaces", '{"b": 1, "a": 2}'),
    ("nested objects sorted at every level; arrays keep their order", '{"z": [3, 1, {"d": 4, "c": 3}], "a": {"y": 1, "x": 2}}'),
    ("keys sorted by Unicode code point (not UTF-16 units: U+FF01 before U+1F600)",
     '{"\\ud83d\\ude00": 1, "\\uff01": 2, "\\u4e2d": 3, "\\u00e9": 4, "a": 5, "B": 6, "_": 7, "": 8}'),
    ("non-ASCII as itself, escaped or not in the input", '"\\u4e2d\\u6587 \\ud83d\\ude00 中文"'),
    ("the two-character escapes", '"\\" \\\\ \\b \\f \\n \\r \\t"'),
    ("other control characters as \\u00XX, lowercase hex", '"\\u0000 \\u0001 \\u000B \\u001F"'),
    ("slash, DEL, U+2028, U+2029, U+FEFF not escaped", '"\\/ \\u007f \\u2028 \\u2029 \\ufeff"'),
    ("a combining accent is not normalised", '"e\\u0301 \\u00e9"'),
    ("integers exactly, however large", '[0, -0, 1, -1, 9007199254740993, 100000000000000000000000]'),
    ("literals", '[true, false, null]'),
    ("empty containers", '{"a": {}, "b": [], "c": ""}'),
    ("floats as Python's repr: shortest round trip, .0 kept, exponent beyond 1e16 and below 1e-4",
     '[1.0, 12.50, 0.1, 1e2, 1E16, 1e15, 0.0001, 0.00001, 1e-7, -0.0, 1.5e300, 123456789.123456789]'),
    ("a duplicated key: the last one wins (so such text is never canonical)", '{"a": 1, "a": 2}'),
    ("whitespace around everything", ' { "a" : [ 1 , 2 ] } \n'),
]

#: values that are not JSON: how `plain` writes them before canonical JSON
PLAIN = [
    ("decimal", "12.50"), ("decimal", "-0.00"), ("decimal", "1E+3"), ("decimal", "0.000001"), ("decimal", "1E-7"),
    ("decimal", "123"),
    ("datetime", "2025-09-15T08:00:00+08:00"), ("datetime", "2025-09-15T08:00:00.5+08:00"),
    ("datetime", "2025-12-31T23:59:59.999999-05:00"), ("datetime", "2025-09-15T00:00:00.000001+00:00"),
    ("date", "2025-09-15"), ("date", "2024-02-29"),
]


def parse_plain(kind: str, text: str):
    return {"decimal": Decimal, "datetime": datetime.fromisoformat, "date": date.fromisoformat}[kind](text)


# ---- Merkle trees ----------------------------------------------------------------------------------------------


def tree(leaves: list[str]) -> dict:
    levels = merkle._levels(leaves) if leaves else []
    return {"leaves": leaves, "leaf_hashes": [h.hex() for h in merkle._levels(leaves)[0]] if leaves else [],
            "levels": [[h.hex() for h in level] for level in levels], "root": merkle.root(leaves)}


def build() -> dict:
    events, prev = [], GENESIS
    for seq, ev in enumerate(EVENTS, start=1):
        payload_json = canonical(ev["payload"])
        at = datetime.fromisoformat(ev["occurred_at"])
        assert plain(at) == ev["occurred_at"], ev["occurred_at"]
        args = (seq, at, ev["actor_user_id"], ev["actor"], ev["subject_type"], ev["subject_id"], ev["action"], payload_json, prev)
        digest = event_hash(*args)
        hashed = dumps(event_content(*args))
        assert hashlib.sha256(hashed.encode("utf-8")).hexdigest() == digest
        events.append({"seq": seq, **{k: ev[k] for k in ("occurred_at", "actor_user_id", "actor", "subject_type", "subject_id", "action")},
                       "payload": ev["payload"], "payload_json": payload_json, "prev_hash": prev, "hashed": hashed, "hash": digest})
        prev = digest

    # the blocks' states the chain vouches for, replayed: the latest "state"/"states" of each block wins
    states: dict[str, dict] = {}
    for ev in events:
        if ev["subject_type"] == BLOCKS and "state" in ev["payload"]:
            states[ev["subject_id"]] = ev["payload"]["state"]
        for key, state in ev["payload"].get("states", {}).items():
            kind, _, sid = key.partition(":")
            if kind == BLOCKS:
                states[sid] = state
    leaves = merkle_leaves(KEEP_ACTIVE, states)
    holdings = {"subject_type": BLOCKS, "as_of_seq": len(events), "kept": "states whose \"active\" is true",
                "states": dict(sorted(states.items(), key=lambda kv: (len(kv[0]), kv[0]))), **tree(leaves),
                "proofs": {"1": [list(step) for step in merkle.proof(leaves, 1)]}}

    five = [f"{i}|{canonical({'n': i, 'text': t})}" for i, t in ((1, "一"), (2, "二"), (3, "三"), (4, "四"), (5, "五"))]
    trees = {"empty": tree([]), "one": tree(five[:1]), "two": tree(five[:2]), "three": tree(five[:3]),
             "five": {**tree(five), "proofs": {str(i): [list(step) for step in merkle.proof(five, i)] for i in (0, 4)}}}

    return {
        "about": "Golden vectors of the ccer ledger format, specified in docs/ledger-format.md. Reproduce every value "
                 "to show that an implementation computes canonical JSON, event hashes and Merkle roots as the "
                 "platform does. Written once by tests/make_ledger_golden.py; checked by tests/test_ledger_golden.py.",
        "genesis": GENESIS,
        "canonical": [{"name": name, "input": text, "canonical": canonical(json.loads(text))} for name, text in CANONICAL],
        "plain": [{"type": kind, "input": text, "plain": plain(parse_plain(kind, text)), "canonical": canonical(parse_plain(kind, text))}
                  for kind, text in PLAIN]
                 + [{"type": "mapping with integer keys (keys become strings, then sort as strings)", "input": [[2, "b"], [10, "c"], [1, "a"]],
                     "plain": plain({2: "b", 10: "c", 1: "a"}), "canonical": canonical({2: "b", 10: "c", 1: "a"})}],
        "events": events,
        "head": {"seq": len(events), "hash": prev},
        "merkle": {"trees": trees, "holdings": holdings},
        "export": {"seq": len(events), "head_hash": prev, "created_at": "2025-10-01T08:00:00+08:00",
                   "roots": {BLOCKS: holdings["root"]}, "leaves": {BLOCKS: leaves}},
    }


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=True, indent=2) + "\n"


if __name__ == "__main__":
    text = render(build())
    if "--write" in sys.argv:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text, encoding="ascii")
    elif not OUT.exists() or OUT.read_text(encoding="ascii") != text:
        sys.exit(f"{OUT} differs from what the platform computes now (a format change?); --write rewrites it")
    print(hashlib.sha256(text.encode("ascii")).hexdigest(), OUT)
