"""ccer-verify: check a ccer ledger export without the platform (docs/ledger-format.md, §9 the export).

The standard library and `cryptography` (Ed25519) only. `verify(lines, key=…, trust=…)` reads the export's
lines in order and raises `BadLine` naming the first line that is wrong; it never repairs anything.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

__all__ = ["BadLine", "Result", "GENESIS", "EMPTY_ROOT", "verify", "verify_file", "canonical", "merkle_root", "key_id",
           "signed_text", "load_checkpoint"]
__version__ = "1.0.0"

GENESIS = "0" * 64
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()
FORMAT = 1
EVENT_KEYS = frozenset(("action", "actor", "actor_user_id", "hash", "occurred_at", "payload", "prev_hash", "seq",
                        "subject_id", "subject_type"))
CHECKPOINT_KEYS = frozenset(("created_at", "head_hash", "key_id", "roots", "seq", "signature"))
HEADER_KEYS = frozenset(("ccer_ledger_export", "genesis", "key", "rooted", "since"))
_HEX = frozenset("0123456789abcdef")


class BadLine(Exception):
    """The first line of the export that is wrong, and what is wrong with it."""

    def __init__(self, line: int, message: str):
        super().__init__(line, message)
        self.line, self.message = line, message

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


_loads = json.JSONDecoder(parse_constant=_no_constants).decode
#: canonical JSON (§2) of a parsed value: sorted keys, no spaces, characters as themselves, Python's float repr
canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_sha256 = hashlib.sha256


def _is_hex(s: Any, n: int) -> bool:
    return type(s) is str and len(s) == n and _HEX.issuperset(s)


def key_id(public_raw: bytes) -> str:
    """A registry key's id: the hex SHA-256 of its raw 32-byte Ed25519 public key."""
    return _sha256(public_raw).hexdigest()


def signed_text(seq: int, head_hash: str, roots: dict, kid: str) -> bytes:
    """What a checkpoint's signature signs (§7): the canonical JSON of head_hash, key_id, roots and seq."""
    return canonical({"head_hash": head_hash, "key_id": kid, "roots": roots, "seq": seq}).encode("utf-8")


def merkle_root(leaf_hashes: list[bytes]) -> str:
    """The Merkle root (§6) of leaf hashes SHA-256(0x00 ‖ leaf): nodes SHA-256(0x01 ‖ left ‖ right), pairs from
    the left, an odd last node carried up; no leaves: SHA-256 of nothing."""
    level = leaf_hashes
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        odd = level[-1] if len(level) % 2 else None
        it = iter(level)
        level = [_sha256(b"\x01" + a + b).digest() for a, b in zip(it, it)]
        if odd is not None:
            level.append(odd)
    return level[0].hex()


def leaf_hash(leaf: str) -> bytes:
    return _sha256(b"\x00" + leaf.encode("utf-8")).digest()


class PublicKey:
    def __init__(self, public_hex: str):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        raw = bytes.fromhex(public_hex)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes (64 hex digits)")
        self.hex, self.id = public_hex, key_id(raw)
        self._key = Ed25519PublicKey.from_public_bytes(raw)

    def verifies(self, signature: Any, seq: int, head_hash: str, roots: dict, kid: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        if not _is_hex(signature, 128) or kid != self.id:
            return False
        try:
            self._key.verify(bytes.fromhex(signature), signed_text(seq, head_hash, roots, kid))
            return True
        except InvalidSignature:
            return False


class _Rooted:
    """The Merkle leaves of one subject type, as leaf hashes by id: the states whose member `field` is true."""

    __slots__ = ("field", "leaves")

    def __init__(self, field_name: str):
        self.field = field_name
        self.leaves: dict[Any, bytes] = {}

    def update(self, sid: str, state: Any) -> None:
        key = int(sid) if sid.isdigit() and (sid[0] != "0" or sid == "0") else sid
        if type(state) is dict and state.get(self.field) is True:
            self.leaves[key] = _sha256(b"\x00" + (sid + "|" + canonical(state)).encode("utf-8")).digest()
        else:
            self.leaves.pop(key, None)

    def root(self) -> str:
        keys = list(self.leaves)
        if all(type(k) is int for k in keys):
            keys.sort()  # natural order (§6) of canonical integer ids: numeric
        else:
            keys.sort(key=lambda k: (len(str(k)), str(k)))
        leaves = self.leaves
        return merkle_root([leaves[k] for k in keys])


@dataclass
class Result:
    first_seq: int = 0
    last_seq: int = 0
    events: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0
    roots_checked: int = 0
    key_id: str = ""
    #: events after the last signed checkpoint: chained, not (yet) anchored by a signature
    unanchored: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        span = f"#{self.first_seq}…#{self.last_seq}" if self.events else "none"
        out = (f"ok: {self.events} events ({span}), head {self.head_hash}; {self.checkpoints} checkpoints signed by key "
               f"{self.key_id[:16]}…, {self.roots_checked} Merkle roots recomputed")
        if self.unanchored:
            out += f"; the last {self.unanchored} events are chained but not yet anchored by a signed checkpoint"
        return out


def load_checkpoint(obj: Any) -> dict:
    """A checkpoint kept earlier: as `ccer ledger export-checkpoint` prints it, or an export's checkpoint line."""
    if isinstance(obj, dict) and "checkpoint" in obj:
        obj = obj["checkpoint"]
    if not isinstance(obj, dict) or type(obj.get("seq")) is not int or not _is_hex(obj.get("head_hash"), 64):
        raise ValueError("not a checkpoint: it needs seq and head_hash")
    return obj


class _State:
    def __init__(self, key: PublicKey, rooted: dict[str, str], trust: dict | None):
        self.key = key
        self.rooted = {name: _Rooted(f) for name, f in rooted.items()}
        self.roots_known = True
        self.trust = trust
        self.trust_seen = False
        self.prev = GENESIS
        self.next_seq = 1
        self.last_cp_seq = 0
        self.result = Result(key_id=key.id)


def _parse(n: int, text: str) -> Any:
    try:
        obj = _loads(text)
    except ValueError as exc:
        raise BadLine(n, f"not JSON ({exc})") from None
    try:
        again = canonical(obj)
    except ValueError as exc:
        raise BadLine(n, f"not canonical JSON ({exc})") from None
    if again != text:
        raise BadLine(n, "not canonical JSON (docs/ledger-format.md §2): spaces, key order, escapes or number form differ")
    return obj


def _event(st: _State, n: int, text: str, obj: dict) -> None:
    if obj.keys() != EVENT_KEYS:
        raise BadLine(n, f"an event line has exactly the members {', '.join(sorted(EVENT_KEYS))}")
    seq = obj["seq"]
    if type(seq) is not int or seq != st.next_seq:
        raise BadLine(n, f"event #{seq}: expected event #{st.next_seq} here (an event is missing, or the lines are out of order)")
    if obj["prev_hash"] != st.prev:
        raise BadLine(n, f"event #{seq}: prev_hash is not the hash of the event before it")
    h = obj["hash"]
    uid = obj["actor_user_id"]
    if not _is_hex(h, 64) or not (uid is None or type(uid) is int) or not all(
            type(obj[k]) is str for k in ("action", "actor", "occurred_at", "payload", "subject_id", "subject_type")):
        raise BadLine(n, f"event #{seq}: a member has the wrong type (docs/ledger-format.md §1)")
    i = text.index(',"hash":"')  # the line is canonical: what it hashes is the line without its hash member (§3, §9)
    if _sha256((text[:i] + text[i + 74:]).encode("utf-8")).hexdigest() != h:
        raise BadLine(n, f"event #{seq}: its content does not hash to its hash (the event was altered)")
    payload = obj["payload"]
    try:
        p = _loads(payload)
        ok = canonical(p) == payload
    except ValueError:
        ok = False
    if not ok:
        raise BadLine(n, f"event #{seq}: its payload is not canonical JSON (docs/ledger-format.md §2)")
    if type(p) is dict and st.rooted:
        rooted = st.rooted
        if "state" in p:
            r = rooted.get(obj["subject_type"])
            if r is not None:
                r.update(obj["subject_id"], p["state"])
        states = p.get("states")
        if type(states) is dict:
            for k, state in states.items():
                name, _, sid = k.partition(":")
                r = rooted.get(name)
                if r is not None:
                    r.update(sid, state)
    if st.trust is not None and seq == st.trust["seq"]:
        st.trust_seen = True
        if h != st.trust["head_hash"]:
            raise BadLine(n, f"event #{seq}: the chain was rewritten — the checkpoint you kept says its hash is "
                             f"{st.trust['head_hash']}, this export has {h}")
    st.prev = h
    st.next_seq = seq + 1
    r_ = st.result
    if not r_.events:
        r_.first_seq = seq
    r_.events += 1


def _checkpoint(st: _State, n: int, obj: dict, base: bool = False) -> None:
    cp = obj["checkpoint"] if obj.keys() == {"checkpoint"} else None
    if type(cp) is not dict or not CHECKPOINT_KEYS <= cp.keys() <= CHECKPOINT_KEYS | {"leaves"}:
        raise BadLine(n, f"a checkpoint line is {{\"checkpoint\": {{{', '.join(sorted(CHECKPOINT_KEYS))}[, leaves]}}}}")
    seq, head, roots, kid = cp["seq"], cp["head_hash"], cp["roots"], cp["key_id"]
    if type(seq) is not int or type(roots) is not dict or not all(_is_hex(v, 64) for v in roots.values()):
        raise BadLine(n, "checkpoint: seq is an integer, roots an object of 64-hex-digit roots")
    if seq != st.next_seq - 1:
        raise BadLine(n, f"checkpoint #{seq} is not right after its event (the last event here is #{st.next_seq - 1})")
    if head != st.prev:
        raise BadLine(n, f"checkpoint #{seq}: its head hash {str(head)[:16]}… is not the chain's hash at #{seq}")
    if kid != st.key.id:
        raise BadLine(n, f"checkpoint #{seq} is signed by key {str(kid)[:16]}…, not the registry key {st.key.id[:16]}… "
                         "(another registry's checkpoint, or a forgery)")
    if not st.key.verifies(cp["signature"], seq, head, roots, kid):
        raise BadLine(n, f"checkpoint #{seq}: its signature does not verify (its seq, head or roots were altered, or it was forged)")
    leaves = cp.get("leaves")
    if leaves is not None:
        if type(leaves) is not dict:
            raise BadLine(n, f"checkpoint #{seq}: leaves is an object of lists of leaf strings")
        for name, items in leaves.items():
            if type(items) is not list or not all(type(x) is str and "|" in x for x in items) or name not in roots:
                raise BadLine(n, f"checkpoint #{seq}: the {name} leaves are a list of \"id|state\" strings of a rooted type")
            if merkle_root([leaf_hash(x) for x in items]) != roots[name]:
                raise BadLine(n, f"checkpoint #{seq}: its {name} leaves do not hash to its {name} Merkle root")
    if base:
        for name, r in st.rooted.items():
            if leaves is None or name not in leaves:
                if name in roots:
                    st.roots_known = False
                continue
            for leaf in leaves[name]:
                sid, _, text = leaf.partition("|")
                key = int(sid) if sid.isdigit() and (sid[0] != "0" or sid == "0") else sid
                r.leaves[key] = leaf_hash(leaf)
        if not st.roots_known:
            st.result.warnings.append(f"the export starts at checkpoint #{seq} without its leaves: the Merkle roots of later "
                                      "checkpoints are not recomputed (export with --leaves to have them)")
    elif st.roots_known:
        for name, recorded in roots.items():
            r = st.rooted.get(name)
            if r is None:
                raise BadLine(n, f"checkpoint #{seq}: a root of {name}, which the export's first line does not declare rooted")
            replayed = r.root()
            if replayed != recorded:
                raise BadLine(n, f"checkpoint #{seq}: its {name} Merkle root {recorded[:16]}… is not the one the events "
                                 f"replay to ({replayed[:16]}…)")
            st.result.roots_checked += 1
    if st.trust is not None and seq == st.trust["seq"] and st.trust.get("roots") not in (None, roots):
        raise BadLine(n, f"checkpoint #{seq}: its roots differ from the checkpoint you kept")
    st.last_cp_seq = seq
    st.result.checkpoints += 1


def _header(n: int, obj: Any, key_hex: str | None, trust: dict | None) -> tuple[_State, dict | None]:
    if type(obj) is not dict or obj.keys() != HEADER_KEYS or obj["ccer_ledger_export"] != FORMAT:
        raise BadLine(n, f"not a ccer ledger export (format {FORMAT}): the first line is "
                         f"{{{', '.join(sorted(HEADER_KEYS))}}}")
    if obj["genesis"] != GENESIS:
        raise BadLine(n, "genesis is 64 zeros")
    k = obj["key"]
    if type(k) is not dict or k.get("algorithm") != "Ed25519" or not _is_hex(k.get("public_key"), 64):
        raise BadLine(n, "key: {algorithm: Ed25519, key_id, public_key (64 hex digits)}")
    if k.get("key_id") != key_id(bytes.fromhex(k["public_key"])):
        raise BadLine(n, "key: key_id is not the SHA-256 of the public key")
    warnings = []
    if key_hex is None:
        key = PublicKey(k["public_key"])
        warnings.append(f"trusting the key the export names ({key.id[:16]}…): compare it with the registry's published key")
    else:
        key = PublicKey(key_hex.strip().lower())
        if k["public_key"] != key.hex:
            raise BadLine(n, f"the export names key {k['key_id'][:16]}…, not the registry key you gave ({key.id[:16]}…)")
    rooted = obj["rooted"]
    if type(rooted) is not dict or not all(type(v) is str for v in rooted.values()):
        raise BadLine(n, "rooted: {subject type: the member that keeps a state}")
    since = obj["since"]
    if since is not None and (type(since) is not dict or since.keys() != {"head_hash", "seq"} or type(since["seq"]) is not int
                              or not _is_hex(since["head_hash"], 64)):
        raise BadLine(n, "since: null, or {head_hash, seq}")
    if trust is not None and (trust.get("signature") is not None or trust.get("key_id") is not None):
        if not key.verifies(trust.get("signature"), trust["seq"], trust["head_hash"], trust.get("roots") or {}, trust.get("key_id")):
            raise BadLine(n, f"the checkpoint you kept (#{trust['seq']}) is not signed by this registry key ({key.id[:16]}…)")
    st = _State(key, rooted, trust)
    st.result.warnings.extend(warnings)
    return st, since


def _lines(raw: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    n = 0
    for n, line in enumerate(raw, 1):
        if not line.endswith(b"\n"):
            raise BadLine(n, "the line does not end (the export is truncated)")
        try:
            yield n, line[:-1].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadLine(n, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None


def verify(raw_lines: Iterable[bytes], key: str | None = None, trust: dict | None = None) -> Result:
    """Check an export given as its raw lines (bytes, each ending in a newline). key: the registry's public key
    (hex) you trust; trust: a checkpoint you kept (`load_checkpoint`). Raises BadLine at the first bad line."""
    lines = _lines(raw_lines)
    n = 0
    first = next(lines, None)
    if first is None:
        raise BadLine(1, "the export is empty")
    n, text = first
    st, since = _header(n, _parse(n, text), key, trust)
    if since is not None:
        st.prev, st.next_seq = since["head_hash"], since["seq"] + 1
        st.result.first_seq = since["seq"] + 1
        if trust is not None and trust["seq"] == since["seq"]:
            st.trust_seen = True
            if trust["head_hash"] != since["head_hash"]:
                raise BadLine(n, f"the export starts after #{since['seq']} with head {since['head_hash'][:16]}…, the checkpoint "
                                 "you kept says otherwise: the chain was rewritten")
    ended = False
    expect_base = since is not None
    for n, text in lines:
        if ended:
            raise BadLine(n, "a line after the export's last line")
        if text.startswith('{"action":'):
            if expect_base:
                st.result.warnings.append(f"the export starts after #{since['seq']}, which no signed checkpoint in it anchors")
                expect_base = False
            _event(st, n, text, _parse(n, text))
            continue
        obj = _parse(n, text)
        if type(obj) is dict and obj.keys() == {"checkpoint"}:
            _checkpoint(st, n, obj, base=expect_base)
            expect_base = False
        elif type(obj) is dict and obj.keys() == {"end"}:
            end, r = obj["end"], st.result
            if end != {"events": r.events, "head_hash": st.prev, "seq": st.next_seq - 1}:
                raise BadLine(n, f"the last line says {end}, the export has {r.events} events up to "
                                 f"#{st.next_seq - 1} {st.prev[:16]}…")
            ended = True
        else:
            raise BadLine(n, "neither an event, a checkpoint nor the last line")
    if not ended:
        raise BadLine(n + 1, "the export ends without its last line {\"end\": …} (truncated)")
    r = st.result
    if st.trust is not None and not st.trust_seen:
        if st.trust["seq"] > st.next_seq - 1:
            raise BadLine(n, f"the export ends at #{st.next_seq - 1}, before the checkpoint you kept (#{st.trust['seq']}): "
                             "history was cut short")
        r.warnings.append(f"the checkpoint you kept (#{st.trust['seq']}) is before this export's first event: not checked")
    r.last_seq, r.head_hash = st.next_seq - 1, st.prev
    r.unanchored = r.last_seq - max(st.last_cp_seq, since["seq"] if since else 0) if r.events else 0
    return r


def verify_file(path: str, key: str | None = None, trust: dict | None = None) -> Result:
    with open(path, "rb") as f:
        return verify(f, key=key, trust=trust)
