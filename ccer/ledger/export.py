"""The public ledger as JSON lines, streamed (docs/ledger-format.md §9): what the stand-alone verifier
(verifier/, `ccer-verify`) reads, and what anyone may mirror.

    line 1           {"ccer_ledger_export":1,"genesis":…,"key":{…},"rooted":{…},"since":null|{"head_hash":…,"seq":…}}
    (since only)     {"checkpoint":{…the trusted checkpoint the export starts from, with its leaves when asked…}}
    one per event    {"action":…,"actor":…,"actor_user_id":…,"hash":…,"occurred_at":…,"payload":"<payload_json>",
                      "prev_hash":…,"seq":…,"subject_id":…,"subject_type":…}
    after its event  {"checkpoint":{"created_at":…,"head_hash":…,"key_id":…,"roots":{…},"seq":…,"signature":…}}
    last line        {"end":{"events":…,"head_hash":…,"seq":…}}

Every line is canonical JSON (§2). An event line is the object its hash covers (§3) with the member "hash"
added: take "hash" out and the rest is the hashed text. Events are read in keyset pages and written as they
are read, so an export of any size holds one page in memory.
"""
from __future__ import annotations

from json.encoder import encode_basestring as _estr
from typing import Any, Callable, Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from .codec import GENESIS, dumps, plain
from .models import Checkpoint
from .signing import public_key
from .subjects import SUBJECT_TYPES, merkle_leaves
from .verify import chain_rows, replayed_states

FORMAT = 1
#: a rooted subject type keeps (as a Merkle leaf) the states whose member of this name is true
KEPT_WHEN = "active"


def header(since: dict | None, rooted: list[str]) -> str:
    return dumps({"ccer_ledger_export": FORMAT, "genesis": GENESIS, "key": public_key().as_dict(),
                  "rooted": {name: KEPT_WHEN for name in rooted}, "since": since})


def event_line(seq: int, at, uid: int | None, actor: str, stype: str, sid: str, action: str, payload: str, prev: str,
               hash_: str) -> str:
    """An event as an export line: canonical JSON of the hashed object (§3) plus "hash" (built by concatenation)."""
    return ('{"action":' + _estr(action) + ',"actor":' + _estr(actor) + ',"actor_user_id":' + ("null" if uid is None else str(uid))
            + ',"hash":' + _estr(hash_) + ',"occurred_at":' + _estr(plain(at)) + ',"payload":' + _estr(payload)
            + ',"prev_hash":' + _estr(prev) + ',"seq":' + str(seq) + ',"subject_id":' + _estr(sid)
            + ',"subject_type":' + _estr(stype) + "}")


def checkpoint_line(cp: Checkpoint, leaves: dict[str, list[str]] | None = None) -> str:
    body = cp.public()
    if leaves is not None:
        body["leaves"] = leaves
    return dumps({"checkpoint": body})


def base_of(session: Session, since: Any) -> tuple[int, str, Checkpoint | None]:
    """(seq, head hash, stored checkpoint or None) an export `--since` starts after: a seq, or an exported
    checkpoint (dict), which must match the chain."""
    from sqlalchemy import text

    seq = int(since["seq"]) if isinstance(since, dict) else int(since)
    got = session.execute(text("SELECT hash FROM events WHERE seq = :s"), {"s": seq}).scalar_one_or_none() if seq else GENESIS
    if got is None:
        raise ValueError(f"the chain has no event #{seq}")
    if isinstance(since, dict) and since.get("head_hash") != got:
        raise ValueError(f"the chain's event #{seq} is not the checkpoint's head: history was rewritten")
    cp = session.execute(select(Checkpoint).where(Checkpoint.seq == seq)).scalar_one_or_none()
    return seq, got, cp


def lines(session: Session, since: Any = None, upto: int | None = None, leaves: bool = False,
          progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The export's lines (without newlines), streamed. since: a seq or an exported checkpoint to start after;
    upto: the last seq (default: the head when the export starts); leaves: give the base checkpoint its leaves."""
    rooted = sorted(name for name, kind in SUBJECT_TYPES.items() if kind.merkle is not None)
    after, base_hash, base_cp = (0, GENESIS, None) if since is None else base_of(session, since)
    if upto is None:
        upto = session.execute(select(Checkpoint.seq).order_by(Checkpoint.seq.desc()).limit(1)).scalar_one_or_none() or 0
        from .append import head

        upto = max(upto, head(session)[0])
    yield header(None if since is None else {"head_hash": base_hash, "seq": after}, rooted)
    if base_cp is not None:
        base_leaves = None
        if leaves:
            base_leaves = {name: merkle_leaves(SUBJECT_TYPES[name], replayed_states(session, name, after))
                           for name in base_cp.roots if name in SUBJECT_TYPES}
        yield checkpoint_line(base_cp, base_leaves)
    cps = {cp.seq: cp for cp in session.execute(select(Checkpoint).where(Checkpoint.seq > after, Checkpoint.seq <= upto)
                                                .order_by(Checkpoint.seq)).scalars()}
    n, last_seq, last_hash = 0, after, base_hash
    for seq, at, uid, actor, stype, sid, action, payload, prev, hash_ in chain_rows(session, after):
        if seq > upto:
            break
        yield event_line(seq, at, uid, actor, stype, sid, action, payload, prev, hash_)
        n, last_seq, last_hash = n + 1, seq, hash_
        cp = cps.get(seq)
        if cp is not None:
            yield checkpoint_line(cp)
        if progress is not None and not n % 10_000:
            progress(n)
    yield dumps({"end": {"events": n, "head_hash": last_hash, "seq": last_seq}})


def write(session: Session, out: TextIO, **kw) -> int:
    """Stream the export to a text file; how many lines."""
    n, buf = 0, []
    for line in lines(session, **kw):
        buf.append(line)
        n += 1
        if len(buf) >= 1000:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    return n
