"""What the clouds share: the twins' memory and clock (twin_kit) and the adapters' conversions (parsing)."""

import time
from datetime import datetime

import pytest

from integrations.connectors import parsing
from integrations.errors import UpstreamBadResponse
from integrations.sandbox import twin_kit


def test_a_nonce_is_seen_once_and_an_empty_one_always():
    nonces = twin_kit.NonceMemory()
    assert not nonces.seen_before("n-1")
    assert nonces.seen_before("n-1")
    assert nonces.seen_before("")
    nonces.clear()
    assert not nonces.seen_before("n-1")


def test_timestamp_problems():
    now = int(time.time())
    assert twin_kit.timestamp_problem(str(now)) is None
    assert twin_kit.timestamp_problem((now - 290) * 1000, millis=True) is None
    assert twin_kit.timestamp_problem(str(now - 310)) == "stale"
    assert twin_kit.timestamp_problem(str(now + 310)) == "stale"  # from a clock that runs ahead
    assert twin_kit.timestamp_problem(str(now), millis=True) == "stale"  # seconds where milliseconds were due
    assert twin_kit.timestamp_problem("") == twin_kit.timestamp_problem(None, millis=True) == "malformed"


def test_a_token_book_tells_valid_expired_and_unknown_tokens_apart():
    book = twin_kit.TokenBook(make_token=lambda: "t-1")
    assert book.issue() == ("t-1", 7200)
    assert (book.state("t-1"), book.state("t-2"), book.issued()) == ("valid", "unknown", 1)
    book.expire_all()
    assert book.state("t-1") == "expired" and not book.valid("t-1")
    book.revoke_all()
    assert (book.state("t-1"), book.issued()) == ("unknown", 1)
    book.clear()
    assert book.issued() == 0


def test_the_last_daily_batch_is_not_in_the_future():
    batch = twin_kit.last_daily_at(2, 30)
    assert (batch.hour, batch.minute, batch.utcoffset().total_seconds()) == (2, 30, 8 * 3600)
    assert 0 <= (datetime.now(batch.tzinfo) - batch).total_seconds() < 86400


@pytest.mark.parametrize(("yuan", "fen"), [("12.30", 1230), (0.1, 10), (7, 700), ("1.230", 123)])
def test_yuan_to_fen(yuan, fen):
    assert parsing.yuan_to_fen("party", yuan) == fen


@pytest.mark.parametrize("yuan", ["1.234", "NaN", "Infinity", "十元", None, True, [1]])
def test_what_is_not_whole_fen_is_a_bad_response(yuan):
    with pytest.raises(UpstreamBadResponse):
        parsing.yuan_to_fen("party", yuan)


def test_times_and_counts():
    assert parsing.beijing("party", "2026031809", "%Y%m%d%H").isoformat() == "2026-03-18T09:00:00+08:00"
    assert parsing.from_epoch("party", "1773795600000", millis=True).isoformat() == "2026-03-18T09:00:00+08:00"
    assert parsing.as_int("party", "12", "total") == 12
    for bad in (
        lambda: parsing.beijing("party", None, "%Y%m%d%H"),
        lambda: parsing.from_epoch("party", "soon"),
        lambda: parsing.as_int("party", None, "total"),
        lambda: parsing.as_records("party", {"rows": [1]}, "rows"),
    ):
        with pytest.raises(UpstreamBadResponse):
            bad()
