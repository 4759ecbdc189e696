"""Unified social credit codes (GB 32100-2015): the check character against real published codes."""

import pytest

from integrations.clouds.sharing import uscc
from integrations.clouds.sharing.twin_data import LEGAL_ENTITIES

# Codes printed on real business licences and in the standard itself.
PUBLISHED = [
    "91350100M000100Y43",  # GB 32100-2015's own example
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "914403001922038216",  # 华为技术有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert uscc.is_valid(code)
    assert uscc.check_character(code[:17]) == code[17]
    assert uscc.make_valid(code[:17]) == code


def test_the_weights_are_powers_of_three_mod_31():
    assert uscc.WEIGHTS[:6] == (1, 3, 9, 27, 19, 26)
    assert uscc.WEIGHTS[-1] == 28


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # the check character one off
        "91440300708461163T",  # two characters swapped
        "91370402MA3C123456",  # well formed, wrong check character
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19 characters
        "91350100m000100Y43",  # lower case: normalize first
        "9135010OM000100Y43",  # the letter O, not in the code's set
        "91350100M0001001S3",  # S is not either
        "",
        None,
    ],
)
def test_invalid_codes(code):
    assert not uscc.is_valid(code)


def test_check_character_refuses_what_is_not_17_code_characters():
    for prefix in ("9135010", "91350100M000100YI", "91350100M000100Y43"):
        with pytest.raises(ValueError):
            uscc.check_character(prefix)


def test_the_check_character_can_be_any_of_the_31():
    made = {uscc.make_valid(f"913704025787734{n:02d}")[-1] for n in range(100)}
    assert made <= set(uscc.CHARSET) and len(made) == 31


def test_every_code_in_the_twins_register_is_valid():
    assert len(LEGAL_ENTITIES) >= 8
    assert all(uscc.is_valid(code) for code in LEGAL_ENTITIES)
