"""The registry's checkpoint signing key (Ed25519) and what a checkpoint signature covers.

The key is the registry's: `CCER_LEDGER_KEY` gives it (the path of a PEM private key, or the 32-byte seed in
hex), else it is the file `ledger_signing_key` in the instance folder (`CCER_INSTANCE_PATH`, default
./instance), created on first use. Its public key is published (`GET /api/v1/public/ledger/key`, every
export's first line); a checkpoint's signature covers the canonical JSON of its seq, head hash, Merkle roots
and the id of the key (docs/ledger-format.md §7), so a database rewrite cannot forge the history's anchors
without the key, and a mirror that kept an older signed checkpoint proves a rewrite.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .codec import dumps

KEY_FILE = "ledger_signing_key"
ALGORITHM = "Ed25519"


def signed_text(seq: int, head_hash: str, roots: dict[str, str], key_id: str) -> str:
    """What a checkpoint signature signs: the canonical JSON of these four members (the UTF-8 bytes of it)."""
    return dumps({"head_hash": head_hash, "key_id": key_id, "roots": dict(roots), "seq": seq})


def key_id(public_raw: bytes) -> str:
    """A key's id: the lowercase hex SHA-256 of its raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()


@dataclass(frozen=True)
class PublicKey:
    """A registry public key, as published: raw 32 bytes (hex) and its id."""

    raw: bytes

    @property
    def hex(self) -> str:
        return self.raw.hex()

    @property
    def id(self) -> str:
        return key_id(self.raw)

    @classmethod
    def from_hex(cls, text: str) -> "PublicKey":
        raw = bytes.fromhex(text.strip())
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes (64 hex digits)")
        return cls(raw)

    def verifies(self, signature_hex: str | None, seq: int, head_hash: str, roots: dict[str, str], kid: str | None) -> bool:
        """Whether `signature_hex` is this key's signature of the checkpoint (and names this key)."""
        if not signature_hex or kid != self.id:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(bytes.fromhex(signature_hex),
                                                                signed_text(seq, head_hash, roots, kid).encode("utf-8"))
            return True
        except (InvalidSignature, ValueError):
            return False

    def as_dict(self) -> dict:
        return {"algorithm": ALGORITHM, "key_id": self.id, "public_key": self.hex}


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public: PublicKey
    source: str

    def sign(self, seq: int, head_hash: str, roots: dict[str, str]) -> tuple[str, str]:
        """(signature hex, key id) of a checkpoint."""
        kid = self.public.id
        return self.private.sign(signed_text(seq, head_hash, roots, kid).encode("utf-8")).hex(), kid


_cache: dict[str, SigningKey] = {}
_lock = threading.Lock()


def _source() -> tuple[str, Path | None]:
    given = os.environ.get("CCER_LEDGER_KEY", "").strip()
    if given:
        return given, None
    folder = Path(os.environ.get("CCER_INSTANCE_PATH", "instance")).resolve()
    return str(folder / KEY_FILE), folder / KEY_FILE


def _from_private(private: Ed25519PrivateKey, source: str) -> SigningKey:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(private, PublicKey(raw), source)


def _load(given: str, path: Path | None) -> SigningKey:
    if path is None:  # CCER_LEDGER_KEY: a 64-hex-digit seed, or a PEM file
        if len(given) == 64 and all(c in "0123456789abcdefABCDEF" for c in given):
            return _from_private(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(given)), "CCER_LEDGER_KEY")
        path = Path(given)
        if not path.exists():
            raise RuntimeError(f"CCER_LEDGER_KEY: {given} is neither a 64-hex-digit Ed25519 seed nor an existing key file")
    elif not path.exists():  # first use: create the registry's key, readable by its owner only
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise RuntimeError(f"{path}: not an Ed25519 private key")
    return _from_private(private, str(path))


def signing_key() -> SigningKey:
    """The registry's signing key (created in the instance folder on first use)."""
    given, path = _source()
    with _lock:
        key = _cache.get(given)
        if key is None:
            try:
                key = _cache[given] = _load(given, path)
            except FileExistsError:  # another process created it between our check and our write
                key = _cache[given] = _load(given, path)
        return key


def public_key() -> PublicKey:
    """The registry's public key, the one its checkpoints are verified with."""
    return signing_key().public
