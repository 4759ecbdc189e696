"""The guarded call against a real twin and real Redis: the breaker opens, fails fast, probes and closes;
the cache answers fresh and, where allowed, stale; slow, failing, garbled and vanished twins never hang."""

import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
import redis as redis_lib
import requests

from integrations.clouds import load_connectors
from integrations.connectors.base import REGISTRY, Answer, Identity
from integrations.connectors.breaker import Breaker, BreakerOpen
from integrations.connectors.cache import LocalAnswers, ResponseCache
from integrations.connectors.gateway import Gateway
from integrations.connectors.metrics import summary
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from integrations.sandbox import keyring
from tests.conftest import REDIS_URL


def keyed(raw: bytes) -> str:
    return hmac.new(b"test-cache-key", raw, hashlib.sha256).hexdigest()


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def redis():
    return redis_lib.Redis.from_url(REDIS_URL)


@pytest.fixture
def gateway(redis, clock):
    return Gateway(redis, ResponseCache(redis, hasher=keyed, clock=clock), clock=clock)


@pytest.fixture
def environment(sandbox_url):
    load_connectors()

    def build(**settings):
        raw = {
            "base_url": f"{sandbox_url}/environment",
            "app_key": keyring.cloud_app_key("environment"),
            "app_secret": keyring.cloud_app_secret("environment"),
            "attempts": 1,
            "failure_threshold": 3,
            "open_seconds": 30,
            **settings,
        }
        cls = REGISTRY["environment"]
        return cls("environment", cls.Config().load(raw))

    return build


@pytest.fixture
def fault(sandbox_url):
    def set_fault(**spec):
        requests.put(f"{sandbox_url}/_control/faults/environment", json=spec, timeout=5).raise_for_status()

    def served():
        return requests.get(f"{sandbox_url}/_control/faults", timeout=5).json().get("environment", {}).get("served")

    set_fault.clear = lambda: requests.delete(f"{sandbox_url}/_control/faults/environment", timeout=5)
    set_fault.served = served
    return set_fault


def test_a_fresh_answer_is_served_from_cache_without_calling(gateway, environment, fault):
    connector = environment()
    first = gateway.call(connector, "air_quality", {"district": "370402"})
    fault(mode="fail", status=500)
    again = gateway.call(connector, "air_quality", {"district": "370402"})
    assert again.result == first.result and not again.stale
    assert fault.served() == 0  # the twin was never asked


def test_breaker_opens_after_the_configured_failures_and_then_fails_fast(gateway, environment, fault):
    connector = environment()
    fault(mode="fail", status=500)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable) as failed:
            gateway.call(connector, "air_quality", {"district": "370402"})
        assert not isinstance(failed.value, BreakerOpen)
    assert gateway.breaker(connector).state()["state"] == "open"
    started = time.perf_counter()
    with pytest.raises(BreakerOpen) as open_:
        gateway.call(connector, "air_quality", {"district": "370402"})
    assert time.perf_counter() - started < 0.05
    assert 1 <= open_.value.retry_after <= 30
    assert fault.served() == 3  # the fourth call never left


def test_every_worker_sees_the_breaker_open(redis, gateway, environment, fault, clock):
    fault(mode="fail", status=503)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            gateway.call(environment(), "air_quality", {})
    other_worker = Gateway(redis_lib.Redis.from_url(REDIS_URL), ResponseCache(redis, keyed, clock=clock), clock=clock)
    with pytest.raises(BreakerOpen):
        other_worker.call(environment(), "air_quality", {})


def test_half_open_probe_reopens_on_failure_and_closes_on_recovery(gateway, environment, fault, clock):
    connector = environment()
    fault(mode="fail", status=500)
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            gateway.call(connector, "air_quality", {})
    clock.now += 31
    with pytest.raises(UpstreamUnavailable) as probe:  # the probe went out, and failed
        gateway.call(connector, "air_quality", {})
    assert not isinstance(probe.value, BreakerOpen)
    assert fault.served() == 4
    with pytest.raises(BreakerOpen):  # open again at once, for another full period
        gateway.call(connector, "air_quality", {})
    clock.now += 31
    fault.clear()
    answer = gateway.call(connector, "air_quality", {})  # the probe succeeds: closed
    assert answer.result["readings"]
    assert gateway.breaker(connector).state() == {"state": "closed", "failures": 0, "retry_after": 0}


def test_only_one_caller_probes_while_the_others_fail_fast(redis, clock):
    breaker = Breaker(redis, "probe-test", threshold=1, open_seconds=10, clock=clock)
    breaker.failed(breaker.admit())
    clock.now += 11
    assert breaker.admit().probe
    with pytest.raises(BreakerOpen):
        breaker.admit()


def test_refusals_do_not_open_the_breaker(gateway, environment):
    connector = environment()
    for _ in range(5):
        with pytest.raises(UpstreamRejected):
            gateway.call(connector, "air_hourly", {"district": "999999"})
    assert gateway.breaker(connector).state()["state"] == "closed"


def test_a_slow_twin_times_out_within_the_read_timeout(gateway, environment, fault):
    fault(mode="slow", delay_ms=2000)
    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        gateway.call(environment(read_timeout=0.5), "air_quality", {})
    assert time.perf_counter() - started < 1.5


def test_a_garbled_answer_is_a_bad_response_and_counts_against_the_breaker(gateway, environment, fault):
    connector = environment(failure_threshold=2)
    fault(mode="garbage")
    for _ in range(2):
        with pytest.raises(UpstreamBadResponse):
            gateway.call(connector, "air_quality", {})
    assert gateway.breaker(connector).state()["state"] == "open"


def test_a_twin_that_went_away_is_unavailable_at_once(gateway, environment):
    started = time.perf_counter()
    with pytest.raises(UpstreamUnavailable):
        gateway.call(environment(base_url="http://127.0.0.1:9"), "air_quality", {})
    assert time.perf_counter() - started < 1


def test_idempotent_reads_are_retried_once_past_a_passing_failure(gateway, environment, fault):
    fault(mode="fail", status=503, times=1)
    answer = gateway.call(environment(attempts=2), "air_quality", {})
    assert answer.result["readings"] and fault.served() == 1


def test_stale_answer_stands_in_when_allowed_and_within_the_window(gateway, environment, fault, clock):
    connector = environment()
    fresh = gateway.call(connector, "air_quality", {"district": "370405"})
    clock.now += 601  # past freshness (600 s)
    fault(mode="fail", status=503)
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_quality", {"district": "370405"})  # the service does not allow stale
    stale = gateway.call(connector, "air_quality", {"district": "370405"}, allow_stale=True)
    assert stale.stale and stale.result == fresh.result and 600 <= stale.age_seconds <= 602
    for _ in range(3):  # the breaker is open now; the stale answer still stands in
        assert gateway.call(connector, "air_quality", {"district": "370405"}, allow_stale=True).stale
    clock.now += 6 * 3600  # past the stale window: nothing to stand in for the probe that fails
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_quality", {"district": "370405"}, allow_stale=True)


def test_operations_too_volatile_for_stale_answers_never_get_one(gateway, environment, fault, clock):
    connector = environment()
    gateway.call(connector, "air_hourly", {"district": "370405"})
    clock.now += 601
    fault(mode="fail", status=503)
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_hourly", {"district": "370405"}, allow_stale=True)


def test_figures_count_calls_errors_latency_and_the_last_error(redis, gateway, environment, fault, clock):
    connector = environment()
    gateway.call(connector, "air_quality", {"district": "370402"})
    gateway.call(connector, "air_quality", {"district": "370403"})
    fault(mode="fail", status=500, times=1)
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_quality", {"district": "370404"})
    figures = summary(redis, "environment", now=clock.now)
    assert figures["calls"] == 3
    assert figures["outcomes"]["ok"] == 2 and figures["outcomes"]["unavailable"] == 1
    assert figures["error_rate"] == pytest.approx(1 / 3, abs=0.001)
    assert figures["p95_ms"] is not None
    assert "HTTP 500" in figures["last_error"]["message"]
    assert "370404" not in figures["last_error"]["message"]  # no inputs in what operators see


def test_bad_input_during_half_open_is_refused_without_taking_the_probe(gateway, environment, fault, clock):
    from marshmallow import ValidationError

    connector = environment(failure_threshold=1)
    fault(mode="fail", status=500, times=1)
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_quality", {})
    clock.now += 31
    with pytest.raises(ValidationError):
        gateway.call(connector, "air_quality", {"district": "not-a-district"})
    assert gateway.call(connector, "air_quality", {}).result["readings"]  # the probe was still free
    assert gateway.breaker(connector).state()["state"] == "closed"


def test_an_adapters_own_slip_is_a_bad_response_and_frees_the_probe(gateway, environment, clock):
    connector = environment(failure_threshold=1)
    connector.air_quality = lambda inputs, identity: {}["missing"]  # a KeyError inside an adapter
    with pytest.raises(UpstreamBadResponse):
        gateway.call(connector, "air_quality", {})
    assert gateway.breaker(connector).state()["state"] == "open"


def test_a_call_never_outlives_its_deadline_however_many_pages(gateway, environment, fault):
    fault(mode="slow", delay_ms=700)  # each of the two pages alone fits the read timeout
    started = time.perf_counter()
    with pytest.raises(UpstreamTimeout):
        gateway.call(environment(deadline_seconds=1), "air_hourly", {"district": "370402"})
    assert time.perf_counter() - started < 1.3


def test_a_request_that_may_have_been_acted_on_is_never_repeated(environment, fault):
    fault(mode="fail", status=503, times=1)
    connector = environment(attempts=3)
    with pytest.raises(UpstreamUnavailable):
        connector.request("GET", "/api/aqi/realtime", idempotent=False)
    assert fault.served() == 1


def test_a_worker_keeps_public_answers_a_moment_without_asking_redis_but_never_personal_ones(
    redis, environment, fault, clock
):
    moment = Clock()
    local = LocalAnswers(2, clock=moment)
    cache = ResponseCache(redis, hasher=keyed, clock=clock, local=local)
    gateway = Gateway(redis, cache, clock=clock)
    connector = environment()
    first = gateway.call(connector, "air_quality", {"district": "370402"})
    fault(mode="fail", status=500)
    for key in redis.scan_iter("connector:environment:cache:*"):
        redis.delete(key)
    assert gateway.call(connector, "air_quality", {"district": "370402"}).result == first.result
    assert fault.served() == 0  # neither Redis nor the twin was needed
    moment.now += 2.5  # the copy is gone: Redis has nothing, so the twin is asked (and fails)
    with pytest.raises(UpstreamUnavailable):
        gateway.call(connector, "air_quality", {"district": "370402"})

    answer = Answer({"balance_fen": 1}, datetime.now(UTC))
    personal = cache.key("housing", "account", {}, Identity("张三", "370402198506120312"))
    cache.put(personal, answer, 60, sealed=True)
    assert redis.exists(personal) and local.get(personal) is None  # a personal answer lives in Redis only, sealed
