"""An inquiry bound to a built-in connector, as a citizen's phone sees it: the twin's answer normalized,
a cached answer while it is fresh, a stale one (with its age) where the service allows it while the cloud
is down, and otherwise one clear error from the CLOUD_* family; never a 500, never a hang."""

import json
import time

import pytest
import redis as redis_lib

from app.catalog.demo import choice, form
from tests.conftest import REDIS_URL

DISTRICTS = choice("区县", {"370402": "市中区", "370405": "台儿庄区", "999999": "不存在的区"})
AIR_FORM = form(required=False, district=DISTRICTS)
HOURLY_FORM = form(district=DISTRICTS)


@pytest.fixture
def air(via_connector):
    via_connector("air-now", "environment", "air_quality", AIR_FORM, "hbj", allow_stale=True, login_required=False)
    via_connector("air-strict", "environment", "air_quality", AIR_FORM, "hbj", login_required=False)
    via_connector("air-hourly", "environment", "air_hourly", HOURLY_FORM, "hbj", login_required=False)


def ask(client, code, inputs=None, headers=None):
    return client.post(f"/api/v1/services/{code}/query", json={"inputs": inputs or {}}, headers=headers or {})


def age_cached_answers(seconds: int) -> None:
    """Make every cached connector answer `seconds` older, as if that much time had passed."""
    store = redis_lib.Redis.from_url(REDIS_URL)
    for key in store.scan_iter("connector:*:cache:*"):
        kept = json.loads(store.get(key))
        kept["t"] -= seconds
        store.set(key, json.dumps(kept), keepttl=True)


def test_a_guest_gets_the_clouds_answer_normalized_with_its_source(client, air):
    answer = ask(client, "air-now", {"district": "370405"})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["result"]["readings"][0]["district_name"] == "台儿庄区"
    assert body["as_of"].endswith("+08:00")
    assert body["source"]["department"] == "hbj" and body["stale"] is False and body["age_seconds"] is None


def test_a_fresh_answer_is_served_from_cache_while_the_cloud_is_down(client, air, twin):
    first = ask(client, "air-strict", {"district": "370402"}).json
    twin.fault(mode="fail", status=500)
    again = ask(client, "air-strict", {"district": "370402"})
    assert again.status_code == 200 and again.json["result"] == first["result"] and not again.json["stale"]
    assert twin.served() == 0


def test_past_freshness_a_service_that_allows_it_answers_stale_with_the_age(client, air, twin):
    fresh = ask(client, "air-now", {"district": "370402"}).json
    ask(client, "air-strict", {"district": "370402"})
    age_cached_answers(700)  # freshness of air_quality is 600 s
    twin.fault(mode="fail", status=503)
    stale = ask(client, "air-now", {"district": "370402"})
    assert stale.status_code == 200
    assert stale.json["stale"] is True and 700 <= stale.json["age_seconds"] < 760
    assert stale.json["result"] == fresh["result"] and stale.json["as_of"] == fresh["as_of"]
    strict = ask(client, "air-strict", {"district": "370402"})  # this service does not allow stale answers
    assert strict.status_code == 503 and strict.json["error"]["code"] == "CLOUD_UNAVAILABLE"
    assert int(strict.headers["Retry-After"]) > 0


def test_the_breaker_opens_fails_fast_then_closes_when_the_cloud_recovers(client, air, twin, app):
    twin.fault(mode="fail", status=500)
    for district in ("370402", "370405", "999999", "370402", "370405"):  # failure_threshold is 5
        failed = ask(client, "air-strict", {"district": district})
        assert failed.status_code == 503 and failed.json["error"]["code"] == "CLOUD_UNAVAILABLE"
    calls = twin.served()
    started = time.perf_counter()
    fast = ask(client, "air-strict", {"district": "370402"})
    assert fast.status_code == 503 and time.perf_counter() - started < 0.2
    assert 1 <= int(fast.headers["Retry-After"]) <= 30
    assert twin.served() == calls  # failing fast: the cloud was not asked

    twin.heal()
    redis_lib.Redis.from_url(REDIS_URL).hset("connector:environment:breaker", "until", 0)  # the open period ends
    probe = ask(client, "air-strict", {"district": "370402"})
    assert probe.status_code == 200
    assert ask(client, "air-strict", {"district": "370405"}).status_code == 200


def test_a_slow_cloud_is_a_504_within_the_timeout(client, air, twin, app):
    from app.connectors import service

    with app.test_request_context():
        service.built("environment").connector.timeout = (1.0, 0.5)  # this process's built connector
    twin.fault(mode="slow", delay_ms=2000)
    started = time.perf_counter()
    answer = ask(client, "air-strict", {"district": "370402"})
    assert answer.status_code == 504 and answer.json["error"]["code"] == "CLOUD_TIMEOUT"
    assert time.perf_counter() - started < 1.5


def test_a_garbled_answer_is_a_502(client, air, twin):
    twin.fault(mode="garbage")
    answer = ask(client, "air-strict", {"district": "370402"})
    assert answer.status_code == 502 and answer.json["error"]["code"] == "CLOUD_BAD_RESPONSE"


def test_the_departments_no_comes_with_its_own_words(client, air):
    answer = ask(client, "air-hourly", {"district": "999999"})
    assert answer.status_code == 404
    assert answer.json["error"] == answer.json["error"] | {"code": "CLOUD_REJECTED", "message": "无此区域的监测数据"}


def test_a_cloud_that_went_away_is_a_503(client, air, app):
    from app.connectors import service

    with app.test_request_context():
        service.built("environment").connector.base_url = "http://127.0.0.1:9"
    answer = ask(client, "air-strict", {"district": "370402"})
    assert answer.status_code == 503 and answer.json["error"]["code"] == "CLOUD_UNAVAILABLE"


def test_a_citizens_queries_are_in_their_history_and_a_guests_are_not(client, air, citizen):
    ask(client, "air-now", {"district": "370405"}, citizen)
    ask(client, "air-hourly", {"district": "999999"}, citizen)
    ask(client, "air-now", {"district": "370402"})  # a guest
    history = client.get("/api/v1/me/queries", headers=citizen)
    assert history.status_code == 200
    items = history.json["items"]
    assert [(i["service"], i["outcome"]) for i in items] == [("air-hourly", "CLOUD_REJECTED"), ("air-now", "ok")]
    assert items[1]["inputs"] == {"district": "370405"} and items[1]["at"].endswith("+08:00")
    page = client.get("/api/v1/me/queries", query_string={"limit": 1}, headers=citizen).json
    rest = client.get("/api/v1/me/queries", query_string={"cursor": page["next_cursor"]}, headers=citizen).json
    assert [i["service"] for i in page["items"] + rest["items"]] == ["air-hourly", "air-now"]
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/me/queries").status_code == 401
