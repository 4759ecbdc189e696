"""The sandbox twins, served over real HTTP, can be told to fail, be slow, time out or talk nonsense."""

import time

import pytest
import requests

from app.city.clouds import PLATFORMS
from integrations import http
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable


def set_fault(sandbox_url, **spec):
    response = requests.put(f"{sandbox_url}/_control/faults/department", json=spec, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def query(sandbox_url, case_no="ZZ2026001", timeout=2.0):
    return http.post_json(
        "department", f"{sandbox_url}/department/gjj/records/query", {"bjbh": case_no}, timeout=timeout
    )


def test_department_twin_answers_in_its_own_shape(sandbox_url):
    assert query(sandbox_url)["data"]["blzt"] == "办理中"
    with pytest.raises(UpstreamRejected) as refused:
        query(sandbox_url, case_no="ZZ2026000")
    assert refused.value.status == 404


def test_fail_for_a_number_of_calls_then_recover(sandbox_url):
    set_fault(sandbox_url, mode="fail", times=2, status=502)
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            query(sandbox_url)
    assert query(sandbox_url)["errcode"] == "OK"


def test_slow_answers_late_but_answers(sandbox_url):
    set_fault(sandbox_url, mode="slow", delay_ms=300, times=1)
    started = time.monotonic()
    assert query(sandbox_url)["errcode"] == "OK"
    assert time.monotonic() - started >= 0.3


def test_timeout_becomes_a_clear_timeout_error(sandbox_url):
    set_fault(sandbox_url, mode="timeout", delay_ms=1500, times=1)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        query(sandbox_url, timeout=0.3)
    assert time.monotonic() - started < 1.2


def test_garbage_becomes_a_bad_response_error(sandbox_url):
    set_fault(sandbox_url, mode="garbage", times=1)
    with pytest.raises(UpstreamBadResponse):
        query(sandbox_url)


def test_nobody_listening_is_unavailable():
    with pytest.raises(UpstreamUnavailable):
        http.post_json("department", "http://127.0.0.1:9/nothing", {}, timeout=0.5)


def test_control_rejects_unknown_twins_and_modes(sandbox_url):
    assert requests.put(f"{sandbox_url}/_control/faults/moon", json={"mode": "fail"}, timeout=5).status_code == 404
    bad = requests.put(f"{sandbox_url}/_control/faults/department", json={"mode": "explode"}, timeout=5)
    assert bad.status_code == 400


def test_reset_clears_faults_and_what_twins_received(sandbox_url):
    set_fault(sandbox_url, mode="fail")
    requests.post(f"{sandbox_url}/_control/reset", timeout=5)
    assert requests.get(f"{sandbox_url}/_control/faults", timeout=5).json() == {}
    assert query(sandbox_url)["errcode"] == "OK"


def test_embedded_default_serves_the_sandbox_under_the_same_origin(make_app):
    embedded = make_app(SANDBOX="1")
    client = embedded.test_client()
    parties = {"alipay", "department", "sms", "wechat", "wechatpay"}
    assert client.get("/_sandbox/").json["twins"] == sorted(parties | set(PLATFORMS))  # every cloud, and sharing
    health = client.get("/_sandbox/department/gjj/health")
    assert health.status_code == 200 and health.json["status"] == "UP"


def test_twins_answer_json_even_for_unknown_paths(sandbox_url):
    response = requests.get(f"{sandbox_url}/department/gjj/nothing", timeout=5)
    assert response.status_code == 404 and response.json()["status"] == 404
