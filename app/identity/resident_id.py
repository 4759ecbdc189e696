"""Mainland resident ID numbers (居民身份证号码, GB 11643-1999): check and describe (masking lives in app.security.pii).

A passing number is well formed, not proof of a person: real-name still asks the population database.
Error messages never repeat the number: it is personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from app.clock import local, utcnow

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # ISO 7064 MOD 11-2: index is (weighted sum % 11)
PROVINCES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82, 83]
)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")  # ASCII digits only


class InvalidResidentId(ValueError):
    """`reason` is one of "format", "checksum", "birth_date", "region": safe to show and to count."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    region_code: str
    sex: str  # "M" or "F"


def normalise(raw: str) -> str:
    """Drop every space (people paste "3704 0219 ..."), and write the check character X upper-case."""
    return "".join(str(raw).split()).upper()


def check_char(prefix17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(prefix17, WEIGHTS, strict=True)) % 11]


def make_valid(prefix17: str) -> str:
    """The 17 digits plus their check character: for demo data and tests."""
    if not re.fullmatch(r"[0-9]{17}", prefix17):
        raise InvalidResidentId("format", "a resident ID prefix is 17 digits")
    return prefix17 + check_char(prefix17)


def validate(raw: str, *, today: date | None = None) -> ResidentId:
    number = normalise(raw)
    if not _SHAPE.fullmatch(number):
        raise InvalidResidentId("format", "a resident ID number is 17 digits and a check digit or X")
    # Checksum first: a typo anywhere shows here, before it looks like a bad date or region.
    if check_char(number[:17]) != number[17]:
        raise InvalidResidentId("checksum", "the resident ID number's check digit does not match")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidResidentId("birth_date", "the resident ID number holds no real birth date") from None
    # The city's calendar decides "today": just after midnight in Zaozhuang it is still yesterday in UTC.
    if born.year < 1900 or born > (today or local(utcnow()).date()):
        raise InvalidResidentId("birth_date", "the resident ID number's birth date is out of range")
    if int(number[:2]) not in PROVINCES:
        raise InvalidResidentId("region", "the resident ID number's region code is not a province")
    return ResidentId(number=number, birth_date=born, region_code=number[:6], sex="M" if int(number[16]) % 2 else "F")
