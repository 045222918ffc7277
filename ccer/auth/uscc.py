"""统一社会信用代码 (Unified Social Credit Code, USCC) per GB 32100-2015.

Layout (18 characters): [1] registration authority code, [2] organisation type code, [3-8] administrative
division code (GB/T 2260, six digits), [9-17] organisation code (GB 11714 body and its check character),
[18] the check character computed over the first 17 with weights 3^(i-1) mod 31 (GB 32100-2015 §4.2 /
Annex: C18 = 31 - (Σ Ci·Wi mod 31), 31 -> '0').
"""
from __future__ import annotations

from ..infra.errors import ValidationError

#: the 31 characters of the code; I, O, Z, S and V are never used (GB 32100-2015 Table 1)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

#: registration authority codes in use (GB 32100-2015 Table 2 and later assignments)
AUTHORITIES = set("123456789ABCDEFGNY")


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` is not a valid USCC, or None when it is."""
    if not isinstance(code, str):
        return "must be a string of 18 characters"
    if len(code) != 18:
        return f"must have 18 characters, got {len(code)}"
    for pos, ch in enumerate(code, start=1):
        if ch not in ALPHABET:
            hint = " (letters I, O, Z, S, V and lower case are never used)" if ch.isalpha() else ""
            return f"character {pos} {ch!r} is outside the GB 32100-2015 alphabet{hint}"
    if code[0] not in AUTHORITIES:
        return f"character 1 {code[0]!r} is not a registration authority code"
    if not code[2:8].isdigit():
        return "characters 3-8 must be the six-digit administrative division code (GB/T 2260)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but GB 32100-2015 gives {expected!r} for the first 17 characters"
    return None


def validate(code: str, field: str = "uscc") -> str:
    """Normalise (strip, upper-case) and validate; raise ValidationError naming the rule."""
    normalised = code.strip().upper() if isinstance(code, str) else code
    why = problem(normalised)
    if why:
        raise ValidationError(f"not a valid 统一社会信用代码: {why}", field=field, rule="GB 32100-2015")
    return normalised
