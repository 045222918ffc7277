"""Merkle roots from cached subtrees (ccer/ledger/verify.py root_of_blob) equal the plain root of §6
(ccer/infra/merkle.py), at every size around the chunk boundaries and when leaves change between two roots."""
from __future__ import annotations

import json
import random

import pytest

from ccer.infra import merkle
from ccer.ledger.verify import leaf_hashes, root_of_blob


def _leaves(n: int, salt: str = "") -> list[str]:
    return [f"{i}|{{\"v\":\"{salt}{i}\"}}" for i in range(1, n + 1)]


@pytest.mark.parametrize("chunk", [1, 2, 4, 8])
def test_every_size_gives_the_plain_root(chunk):
    for n in range(0, 70):
        leaves = _leaves(n)
        hashes = [h for _, h in leaf_hashes(leaves)]
        assert root_of_blob(b"".join(hashes), chunk=chunk) == merkle.root(leaves), (n, chunk)


def test_cached_subtrees_follow_changes():
    rng = random.Random(20)
    leaves = _leaves(300)
    known: dict = {}
    for _ in range(12):  # leaves removed, changed and added between two checkpoints
        for _ in range(rng.randint(0, 5)):
            leaves.pop(rng.randrange(len(leaves)))
        for _ in range(rng.randint(0, 5)):
            i = rng.randrange(len(leaves))
            leaves[i] = leaves[i].split("|")[0] + '|{"v":"changed"}'
        leaves += _leaves(rng.randint(0, 40), salt=f"new{rng.random()}")
        fresh: dict = {}
        got = root_of_blob(b"".join(h for _, h in leaf_hashes(leaves)), known, fresh, chunk=16)
        assert got == merkle.root(leaves)
        assert len(fresh) == len(leaves) // 16  # one subtree per full chunk, nothing more kept
        known = fresh


def test_kept_leaves_come_out_in_natural_id_order():
    """Rooted keeps integer ids in flat arrays and other ids in a dict; its root is the §6 root of the kept
    states in natural order ("9" before "10", then by text) — here against infra.merkle on the leaf strings."""
    from types import SimpleNamespace

    from ccer.ledger.verify import Rooted, leaf

    rooted = Rooted(SimpleNamespace(merkle=lambda st: st.get("active") is True))
    states = {"10": {"active": True}, "9": {"active": True}, "CCER-A": {"active": True}, "2": {"active": False},
              "1000": {"active": True}, "B7": {"active": True}}
    for sid, st in states.items():
        text = json.dumps(st, sort_keys=True, separators=(",", ":")).encode()
        rooted.update(int(sid) if sid.isdigit() else sid, st, leaf(sid, text))
    rooted.update(9, {"active": False}, leaf("9", b'{"active":false}'))  # 9 no longer kept
    kept = sorted((sid for sid, st in states.items() if st["active"] and sid != "9"), key=lambda s: (len(s), s))
    assert kept == ["10", "B7", "1000", "CCER-A"]
    assert rooted.root() == merkle.root([f'{sid}|{{"active":true}}' for sid in kept])
