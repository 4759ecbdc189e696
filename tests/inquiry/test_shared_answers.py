"""Guests asking the same public question share one finished answer for a moment
(blueprints/services/shared_answers.py): never a stale one, never a citizen's, never past a suspension,
and the rate limit and the use count still apply to every request."""

import time

import pytest
import redis as redis_lib

from app.catalog import service
from app.connectors import service as connectors_service
from tests.catalog.test_lifecycle import OPERATOR, acting
from tests.conftest import REDIS_URL
from tests.inquiry.test_connector_query import AIR_FORM, age_cached_answers, ask

GUEST_A, GUEST_B = {"REMOTE_ADDR": "10.7.0.1"}, {"REMOTE_ADDR": "10.7.0.2"}


@pytest.fixture
def sharing(app, monkeypatch):
    def share_for(seconds: float):
        monkeypatch.setitem(app.config, "CONNECTOR_LOCAL_CACHE_SECONDS", seconds)

    share_for(0.5)
    return share_for


@pytest.fixture
def air(via_connector, sandbox_url):
    via_connector("air-now", "environment", "air_quality", AIR_FORM, "hbj", allow_stale=True, login_required=False)
    via_connector("air-strict", "environment", "air_quality", AIR_FORM, "hbj", login_required=False)


def forget_department_answers() -> None:
    """Empty the worker's copies and Redis's copies of the departments' answers: what is still answered
    can only be a shared finished answer."""
    connectors_service._local.clear()
    store = redis_lib.Redis.from_url(REDIS_URL)
    for key in store.scan_iter("connector:*:cache:*"):
        store.delete(key)


def guest_asks(client, code, district, who):
    return client.post(f"/api/v1/services/{code}/query", json={"inputs": {"district": district}}, environ_base=who)


def test_a_second_guest_asking_the_same_gets_the_same_answer_for_a_moment_only(client, air, twin, sharing):
    first = guest_asks(client, "air-strict", "370402", GUEST_A)
    assert first.status_code == 200
    forget_department_answers()
    twin.fault(mode="fail", status=500)
    second = guest_asks(client, "air-strict", "370402", GUEST_B)
    assert second.status_code == 200 and second.data == first.data
    assert second.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    other = guest_asks(client, "air-strict", "370405", GUEST_B)
    assert other.status_code == 503 and other.json["error"]["code"] == "CLOUD_UNAVAILABLE", "another question"
    time.sleep(0.6)
    later = guest_asks(client, "air-strict", "370402", GUEST_B)
    assert later.status_code == 503, "past the moment, the department is asked again"


def test_a_stale_answer_is_never_shared(client, air, twin, sharing):
    assert guest_asks(client, "air-now", "370402", GUEST_A).status_code == 200
    time.sleep(0.6)
    age_cached_answers(700)  # past air_quality's 600 s of freshness
    twin.fault(mode="fail", status=503)
    stale = guest_asks(client, "air-now", "370402", GUEST_A)
    assert stale.status_code == 200 and stale.json["stale"] is True
    twin.heal()
    fresh = guest_asks(client, "air-now", "370402", GUEST_B)
    assert fresh.status_code == 200 and fresh.json["stale"] is False and fresh.json["age_seconds"] is None


def test_citizens_neither_get_nor_give_shared_answers(client, air, twin, sharing, citizen):
    assert guest_asks(client, "air-strict", "370402", GUEST_A).status_code == 200
    forget_department_answers()
    twin.fault(mode="fail", status=500)
    own = ask(client, "air-strict", {"district": "370402"}, headers=citizen)
    assert own.status_code == 503, "a citizen's question goes to the department (or its cache) every time"
    twin.heal()
    assert ask(client, "air-strict", {"district": "370405"}, headers=citizen).status_code == 200
    forget_department_answers()
    twin.fault(mode="fail", status=500)
    assert guest_asks(client, "air-strict", "370405", GUEST_B).status_code == 503, "a citizen's answer is not kept"


def test_a_suspended_service_is_not_answered_from_a_shared_answer(app, client, air, sharing):
    assert guest_asks(client, "air-strict", "370402", GUEST_A).status_code == 200
    with acting(app, OPERATOR):
        service.transition(OPERATOR, "air-strict", 1, "suspend", "接口维护")
    gone = guest_asks(client, "air-strict", "370402", GUEST_B)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "SERVICE_NOT_FOUND"


def test_shared_answers_count_towards_the_guests_rate_limit(client, air, sharing):
    sharing(30)
    answers = [guest_asks(client, "air-strict", "370402", GUEST_A).status_code for _ in range(30)]
    assert answers == [200] * 30
    refused = guest_asks(client, "air-strict", "370402", GUEST_A)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert guest_asks(client, "air-strict", "370402", GUEST_B).status_code == 200
