"""Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters, the last a check character.

Layout: registration authority (1) + entity kind (1) + region code (6) + organization code (9, GB 11714)
+ check character (1). The characters are the digits and the capitals without I, O, S, V, Z; the check is
a MOD 31 sum with the weights 3^i mod 31. A passing code is well formed, not proof the entity exists.
"""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: the value of each is its index
WEIGHTS = tuple(pow(3, position, 31) for position in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
_SHAPE = re.compile(f"[{CHARSET}]{{18}}")
_PREFIX = re.compile(f"[{CHARSET}]{{17}}")


def check_character(first17: str) -> str:
    """The 18th character for these 17; ValueError when they are not 17 characters of the code's set."""
    if not _PREFIX.fullmatch(first17):
        raise ValueError("a credit code's first part is 17 characters of 0-9 and A-Y without I, O, S, V, Z")
    total = sum(CHARSET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """Well formed and its check character agrees. Upper case only: normalize before asking."""
    if not isinstance(code, str) or not _SHAPE.fullmatch(code):
        return False
    return check_character(code[:17]) == code[17]


def make_valid(first17: str) -> str:
    """The 17 characters plus their check character: for demo data and tests."""
    return first17 + check_character(first17)
