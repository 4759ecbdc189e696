"""Resident ID numbers: GB 11643 shape, check digit, birth date, region; masking."""

from datetime import date

import pytest

from app.identity.resident_id import InvalidResidentId, make_valid, normalise, validate
from app.security.pii import mask_id_number as mask

VALID = make_valid("37040219900307123")  # 市中区, born 1990-03-07, odd sequence digit: male
WRONG_CHECK = VALID[:17] + ("0" if VALID[17] != "0" else "1")


def reason(raw, **kwargs):
    with pytest.raises(InvalidResidentId) as caught:
        validate(raw, **kwargs)
    return caught.value.reason


def test_a_valid_number_is_described():
    rid = validate(VALID)
    assert (rid.number, rid.birth_date, rid.region_code, rid.sex) == (VALID, date(1990, 3, 7), "370402", "M")
    assert validate(make_valid("37048119900307122")).sex == "F"


def test_known_published_example_passes():
    # The worked example of GB 11643-1999 appendix: 11010519491231002X.
    assert make_valid("11010519491231002") == "11010519491231002X"
    assert validate("11010519491231002x").number == "11010519491231002X"


def test_spaces_and_lowercase_x_are_normalised():
    number = make_valid("37040419781125020")
    assert number.endswith("X")
    assert normalise(f" {number[:6]} {number[6:14]} {number[14:].lower()} ") == number
    assert validate(number.lower()).number == number


@pytest.mark.parametrize("raw", ["", "37040219900307123", VALID + "1", "3704021990030712A4", "X" * 18, None])
def test_wrong_shape_is_format(raw):
    assert reason(raw) == "format"


def test_wrong_check_digit_is_checksum():
    assert reason(WRONG_CHECK) == "checksum"


def test_unreal_or_out_of_range_birth_dates():
    assert reason(make_valid("37040219900230123")) == "birth_date"  # 30 February
    assert reason(make_valid("37040218991231123")) == "birth_date"  # before 1900
    assert reason(make_valid("37040220300101123")) == "birth_date"  # the future
    assert reason(make_valid("37040220260102123"), today=date(2026, 1, 1)) == "birth_date"
    assert validate(make_valid("37040220260101123"), today=date(2026, 1, 1)).birth_date == date(2026, 1, 1)


@pytest.mark.parametrize("prefix", ["10", "16", "24", "47", "72", "84", "99"])
def test_bad_province_is_region(prefix):
    assert reason(make_valid(prefix + "040219900307123")) == "region"


def test_errors_never_repeat_the_number():
    with pytest.raises(InvalidResidentId) as caught:
        validate(WRONG_CHECK)
    assert VALID[:17] not in str(caught.value)


def test_mask_keeps_four_at_each_end():
    assert mask("370402199003071234") == "3704**********1234"
    assert mask("37040419781125020x") == "3704**********020X"
    assert mask("1234") == "****"


def test_make_valid_needs_seventeen_digits():
    with pytest.raises(InvalidResidentId):
        make_valid("3704021990030712")
