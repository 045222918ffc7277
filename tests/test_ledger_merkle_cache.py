"""Merkle roots from cached subtrees (ccer/ledger/verify.py root_of_hashes) equal the plain root of §6
(ccer/infra/merkle.py), at every size around the chunk boundaries and when leaves change between two roots."""
from __future__ import annotations

import random

import pytest

from ccer.infra import merkle
from ccer.ledger.verify import leaf_hashes, root_of_hashes


def _leaves(n: int, salt: str = "") -> list[str]:
    return [f"{i}|{{\"v\":\"{salt}{i}\"}}" for i in range(1, n + 1)]


@pytest.mark.parametrize("chunk", [1, 2, 4, 8])
def test_every_size_gives_the_plain_root(chunk):
    for n in range(0, 70):
        leaves = _leaves(n)
        hashes = [h for _, h in leaf_hashes(leaves)]
        assert root_of_hashes(hashes, chunk=chunk) == merkle.root(leaves), (n, chunk)


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
        got = root_of_hashes([h for _, h in leaf_hashes(leaves)], known, fresh, chunk=16)
        assert got == merkle.root(leaves)
        assert len(fresh) == len(leaves) // 16  # one subtree per full chunk, nothing more kept
        known = fresh
