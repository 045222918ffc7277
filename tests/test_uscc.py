"""GB 32100-2015 check character: real codes from public business licences pass, corrupted ones fail
with the reason."""
import pytest

from ccer.auth import uscc
from ccer.infra.errors import ValidationError

from .conftest import REAL_USCC


@pytest.mark.parametrize("code", sorted(REAL_USCC))
def test_real_codes_are_valid(code):
    assert uscc.problem(code) is None
    assert uscc.validate(code.lower()) == code  # normalised to upper case


def test_check_character_by_hand():
    # Huawei 914403001922038216: values 9,1,4,4,0,3,0,0,1,9,2,2,0,3,8,2,1 × weights
    # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 = 9+3+36+108+0+78+0+0+20+261+50+26+0+72+80+60+28 = 831;
    # 831 mod 31 = 25; 31 − 25 = 6 -> '6'.
    assert uscc.WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert uscc.check_character("91440300192203821") == "6"


@pytest.mark.parametrize("code", sorted(REAL_USCC))
def test_every_single_character_change_is_caught(code):
    # The weights are all non-zero mod 31 (a prime), so any one substituted character changes the sum.
    for pos in range(17):
        for ch in "0A":
            if code[pos] == ch:
                continue
            bad = code[:pos] + ch + code[pos + 1:]
            assert uscc.problem(bad) is not None, bad


@pytest.mark.parametrize("bad, reason", [
    ("9144030071526726X", "must have 18 characters, got 17"),
    ("9144030071526726XGG", "must have 18 characters, got 19"),
    ("9144030071526726XI", "character 18 'I' is outside the GB 32100-2015 alphabet"),
    ("9144030071526726XO", "outside the GB 32100-2015 alphabet"),
    ("Z144030071526726XG", "character 1 'Z' is outside"),
    ("0144030071526726XG", "character 1 '0' is not a registration authority code"),
    ("914A030071526726XG", "characters 3-8 must be the six-digit administrative division code"),
    ("9144030071526726XA", "check character is 'A' but GB 32100-2015 gives 'G'"),
])
def test_corrupted_codes_say_why(bad, reason):
    assert reason in uscc.problem(bad)
    with pytest.raises(ValidationError) as err:
        uscc.validate(bad)
    assert err.value.field == "uscc" and err.value.rule == "GB 32100-2015"
