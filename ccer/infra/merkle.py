"""A Merkle tree over canonical JSON leaves, so that a checkpoint can commit to the whole of the registry's
holdings in 64 hex characters, and one holding can be proven part of it without the others.

Leaves and inner nodes are hashed with different prefixes (0x00 / 0x01, as RFC 6962 does) so a node can
never pass for a leaf. Levels are built pairwise from the left; an odd node at the end of a level is
carried up unchanged. The root of no leaves is SHA-256 of the empty string.
"""
from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def leaf_hash(data: str) -> bytes:
    return hashlib.sha256(b"\x00" + data.encode("utf-8")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(leaves: list[str]) -> list[list[bytes]]:
    level = [leaf_hash(x) for x in leaves]
    levels = [level]
    while len(level) > 1:
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def root(leaves: list[str]) -> str:
    if not leaves:
        return EMPTY_ROOT
    return _levels(leaves)[-1][0].hex()


def proof(leaves: list[str], index: int) -> list[tuple[str, str]]:
    """The sibling hashes from leaf `index` up to the root, each with the side it sits on ("L" or "R")."""
    path = []
    for level in _levels(leaves)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(("L" if sibling < index else "R", level[sibling].hex()))
        index //= 2
    return path


def verify_proof(leaf: str, path: list[tuple[str, str]], expected_root: str) -> bool:
    h = leaf_hash(leaf)
    for side, sibling in path:
        s = bytes.fromhex(sibling)
        h = _node(s, h) if side == "L" else _node(h, s)
    return h.hex() == expected_root
