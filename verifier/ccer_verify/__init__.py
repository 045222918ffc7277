"""ccer-verify: check a ccer ledger export without the platform (docs/ledger-format.md, §9 the export).

The standard library and `cryptography` (Ed25519) only — and msgspec when it is installed (the extra `fast`, see
_accel.py), which checks canonical JSON several times faster with the same answers. `verify(lines, key=…, trust=…)`
reads the export's lines in order and raises `BadLine` naming the first line that is wrong; it never repairs anything.
"""
from __future__ import annotations

import gc
import hashlib
import json
import mmap
import os
import tempfile
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

try:  # the optional accelerator (the extra `fast`): same answers, several times faster
    from . import _accel
except ImportError:
    _accel = None
try:  # the optional compiled accelerator (_fast.c, built at install when a C compiler is there): an event line in one call
    from . import _fast
except ImportError:
    _fast = None

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
#: check canonical JSON with msgspec when it is installed (tests turn it off to compare both paths)
FAST = _accel is not None
#: check event lines with the compiled accelerator when it was built (tests turn it off likewise)
COMPILED = _fast is not None
#: a seq no event has (seqs have at most 18 digits in the compiled path): no trusted checkpoint
_NO_SEQ = -(2 ** 63)


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


def _natural(k: Any) -> tuple:
    return len(str(k)), str(k)


class _Rooted:
    """The Merkle leaves of one subject type, as leaf hashes by id: the states whose member `field` is true.

    The tree's levels are kept from one root to the next: a complete subtree over leaves that all precede the
    smallest id changed since (in the natural order of §6) is the same subtree at the same place, so only the
    part of the tree from that id on is hashed again — the registry's new blocks get ever larger ids."""

    __slots__ = ("changed", "field", "leaves", "levels")

    def __init__(self, field_name: str):
        self.field = field_name
        self.leaves: dict[Any, bytes] = {}
        #: ids set or removed since the last root
        self.changed: list = []
        #: the last root's tree, leaf hashes first; None: hash it all
        self.levels: list[list[bytes]] | None = None

    def apply(self, sets: dict, dels: list) -> None:
        """A checkpoint interval's leaf changes (§6): dels first, then sets."""
        pop = self.leaves.pop
        for k in dels:
            pop(k, None)
        self.leaves.update(sets)
        self.changed.extend(dels)
        self.changed.extend(sets)

    def root(self) -> str:
        keys = list(self.leaves)
        try:
            keys.sort()  # natural order (§6) of canonical integer ids: numeric
            ints = not keys or type(keys[0]) is int  # (ints and strings do not sort together: one type)
        except TypeError:
            ints = False
        if not ints:
            keys.sort(key=_natural)
        leaves, levels, same = self.leaves, self.levels, 0
        if levels is not None and ints:
            try:  # the leaves before the smallest changed id are the last root's, at the same places
                same = bisect_left(keys, min(self.changed)) if self.changed else len(keys)
            except TypeError:  # a removed id was not an integer
                same = 0
        if levels is None:
            levels = self.levels = [[]]
        self.changed = []
        level = levels[0]  # the levels are cut back to what stays and extended in place: nothing kept is copied
        del level[same:]
        level.extend([leaves[k] for k in keys[same:]])
        if not level:
            return EMPTY_ROOT
        depth = 0
        while len(level) > 1:  # §6: pairs from the left, an odd last node carried up
            depth += 1
            if depth < len(levels):
                up = levels[depth]
                del up[same >> depth:]  # complete subtrees over kept leaves only
            else:
                up = []
                levels.append(up)
            rest = level[2 * len(up):]
            it = iter(rest)
            up.extend([_sha256(b"\x01" + a + b).digest() for a, b in zip(it, it)])
            if len(rest) % 2:
                up.append(rest[-1])
            level = up
        del levels[depth + 1:]
        return level[0].hex()


class _FlatRooted:
    """The Merkle leaves of one subject type kept flat, with the compiled accelerator: the leaf hash of each
    canonical integer id below 2^31 in two scratch files the OS pages (1 + 32 bytes per id; the contents stay on
    disk, handed back after every change and root), any other id in a dict. A root is computed a window of ids at a
    time, through the roots of full chunks of 1,024 leaves kept from the last root by a digest of their hashes
    (a chunk starting at a multiple of 1,024 leaves is a subtree of the whole tree, §6): the memory of a window and
    of a node per chunk, however many leaves."""

    WINDOW = 1 << 16  # ids per window (a multiple of the page size)
    CHUNK = 1024
    LIMIT = 1 << 31

    def __init__(self, field_name: str):
        self.field = field_name
        self.present = _scratch(self.WINDOW)
        self.hashes = _scratch(32 * self.WINDOW)
        self.texts: dict[Any, bytes] = {}  # ids that are not integers below LIMIT
        self.subtrees: dict[bytes, bytes] = {}

    def apply(self, sets: dict, dels: list) -> None:
        """A checkpoint interval's leaf changes (§6): dels first, then sets."""
        texts = self.texts
        # ids beyond the arrays grow them, unless far beyond the ids seen (a forged id must not make a huge file):
        # those stay in the dict, which sorts the same way
        reach = min(2 * len(self.present) + (1 << 20), self.LIMIT)
        try:  # (the usual case at C speed: integer ids only, none far beyond)
            top = max(sets, default=-1)
            grow = top if type(top) is int and top < reach else None
        except TypeError:  # ids of both kinds
            grow = None
        if grow is None:
            grow = max((k for k in sets if type(k) is int and len(self.present) <= k < reach), default=-1)
        elif grow < len(self.present):
            grow = -1
        if grow >= 0:
            size = max(grow + 1, 2 * len(self.present))
            size += -size % self.WINDOW
            self.present.resize(size)  # the file grows with it, zeros
            self.hashes.resize(32 * size)
        if texts:  # an id kept in the dict while beyond the arrays, which have grown to it since: theirs now
            size = len(self.present)
            for k in (*sets, *dels):
                if type(k) is int and 0 <= k < size:
                    texts.pop(k, None)
        sets, dels = _fast.place(self.present, self.hashes, sets, dels)
        for k in dels:
            texts.pop(k, None)
        texts.update(sets)
        self._release()

    def _release(self) -> None:
        self.present.madvise(mmap.MADV_DONTNEED)
        self.hashes.madvise(mmap.MADV_DONTNEED)

    def root(self) -> str:
        if self.texts:  # ids of both kinds: merged in their natural order (§6), in memory
            pairs = list(self.texts.items())
            for a in range(0, len(self.present), self.WINDOW):
                b = min(a + self.WINDOW, len(self.present))
                pairs.extend((i, self.hashes[32 * i:32 * i + 32]) for i in range(a, b) if self.present[i] == 1)
            pairs.sort(key=lambda p: _natural(p[0]))
            self._release()
            return merkle_root([h for _, h in pairs])
        nodes, rest, fresh, width = [], bytearray(), {}, 32 * self.CHUNK
        for a in range(0, len(self.present), self.WINDOW):
            rest += _fast.gather(self.present, self.hashes, a, min(a + self.WINDOW, len(self.present)))
            if a + self.WINDOW <= len(self.present):  # the window's pages, read: handed back
                self.present.madvise(mmap.MADV_DONTNEED, a, self.WINDOW)
                self.hashes.madvise(mmap.MADV_DONTNEED, 32 * a, 32 * self.WINDOW)
            full = len(rest) - len(rest) % width
            for c in range(0, full, width):
                part = bytes(rest[c:c + width])
                key = hashlib.sha256(part).digest()  # a stand-in for the chunk no forger can match
                node = self.subtrees.get(key) or _fast.merkle_node(part)
                fresh[key] = node
                nodes.append(node)
            del rest[:full]
        self.subtrees = fresh
        self._release()
        if rest:
            nodes.append(_fast.merkle_node(rest))
        return _fast.merkle_node(b"".join(nodes)).hex() if nodes else EMPTY_ROOT


def _scratch(nbytes: int) -> mmap.mmap:
    """`nbytes` zero bytes in an unlinked temporary file, mapped."""
    with tempfile.TemporaryFile() as f:
        f.truncate(nbytes)
        return mmap.mmap(f.fileno(), nbytes)


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


# ---- one chunk of lines, checked on its own (in a worker process when --jobs > 1) ---------------------------------------
#
# A chunk's events are checked against each other; what links them to the lines before (the first event's seq and
# prev_hash, the checkpoints' heads when no event precedes them in the chunk) and everything that needs the whole
# history (signatures, Merkle roots, the last line) is left to `verify`, as "ops" in line order:
#   (name, {key: leaf hash}, [keys removed])            a rooted type's leaves set and removed since the op before
#   (None, "first", n, seq, prev_hash)                  the chunk's first event
#   (None, "cp", n, checkpoint, events, seq, hash)      a checkpoint line; events/seq/hash: the chunk's so far
#   (None, "end", n, end, events, seq, hash)            the last line
#   (None, "trust", n, hash)                            the event at the kept checkpoint's seq
# The leaf changes between two checkpoints come as one op per type, the last change of a key winning: few objects
# to send back from a worker and to apply.


def _check_chunk(task: tuple) -> dict:
    """Check one chunk: its bytes, or (path, start, end, first) to read them; line numbers counted from 1 in the
    chunk (`verify` adds the lines before it)."""
    data, rooted, trust_seq, fast, compiled = task
    if type(data) is tuple:
        data = _read_lines(*data)
    n = 1
    ops: list = []
    out = {"ops": ops, "events": 0, "last": None, "lines": 0, "error": None}
    with _without_collector():
        try:
            _chunk_lines(data, n, rooted, trust_seq, ops, out, fast, compiled)
        except BadLine as bad:
            out["error"] = (bad.line, bad.message)
            out["lines"] = data.count(b"\n") + (len(data) > 0 and not data.endswith(b"\n"))
    return out


@contextmanager
def _without_collector() -> Iterator[None]:
    """The checks make no reference cycles: the cyclic collector would only walk their objects again and again."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _payload(payload: str, accel: Any) -> tuple[Any, bool]:
    """A payload's value if it is its own canonical text (§2), and whether the accelerator (see _accel) said so — then
    the value is float-free; else ValueError: the standard library's verdict."""
    if accel is not None:
        try:
            pb = payload.encode("utf-8")
            p = accel.DECODE(pb)
            if accel.ENCODE(p) == pb:
                return p, True
        except accel.ERRORS:
            pass
    p = _loads(payload)
    if canonical(p) != payload:
        raise ValueError("not canonical")
    return p, False


def _chunk_lines(data: bytes, n: int, rooted: dict[str, str], trust_seq: int | None, ops: list, out: dict,
                 fast: bool = False, compiled: bool = False) -> None:
    canon, sha = canonical, _sha256
    accel = _accel if fast else None
    line = _fast.event_line if compiled and _fast is not None else None
    # the event lines that simply follow on from the one before them, many in one call (_fast.c: event_lines)
    bulk = _fast.event_lines if line is not None else None
    trust = trust_seq if trust_seq is not None and abs(trust_seq) < 10 ** 18 else _NO_SEQ  # (its seqs: ≤ 18 digits)
    enc = None
    if accel is not None:
        dec_event, enc_event, enc, errors = accel.DECODE_EVENT, accel.ENCODE_EVENT, accel.ENCODE, accel.ERRORS
    prev = seq_prev = None
    events = 0
    ended = False
    # the states of rooted types vouched for since the last op, by type and id (as ids sort, _key_of) — the last one
    # wins: the state, or (state,) when its canonical text is the standard library's to write; from the compiled
    # accelerator the leaf hash already, or False (not kept). Made into leaves only at the next op: a block cut again
    # before the next checkpoint is never hashed. (§5: types contain no colon.)
    fields = {name: f for name, f in rooted.items() if ":" not in name}
    pending: dict[str, dict] = {name: {} for name in fields}
    kinds = tuple((name, f, pending[name]) for name, f in fields.items())

    def flush() -> None:
        for name, states in pending.items():
            if not states:
                continue
            sets, dels, field_name = {}, [], fields[name]
            for key, state in states.items():
                if type(state) is bytes:  # a leaf hash from the compiled accelerator
                    sets[key] = state
                    continue
                std = type(state) is tuple
                if std:
                    state = state[0]
                if type(state) is dict and state.get(field_name) is True:
                    # the leaf (§6): id|canonical(state) (an integer key's text is the id's: _key_of); a float-free
                    # state's canonical text is the accelerator's (_accel)
                    text = canon(state).encode("utf-8") if std else enc(state)
                    sets[key] = sha(b"\x00" + str(key).encode("utf-8") + b"|" + text).digest()
                else:
                    dels.append(key)
            states.clear()
            ops.append((name, sets, dels))

    n -= 1
    size = len(data)
    pos = 0
    while pos < size:
        if bulk is not None and not ended and type(prev) is str and type(seq_prev) is int and abs(seq_prev) < 10 ** 18:
            pos, taken, seq_prev, prev = bulk(data, pos, kinds, seq_prev, prev, trust)
            n += taken
            events += taken
        end = data.find(b"\n", pos)
        if end < 0:
            break  # the data's last line does not end (or there is none left)
        raw = data[pos:end]
        pos = end + 1
        n += 1
        got = line(raw, kinds) if line is not None and not ended else None
        if got is not None:  # an event line, canonical, hashed, its payload canonical: see _fast.c
            seq, h, prev_hash = got
            ev = None
        else:
            ev = None
            if accel is not None and not ended:
                try:
                    ev = dec_event(raw)
                except errors:  # not an event line, or one the standard library must judge
                    pass
                else:
                    if enc_event(ev) != raw:  # see _accel: only "canonical" is taken from msgspec
                        ev = None
            if ev is not None:  # canonical, and the members of §1 with their types
                seq, h, prev_hash, payload = ev.seq, ev.hash, ev.prev_hash, ev.payload
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise BadLine(n, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
                if ended:
                    raise BadLine(n, "a line after the export's last line")
                obj = _parse(n, text)
                if not text.startswith('{"action":'):
                    if type(obj) is dict and obj.keys() == {"checkpoint"}:
                        flush()
                        ops.append((None, "cp", n, obj, events, seq_prev, prev))
                    elif type(obj) is dict and obj.keys() == {"end"}:
                        ops.append((None, "end", n, obj["end"], events, seq_prev, prev))
                        ended = True
                    else:
                        raise BadLine(n, "neither an event, a checkpoint nor the last line")
                    continue
                if obj.keys() != EVENT_KEYS:
                    raise BadLine(n, f"an event line has exactly the members {', '.join(sorted(EVENT_KEYS))}")
                seq, h, prev_hash, payload = obj["seq"], obj["hash"], obj["prev_hash"], obj["payload"]
                if type(seq) is not int:
                    raise BadLine(n, f"event #{seq}: seq is an integer")
        if prev is None:
            ops.append((None, "first", n, seq, prev_hash))
        elif seq != seq_prev + 1:
            raise BadLine(n, f"event #{seq}: expected event #{seq_prev + 1} here (an event is missing, or the lines are out of order)")
        elif prev_hash != prev:
            raise BadLine(n, f"event #{seq}: prev_hash is not the hash of the event before it")
        if got is None:  # (the compiled accelerator did all this)
            _event_rest(raw, n, seq, h, payload, ev, obj if ev is None else None, accel, pending, fields)
        if seq == trust_seq:
            ops.append((None, "trust", n, h))
        prev, seq_prev = h, seq
        events += 1
    if pos < size:
        raise BadLine(n + 1, "the line does not end (the export is truncated)")
    out["lines"] = n
    flush()
    out["events"] = events
    out["last"] = None if prev is None else (seq_prev, prev)


def _event_rest(raw: bytes, n: int, seq: int, h: Any, payload: Any, ev: Any, obj: Any, accel: Any, pending: dict,
                fields: dict) -> None:
    """An event line read by the standard library or msgspec (`ev`: the msgspec Struct; `obj`: the parsed dict),
    after its place in the chain: its members' types, its hash, its payload, the rooted states it vouches for."""
    if ev is None and (not _is_hex(h, 64) or not (obj["actor_user_id"] is None or type(obj["actor_user_id"]) is int)
                       or not all(type(obj[k]) is str for k in ("action", "actor", "occurred_at", "payload", "subject_id",
                                                               "subject_type"))):
        raise BadLine(n, f"event #{seq}: a member has the wrong type (docs/ledger-format.md §1)")
    # the line is canonical: what it hashes is the line without its hash member, 74 ASCII bytes (§3, §9)
    j = raw.index(b',"hash":"')
    if _sha256(raw[:j] + raw[j + 74:]).hexdigest() != h:
        if not _is_hex(h, 64):  # (the accelerator's types left this to check: a hex digest equal to h is hex)
            raise BadLine(n, f"event #{seq}: a member has the wrong type (docs/ledger-format.md §1)")
        raise BadLine(n, f"event #{seq}: its content does not hash to its hash (the event was altered)")
    fast_p = False
    if accel is not None:  # _payload's first half, inline
        try:
            pb = payload.encode("utf-8")
            p = accel.DECODE(pb)
            fast_p = accel.ENCODE(p) == pb
        except accel.ERRORS:
            pass
    if not fast_p:
        try:
            p = _payload(payload, None)[0]
        except ValueError:
            raise BadLine(n, f"event #{seq}: its payload is not canonical JSON (docs/ledger-format.md §2)") from None
    if fields and type(p) is dict:  # the vouched states of rooted types (§5), made Merkle leaves (§6) by flush
        if "state" in p:
            stype = ev.subject_type if ev is not None else obj["subject_type"]
            if stype in fields:
                pending[stype][_key_of(ev.subject_id if ev is not None else obj["subject_id"])] = \
                    p["state"] if fast_p else (p["state"],)
        states = p.get("states")
        if type(states) is dict:
            for k, state in states.items():
                name, _, sid = k.partition(":")  # §5: split at the first colon (none: the empty id)
                if name in fields:
                    pending[name][_key_of(sid)] = state if fast_p else (state,)


def _key_of(sid: str) -> Any:
    """A leaf's id as it sorts (§6): a canonical decimal integer (ASCII digits, no leading zero) as the number — up
    to 640 digits (Python's lowest int-string limit; a longer one stays text, which sorts the same way: `_natural`)."""
    return int(sid) if sid.isdigit() and sid.isascii() and (sid[0] != "0" or sid == "0") and len(sid) <= 640 else sid


# ---- the whole export ------------------------------------------------------------------------------------------------


class _State:
    def __init__(self, key: PublicKey, rooted: dict[str, str], trust: dict | None):
        self.key = key
        self.fields = dict(rooted)
        # with the compiled accelerator the leaves are kept flat (memory that does not grow with the registry)
        self.rooted = {name: _FlatRooted(f) if COMPILED and _fast is not None else _Rooted(f) for name, f in rooted.items()}
        self.roots_known = True
        self.trust = trust
        self.trust_seen = False
        self.prev = GENESIS
        self.next_seq = 1
        self.last_cp_seq = 0
        self.ended = False
        self.expect_base = False
        self.since: dict | None = None
        self.result = Result(key_id=key.id)

    def apply(self, chunk: dict, before: int) -> None:
        """Link a checked chunk to what came before it (`before` lines), in line order; raise at its first bad line."""
        r = self.result
        for op in chunk["ops"]:
            name = op[0]
            if name is not None:
                self.rooted[name].apply(op[1], op[2])
                continue
            kind, n = op[1], op[2] + before
            if self.ended:
                raise BadLine(n, "a line after the export's last line")
            if kind == "first":
                seq, prev_hash = op[3], op[4]
                if self.expect_base:
                    r.warnings.append(f"the export starts after #{self.since['seq']}, which no signed checkpoint in it anchors")
                    self.expect_base = False
                if seq != self.next_seq:
                    raise BadLine(n, f"event #{seq}: expected event #{self.next_seq} here (an event is missing, or the lines "
                                     "are out of order)")
                if prev_hash != self.prev:
                    raise BadLine(n, f"event #{seq}: prev_hash is not the hash of the event before it")
            elif kind == "trust":
                self.trust_seen = True
                if op[3] != self.trust["head_hash"]:
                    raise BadLine(n, f"event #{self.trust['seq']}: the chain was rewritten — the checkpoint you kept says its "
                                     f"hash is {self.trust['head_hash']}, this export has {op[3]}")
            else:
                events, seq, h = op[4], op[5], op[6]
                at_seq, at_hash = (seq, h) if seq is not None else (self.next_seq - 1, self.prev)
                if kind == "cp":
                    _checkpoint(self, n, op[3], at_seq, at_hash, base=self.expect_base)
                    self.expect_base = False
                else:
                    end, total = op[3], r.events + events
                    if end != {"events": total, "head_hash": at_hash, "seq": at_seq}:
                        raise BadLine(n, f"the last line says {end}, the export has {total} events up to #{at_seq} "
                                         f"{at_hash[:16]}…")
                    self.ended = True
        if chunk["error"] is not None:
            raise BadLine(chunk["error"][0] + before, chunk["error"][1])
        if chunk["last"] is not None:
            if not r.events:
                r.first_seq = self.next_seq
            self.next_seq, self.prev = chunk["last"][0] + 1, chunk["last"][1]
            r.events += chunk["events"]


def _checkpoint(st: _State, n: int, obj: dict, at_seq: int, at_hash: str, base: bool = False) -> None:
    cp = obj["checkpoint"]
    if type(cp) is not dict or not CHECKPOINT_KEYS <= cp.keys() <= CHECKPOINT_KEYS | {"leaves"}:
        raise BadLine(n, f"a checkpoint line is {{\"checkpoint\": {{{', '.join(sorted(CHECKPOINT_KEYS))}[, leaves]}}}}")
    seq, head, roots, kid = cp["seq"], cp["head_hash"], cp["roots"], cp["key_id"]
    if type(seq) is not int or type(roots) is not dict or not all(_is_hex(v, 64) for v in roots.values()):
        raise BadLine(n, "checkpoint: seq is an integer, roots an object of 64-hex-digit roots")
    if seq != at_seq:
        raise BadLine(n, f"checkpoint #{seq} is not right after its event (the last event here is #{at_seq})")
    if head != at_hash:
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
            r.apply({_key_of(leaf.partition("|")[0]): leaf_hash(leaf) for leaf in leaves[name]}, [])
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


#: bytes of lines checked at a time (by one worker)
CHUNK = 1 << 20  # (measured: a worker checks lines of a 1 MiB chunk ~5 % faster than of 4 MiB: caches)


def _chunks(f) -> Iterator[bytes]:
    """Whole lines of a binary stream, about CHUNK bytes at a time; a last line without its newline comes last, as
    it is."""
    while True:
        block = f.read(CHUNK)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += f.readline()
        yield block


def _ranges(f) -> Iterator[tuple[str, int, int, int]] | None:
    """For a regular file: (path, start, end, first) of each CHUNK of bytes after the current position, for
    `_read_lines` to read in the worker — the parent then reads and copies nothing."""
    path = getattr(f, "name", None)
    try:
        if type(path) is not str or not f.seekable() or not os.path.samestat(os.fstat(f.fileno()), os.stat(path)):
            return None
        first, size = f.tell(), os.fstat(f.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return None
    return ((path, start, min(start + CHUNK, size), first) for start in range(first, size, CHUNK))


def _read_lines(path: str, start: int, end: int, first: int) -> bytes:
    """The lines of the file that begin in bytes [start, end): every line begins in exactly one range. The lines
    begin at `first` and after each newline."""
    with open(path, "rb") as f:
        pos = start
        if start > first:
            f.seek(start - 1)
            pos += len(f.readline()) - 1  # the rest of a line begun before start
            if pos >= end:
                return b""
        else:
            f.seek(start)
        data = f.read(end - pos)
        if data and not data.endswith(b"\n"):
            data += f.readline()  # the last line, to its end
        return data


class _Reader:
    """A file-like object over an iterable of lines (bytes)."""

    def __init__(self, lines: Iterable[bytes]):
        self.it = iter(lines)

    def readline(self) -> bytes:
        return next(self.it, b"")

    def read(self, size: int) -> bytes:
        parts, got = [], 0
        for line in self.it:
            parts.append(line)
            got += len(line)
            if got >= size:
                break
        return b"".join(parts)


def verify(source: Any, key: str | None = None, trust: dict | None = None, jobs: int = 1) -> Result:
    """Check an export: a binary file, or an iterable of its raw lines (bytes, each ending in a newline). key: the
    registry's public key (hex) you trust; trust: a checkpoint you kept (`load_checkpoint`); jobs: processes that
    check chunks of lines side by side. Raises BadLine at the first bad line."""
    with _without_collector():
        return _verify(source, key, trust, jobs)


def _verify(source: Any, key: str | None, trust: dict | None, jobs: int) -> Result:
    f = source if hasattr(source, "read") else _Reader(source)
    first = f.readline()
    if not first:
        raise BadLine(1, "the export is empty")
    if not first.endswith(b"\n"):
        raise BadLine(1, "the line does not end (the export is truncated)")
    try:
        text = first[:-1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(1, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    st, since = _header(1, _parse(1, text), key, trust)
    st.since = since
    if since is not None:
        st.prev, st.next_seq = since["head_hash"], since["seq"] + 1
        st.expect_base = True
        if trust is not None and trust["seq"] == since["seq"]:
            st.trust_seen = True
            if trust["head_hash"] != since["head_hash"]:
                raise BadLine(1, f"the export starts after #{since['seq']} with head {since['head_hash'][:16]}…, the checkpoint "
                                 "you kept says otherwise: the chain was rewritten")
    trust_seq = trust["seq"] if trust is not None else None
    ranges = _ranges(f)
    tasks = ((where, st.fields, trust_seq, FAST, COMPILED) for where in (ranges if ranges is not None else _chunks(f)))
    last_line = 1
    if jobs <= 1:
        results: Iterable[dict] = map(_check_chunk, tasks)
        last_line = _apply_all(st, results)
    else:
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        # (not multiprocessing.Pool: its worker-handler thread wakes for every result waiting to be read, and spent
        # ~0.4 s of the parent's CPU on the benchmark export)
        pool = ProcessPoolExecutor(jobs)
        try:
            pending: deque = deque()

            def results_in_order() -> Iterator[dict]:
                for task in tasks:
                    pending.append(pool.submit(_check_chunk, task))
                    if len(pending) > 2 * jobs:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()

            last_line = _apply_all(st, results_in_order())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    r = st.result
    if not st.ended:
        raise BadLine(last_line + 1, "the export ends without its last line {\"end\": …} (truncated)")
    if st.trust is not None and not st.trust_seen:
        if st.trust["seq"] > st.next_seq - 1:
            raise BadLine(last_line, f"the export ends at #{st.next_seq - 1}, before the checkpoint you kept (#{st.trust['seq']}): "
                                     "history was cut short")
        r.warnings.append(f"the checkpoint you kept (#{st.trust['seq']}) is before this export's first event: not checked")
    r.last_seq, r.head_hash = st.next_seq - 1, st.prev
    if not r.events:
        r.first_seq = st.next_seq
    r.unanchored = r.last_seq - max(st.last_cp_seq, since["seq"] if since else 0) if r.events else 0
    return r


def _apply_all(st: _State, results: Iterable[dict]) -> int:
    last_line = 1
    for chunk in results:
        if st.ended and chunk["lines"]:
            raise BadLine(last_line + 1, "a line after the export's last line")
        st.apply(chunk, last_line)
        last_line += chunk["lines"]
    return last_line


def verify_file(path: str, key: str | None = None, trust: dict | None = None, jobs: int = 1) -> Result:
    with open(path, "rb") as f:
        return verify(f, key=key, trust=trust, jobs=jobs)
