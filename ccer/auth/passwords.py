"""argon2id password hashing."""
from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..infra.errors import ValidationError

# argon2id, library defaults (RFC 9106 second recommended option). The test suite sets CCER_FAST_HASH=1 for
# the lowest cost argon2 allows, since it creates hundreds of users; hashes stay valid argon2id either way.
_hasher = (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if os.environ.get("CCER_FAST_HASH") == "1"
           else PasswordHasher())
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise ValidationError(f"must have at least {MIN_LENGTH} characters", field="password", rule="password policy")
    return _hasher.hash(password)


def check_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
