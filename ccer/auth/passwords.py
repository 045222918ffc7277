"""argon2id password hashing and the one password policy (issue 15, item 5).

The policy is checked wherever a password is chosen — user creation (API, pages, CLI, demo) and password
change — by `check_policy`, and every refusal names the field and the rule."""
from __future__ import annotations

import functools
import os
import string
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..infra.errors import ValidationError

# argon2id, library defaults (RFC 9106 second recommended option). The test suite sets CCER_FAST_HASH=1 for
# the lowest cost argon2 allows, since it creates hundreds of users; hashes stay valid argon2id either way.
_hasher = (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if os.environ.get("CCER_FAST_HASH") == "1"
           else PasswordHasher())
#: NIST SP 800-63B §5.1.1.2 asks for at least 8; 12 leaves room for the passphrases people remember
MIN_LENGTH = 12
#: argon2 takes any length, but hashing megabytes per login attempt is work an attacker chooses
MAX_LENGTH = 200
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
#: what may be added around a common password without making it any less common ("password2026!")
_PADDING = string.digits + string.punctuation + " "


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (data/common-passwords.txt), lower-cased."""
    with COMMON_FILE.open(encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip() and not line.startswith("#"))


def policy_problem(password, username: str | None = None, organisation_name: str | None = None) -> tuple[str, str] | None:
    """(message, rule) for a password the policy refuses, or None. NIST SP 800-63B §5.1.1.2: a minimum length, and
    no value known to be commonly used or specific to the user (the username, the organisation's name)."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return f"must have at least {MIN_LENGTH} characters", "password policy: minimum length"
    if len(password) > MAX_LENGTH:
        return f"must have at most {MAX_LENGTH} characters", "password policy: maximum length"
    lowered = password.lower()
    for value, what in ((username, "the username"), (organisation_name, "the organisation's name")):
        if value and len(value.strip()) >= 3 and value.strip().lower() in lowered:
            return f"must not contain {what}", f"password policy: not {what}"
    common = common_passwords()
    if lowered in common or lowered.strip(_PADDING) in common:
        return "is one of the most common passwords (or one with digits or symbols added)", "password policy: not a common password"
    return None


def check_policy(password, username: str | None = None, organisation_name: str | None = None, field: str = "password") -> None:
    """Raise ValidationError naming `field` and the rule when the policy refuses the password."""
    problem = policy_problem(password, username, organisation_name)
    if problem:
        raise ValidationError(problem[0], field=field, rule=problem[1])


def hash_password(password: str) -> str:
    """The argon2id hash. The policy is the caller's (check_policy): a hash is also made of passwords chosen before
    the policy, e.g. re-hashing."""
    if not isinstance(password, str) or not password:
        raise ValidationError("is required", field="password")
    return _hasher.hash(password)


def check_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone: " + os.urandom(16).hex())


def check_nobody(password: str) -> bool:
    """Verify `password` against a hash no one has, at the cost of a real check, so that a login for an unknown
    username takes as long as one for a known username (no telling users apart by timing). Always False."""
    check_password(_dummy_hash(), password if isinstance(password, str) else "")
    return False
