"""The agriculture cloud: prices in fen per kilogram whatever the market's unit; its access token kept and renewed."""

from datetime import date, timedelta
from decimal import Decimal

import marshmallow as ma
import pytest

from integrations.clouds.agriculture import connector as agriculture
from integrations.clouds.agriculture import sandbox as twin
from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_todays_prices_are_normalized(connect):
    answer = connect("agriculture").run("prices", {"product": "pomegranate"})
    prices = answer.result
    assert (prices["product"], prices["product_name"], prices["unit"]) == ("pomegranate", "石榴", "分/公斤")
    assert [m["market"] for m in prices["markets"]] == ["枣庄农产品批发市场", "峄城石榴交易市场"]
    for market in prices["markets"]:
        assert all(isinstance(market[key], int) for key in ("min_fen", "avg_fen", "max_fen", "change_fen"))
        assert 0 < market["min_fen"] <= market["avg_fen"] <= market["max_fen"]
    assert answer.as_of.isoformat().endswith("+08:00")
    assert (answer.as_of.hour, answer.as_of.minute) == (6, 30)  # the morning's quote


def test_prices_quoted_per_jin_become_fen_per_kilogram(connect):
    answer = connect("agriculture").run("prices", {"product": "egg"})
    main = answer.result["markets"][0]
    day = answer.as_of.date()
    quoted = twin._average("XQ0201", twin.MAIN_MARKET, day)  # 元/斤
    assert main["avg_fen"] == int(quoted * 200)
    assert main["change_fen"] == int((quoted - twin._average("XQ0201", twin.MAIN_MARKET, day - timedelta(1))) * 200)
    assert twin.VARIETIES["XQ0201"][1] == "元/斤"
    assert Decimal(main["avg_fen"]) / 200 == quoted


def test_price_history_follows_the_twins_pages(connect):
    answer = connect("agriculture").run("price_history", {"product": "garlic", "days": 30})
    days = answer.result["days"]
    assert len(days) == 30  # three pages of at most ten
    assert answer.result["market"] == "枣庄农产品批发市场"
    dates = [date.fromisoformat(d["date"]) for d in days]
    assert dates == [dates[0] - timedelta(days=n) for n in range(30)]  # newest first, one a day
    assert dates[0] == answer.as_of.date()


def test_price_history_is_a_week_unless_asked(connect):
    assert len(connect("agriculture").run("price_history", {"product": "cabbage"}).result["days"]) == 7


@pytest.mark.parametrize(
    "inputs", [{"product": "durian"}, {"product": "egg", "days": 31}, {"product": "egg", "days": 0}]
)
def test_nonsense_never_reaches_the_department(connect, inputs):
    with pytest.raises(ma.ValidationError):
        connect("agriculture").run("price_history", inputs)


def test_a_variety_the_market_does_not_quote_is_the_departments_no(connect, monkeypatch):
    monkeypatch.setitem(agriculture.PRODUCTS, "durian", "GX9901")  # as if our table knew one the twin does not
    with pytest.raises(UpstreamRejected) as refused:
        connect("agriculture").run("prices", {"product": "durian"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "品种不存在"


def test_the_token_is_kept_across_calls(connect):
    connector, before = connect("agriculture"), twin.tokens_issued()
    connector.run("prices", {"product": "potato"})
    connector.run("price_history", {"product": "potato", "days": 12})  # two pages
    assert twin.tokens_issued() == before + 1


def test_an_expired_token_is_renewed_without_the_citizen_noticing(connect):
    connector, before = connect("agriculture"), twin.tokens_issued()
    first = connector.run("prices", {"product": "pork"}).result
    twin.expire_tokens()
    assert connector.run("prices", {"product": "pork"}).result == first
    assert twin.tokens_issued() == before + 2


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("agriculture", app_secret="not-the-agriculture-secret").run("prices", {"product": "egg"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    connector = connect("agriculture")
    connector.run("prices", {"product": "egg"})  # the token is fetched; the next answer is the garbage
    fault_once("agriculture")
    with pytest.raises(UpstreamBadResponse):
        connector.run("prices", {"product": "egg"})
