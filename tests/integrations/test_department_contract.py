"""The department contract over real HTTP: our client against a throwaway department, signing, the health check,
the example receiver in docs/ and the endpoint URL rules."""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from integrations.department_contract import client as contract
from integrations.department_contract import signing
from integrations.department_contract.client import DepartmentRejected, EndpointRefused
from integrations.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from integrations.sandbox import faults
from tests.servers import serving

ROOT = Path(__file__).resolve().parents[2]
KEY_ID, SECRET = "city-2026", "a-department-secret-of-some-length"
CITIZEN = {"id": "c_7f3a9e", "real_name_verified": True, "name": "张三"}
FAST = (1.0, 0.5)  # connect, read


# --- a department implementing the contract ------------------------------------------------------------


class Department:
    """A department's system: verifies our signature, records what it got, answers as `inputs.mode` says.

    A fault set on `board` (integrations/sandbox/faults.py) is acted out before the contract is looked at.
    """

    def __init__(self):
        self.received: list[dict] = []
        self.refusals: list[str] = []
        self.nonces: set[str] = set()
        self.board = faults.FaultBoard()
        self.health_ok = True
        self.app = self._build()

    def _seen(self, nonce: str) -> bool:
        if nonce in self.nonces:
            return True
        self.nonces.add(nonce)
        return False

    def _build(self) -> Flask:
        app = Flask("department-under-test")

        @app.before_request
        def _signed():
            try:
                signing.verify(
                    SECRET, request.method, request.path, request.get_data(), request.headers, seen_nonce=self._seen
                )
            except signing.ContractSignatureError as refused:
                self.refusals.append(refused.reason)
                return {"ok": False, "code": "BAD_SIGNATURE", "message": "签名校验失败"}, 401
            fault = self.board.take("contract")
            return faults.apply(fault) if fault else None

        @app.get("/dept/health")
        def health():
            return jsonify(ok=self.health_ok)

        @app.post("/dept/")
        def operation():
            body = request.get_json()
            self.received.append({"body": body, "headers": dict(request.headers)})
            return self.answer(body["inputs"].get("mode", "ok"))

        @app.get("/elsewhere/")
        def elsewhere():
            self.received.append({"redirected": True})
            return jsonify(ok=True, result={}, as_of="2026-11-20T09:30:00+08:00")

        return app

    def answer(self, mode: str):
        ok = {"ok": True, "result": {"status": "办理中", "items": [1, 2]}, "as_of": "2026-11-20T09:30:00+08:00"}
        answers = {
            "ok": (ok, 200),
            "naive_as_of": ({**ok, "as_of": "2026-11-20 09:30:00"}, 200),
            "no_as_of": ({"ok": True, "result": {}}, 200),
            "no_result": ({"ok": True, "as_of": ok["as_of"]}, 200),
            "list_result": ({**ok, "result": [1]}, 200),
            "array": ([ok], 200),
            "unknown_code": ({"ok": False, "code": "TEAPOT", "message": "?"}, 200),
            "no_message": ({"ok": False, "code": "NOT_FOUND"}, 200),
            "not_found_404": ({"ok": False, "code": "NOT_FOUND", "message": "查无此件"}, 404),
            "maintenance_503": ({"ok": False, "code": "UNAVAILABLE", "message": "系统维护中，10点恢复"}, 503),
            "crash": ({"error": "boom"}, 500),
            "busy": ({"error": "slow down"}, 429),
            "teapot": ({"error": "?"}, 418),
        }
        if mode in contract.CODES:
            return {"ok": False, "code": mode, "message": f"部门说：{mode}"}, 200
        if mode == "redirect":
            return Response(status=302, headers={"Location": "/elsewhere/"})
        if mode == "huge":
            return {**ok, "result": {"blob": "x" * (contract.MAX_ANSWER_BYTES + 1)}}, 200
        if mode == "trickle":

            def drip():
                for _ in range(20):
                    time.sleep(0.2)
                    yield b" "

            return Response(drip(), mimetype="application/json")
        return answers[mode]


@pytest.fixture(scope="module")
def department_server():
    department = Department()
    with serving(department.app) as url:
        yield department, url


@pytest.fixture
def department(department_server):
    department, url = department_server
    department.received.clear()
    department.refusals.clear()
    department.board.clear()
    department.health_ok = True
    return department, f"{url}/dept"


def run(url, mode="ok", secret=SECRET, timeout=FAST, **kwargs):
    inputs = {"case_no": "ZZ2026001", "mode": mode}
    return contract.call(url, KEY_ID, secret, "query", "gjj-progress", inputs, CITIZEN, timeout, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- calls -----------------------------------------------------------------------------------------------


def test_a_call_sends_the_documented_request_and_returns_the_result(department):
    dept, url = department
    answer = run(url, request_id="req-123")
    assert answer.result == {"status": "办理中", "items": [1, 2]}
    assert answer.as_of == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    [received] = dept.received
    assert received["body"] == {
        "contract": "city-services/1",
        "operation": "query",
        "service": "gjj-progress",
        "request_id": "req-123",
        "inputs": {"case_no": "ZZ2026001", "mode": "ok"},
        "citizen": CITIZEN,
    }
    headers = received["headers"]
    assert headers["X-City-Key-Id"] == KEY_ID
    assert len(headers["X-City-Nonce"]) >= 16
    assert abs(int(headers["X-City-Timestamp"]) - time.time()) < 5
    assert re.fullmatch(r"[0-9a-f]{64}", headers["X-City-Signature"])
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert dept.refusals == []


def test_each_call_has_its_own_request_id_and_nonce(department):
    dept, url = department
    run(url)
    run(url)
    first, second = dept.received
    assert first["body"]["request_id"] != second["body"]["request_id"]
    assert first["headers"]["X-City-Nonce"] != second["headers"]["X-City-Nonce"]


def test_an_as_of_without_offset_is_beijing_time(department):
    _, url = department
    assert run(url, "naive_as_of").as_of == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "status"), [("NOT_FOUND", 404), ("INVALID_INPUT", 422), ("NOT_ALLOWED", 403), ("UNAVAILABLE", 503)]
)
def test_a_department_no_keeps_its_code_and_words_for_the_citizen(department, code, status):
    _, url = department
    with pytest.raises(DepartmentRejected) as refused:
        run(url, code)
    error = refused.value
    assert (error.department_code, error.citizen_message, error.http_status) == (code, f"部门说：{code}", status)
    assert "部门说" not in str(error)  # the citizen's text stays out of log lines
    envelope = contract.as_app_error(error)
    assert (envelope.code, envelope.message, envelope.status) == (code, f"部门说：{code}", status)
    assert ("Retry-After" in envelope.headers) == (code == "UNAVAILABLE")
    assert error.retryable == (code == "UNAVAILABLE")


def test_a_no_without_words_gets_ours(department):
    _, url = department
    with pytest.raises(DepartmentRejected) as refused:
        run(url, "no_message")
    assert refused.value.citizen_message == "未查询到相关信息"


def test_a_no_sent_with_an_error_status_is_still_the_departments_no(department):
    _, url = department
    with pytest.raises(DepartmentRejected) as refused:
        run(url, "not_found_404")
    assert (refused.value.department_code, refused.value.citizen_message) == ("NOT_FOUND", "查无此件")
    with pytest.raises(DepartmentRejected) as refused:
        run(url, "maintenance_503")
    assert refused.value.citizen_message == "系统维护中，10点恢复"
    assert contract.as_app_error(refused.value).status == 503


@pytest.mark.parametrize(
    "mode", ["no_as_of", "no_result", "list_result", "array", "unknown_code", "teapot", "redirect", "huge"]
)
def test_answers_outside_the_contract_are_bad_responses(department, mode):
    dept, url = department
    with pytest.raises(UpstreamBadResponse) as caught:
        run(url, mode)
    envelope = contract.as_app_error(caught.value)
    assert (envelope.status, envelope.code) == (502, "DEPARTMENT_BAD_RESPONSE")
    assert not any(r.get("redirected") for r in dept.received)  # a redirect is never followed


def test_garbage_is_a_bad_response(department):
    dept, url = department
    dept.board.set("contract", {"mode": "garbage"})
    with pytest.raises(UpstreamBadResponse):
        run(url)


@pytest.mark.parametrize("mode", ["crash", "busy"])
def test_a_failing_department_is_unavailable_with_retry_after(department, mode):
    dept, url = department
    with pytest.raises(UpstreamUnavailable) as caught:
        run(url, mode)
    envelope = contract.as_app_error(caught.value)
    assert (envelope.status, envelope.code) == (503, "DEPARTMENT_UNAVAILABLE")
    assert envelope.headers["Retry-After"] == str(contract.RETRY_AFTER_SECONDS)
    assert len(dept.received) == 1  # one attempt, no retries


def test_a_slow_department_times_out_within_the_budget_after_one_attempt(department):
    dept, url = department
    dept.board.set("contract", {"mode": "slow", "delay_ms": 1500})
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        run(url)
    assert time.monotonic() - started < 1.2
    envelope = contract.as_app_error(caught.value)
    assert (envelope.status, envelope.code) == (504, "DEPARTMENT_TIMEOUT")
    time.sleep(1.6)  # let the abandoned request finish, so it cannot land in the next test
    assert dept.board.describe()["contract"]["served"] == 1


def test_a_trickling_answer_cannot_outlast_the_budget(department):
    # Each byte comes well within the read timeout, but the whole answer would take 4 s.
    _, url = department
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        run(url, "trickle", timeout=(0.5, 0.5))
    assert time.monotonic() - started < 1.6


def test_a_wrong_secret_is_refused_by_the_department_and_is_our_fault_not_the_citizens(department):
    dept, url = department
    with pytest.raises(UpstreamBadResponse) as caught:
        run(url, secret="not-the-secret")
    assert caught.value.status == 401
    assert dept.refusals == ["bad_signature"]
    assert "not-the-secret" not in str(caught.value)


def test_nothing_listening_is_unavailable():
    with pytest.raises(UpstreamUnavailable):
        run(f"http://127.0.0.1:{free_port()}/dept")


def test_a_name_that_does_not_resolve_is_unavailable():
    with pytest.raises(UpstreamUnavailable):
        run("http://no-such-department.invalid/dept")


def test_personal_data_stays_out_of_errors(department):
    dept, url = department
    dept.board.set("contract", {"mode": "fail", "status": 500})
    with pytest.raises(UpstreamUnavailable) as caught:
        run(url)
    assert "张三" not in str(caught.value) and "ZZ2026001" not in str(caught.value)


def test_in_production_a_loopback_endpoint_is_never_called(department):
    dept, url = department
    with pytest.raises(UpstreamBadResponse):
        run(url, allow_http=False)
    assert dept.received == []


def test_absurd_timeouts_and_operation_names_are_programming_errors(department):
    _, url = department
    with pytest.raises(ValueError):
        run(url, timeout=(1, 60))
    with pytest.raises(ValueError):
        contract.call(url, KEY_ID, SECRET, "Query Now", "gjj", {}, CITIZEN)


# --- health check -----------------------------------------------------------------------------------------


def test_health_check_passes_on_a_signed_ok(department):
    dept, url = department
    health = contract.health_check(url, KEY_ID, SECRET)
    assert (health.ok, health.status, health.problem) == (True, 200, None)
    assert isinstance(health.latency_ms, int) and health.latency_ms >= 0
    assert dept.refusals == []


def test_health_check_fails_when_the_endpoint_is_down():
    health = contract.health_check(f"http://127.0.0.1:{free_port()}/dept", KEY_ID, SECRET)
    assert (health.ok, health.status) == (False, None)
    assert "无法连接" in health.problem


@pytest.mark.parametrize(
    ("setup", "status", "problem"),
    [
        ({"fault": {"mode": "fail", "status": 500}}, 500, "HTTP 500"),
        ({"secret": "not-the-secret"}, 401, "签名"),
        ({"health_ok": False}, 200, '{"ok": true}'),
        ({"fault": {"mode": "garbage"}}, 200, '{"ok": true}'),
        ({"fault": {"mode": "slow", "delay_ms": 800}, "timeout": 0.3}, None, "超时"),
    ],
)
def test_health_check_names_the_problem(department, setup, status, problem):
    dept, url = department
    if "fault" in setup:
        dept.board.set("contract", setup["fault"])
    dept.health_ok = setup.get("health_ok", True)
    health = contract.health_check(url, KEY_ID, setup.get("secret", SECRET), timeout=setup.get("timeout", 3))
    assert (health.ok, health.status) == (False, status)
    assert problem in health.problem


def test_health_check_never_raises():
    assert contract.health_check("not a url", KEY_ID, SECRET).ok is False
    assert contract.health_check("http://127.0.0.1:1/x", "bad key id!", SECRET).ok is False
    refused = contract.health_check("http://127.0.0.1:8081/x", KEY_ID, SECRET, allow_http=False)
    assert (refused.ok, refused.latency_ms) == (False, None)
    assert "https" in refused.problem


# --- signing ------------------------------------------------------------------------------------------------

NOW = 1_790_000_000
BODY = json.dumps({"operation": "query", "inputs": {"case_no": "ZZ1"}}, ensure_ascii=False).encode()


def signed(secret=SECRET, method="POST", path="/dept/", body=BODY, now=NOW, nonce="n0nce-0123456789abcdef"):
    return signing.sign(secret, method, path, body, now=now, nonce=nonce)


def verify_with(module_verify, error_type, headers, *, method="POST", path="/dept/", body=BODY, now=NOW, seen=None):
    """The reason a verifier refuses the request, or None when it accepts it."""
    try:
        module_verify(SECRET, method, path, body, headers, now=now, seen_nonce=seen)
    except error_type as refused:
        return refused.reason
    return None


CASES = {
    "good": ({}, {}, None),
    "bad secret": ({"secret": "another-secret"}, {}, "bad_signature"),
    "stale timestamp": ({"now": NOW - 301}, {}, "stale_timestamp"),
    "future timestamp": ({"now": NOW + 301}, {}, "stale_timestamp"),
    "edge of the window": ({"now": NOW - 300}, {}, None),
    "body tampered": ({}, {"body": BODY.replace(b"ZZ1", b"ZZ2")}, "bad_signature"),
    "path tampered": ({}, {"path": "/dept/admin"}, "bad_signature"),
    "method tampered": ({}, {"method": "PUT"}, "bad_signature"),
    "short nonce": ({"nonce": "short"}, {}, "bad_nonce"),
    "nonce with a newline": ({"nonce": "0123456789abcdef\nx"}, {}, "bad_nonce"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verify(case):
    sign_args, request_args, reason = CASES[case]
    assert verify_with(signing.verify, signing.ContractSignatureError, signed(**sign_args), **request_args) == reason


def test_verify_refuses_missing_headers_and_odd_timestamps():
    headers = signed()
    for name in (signing.TIMESTAMP_HEADER, signing.NONCE_HEADER, signing.SIGNATURE_HEADER):
        partial = {k: v for k, v in headers.items() if k != name}
        assert verify_with(signing.verify, signing.ContractSignatureError, partial) == "missing_header"
    odd = {**headers, signing.TIMESTAMP_HEADER: "17e8"}
    assert verify_with(signing.verify, signing.ContractSignatureError, odd) == "bad_timestamp"


def test_verify_refuses_a_replayed_nonce_and_only_asks_once_the_signature_is_good():
    seen: list[str] = []

    def seen_nonce(nonce):
        if nonce in seen:
            return True
        seen.append(nonce)
        return False

    headers = signed()
    error = signing.ContractSignatureError
    assert verify_with(signing.verify, error, headers, seen=seen_nonce) is None
    assert verify_with(signing.verify, error, headers, seen=seen_nonce) == "replayed_nonce"
    forged = signed(secret="guess", nonce="fresh-nonce-0123456789")
    assert verify_with(signing.verify, error, forged, seen=seen_nonce) == "bad_signature"
    assert seen == ["n0nce-0123456789abcdef"]


def test_verify_reads_headers_in_any_case():
    lowered = {k.lower(): v for k, v in signed().items()}
    assert verify_with(signing.verify, signing.ContractSignatureError, lowered) is None


def test_sign_makes_fresh_long_nonces():
    first, second = (signing.sign(SECRET, "GET", "/health", b"") for _ in range(2))
    assert len(first[signing.NONCE_HEADER]) >= 16
    assert first[signing.NONCE_HEADER] != second[signing.NONCE_HEADER]


def test_the_documented_example_signature_is_what_we_compute():
    doc = (ROOT / "docs/department-contract.md").read_text(encoding="utf-8")
    body = re.search(r"body \(\d+ bytes\): `(.+?)`", doc).group(1).encode()
    headers = signing.sign("demo-secret-change-me", "POST", "/city/", body, now=1790000000, nonce="4f9c2b7e1a6d8035")
    assert hashlib_hex(body) in doc
    assert headers[signing.SIGNATURE_HEADER] in doc


def hashlib_hex(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


# --- the example receiver in docs/examples --------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("department_receiver", ROOT / "docs/examples/department_receiver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", list(CASES))
def test_the_example_verifies_exactly_like_signing(example, case):
    sign_args, request_args, reason = CASES[case]
    headers = signed(**sign_args)
    ours = verify_with(signing.verify, signing.ContractSignatureError, headers, **request_args)
    theirs = verify_with(example.verify_request, example.SignatureRefused, headers, **request_args)
    assert ours == theirs == reason


def test_the_example_refuses_replays_like_signing(example):
    memory = example.NonceMemory(clock=lambda: NOW)
    headers = signed()
    assert verify_with(example.verify_request, example.SignatureRefused, headers, seen=memory) is None
    assert verify_with(example.verify_request, example.SignatureRefused, headers, seen=memory) == "replayed_nonce"


def test_the_example_serves_our_client_even_below_a_path_prefix(example):
    # Mounted at /city the way a department's gateway might: the signed path is the full one.
    app = DispatcherMiddleware(Flask("root"), {"/city": example.create_app({KEY_ID: SECRET})})
    with serving(app) as url:
        endpoint = f"{url}/city"
        assert contract.health_check(endpoint, KEY_ID, SECRET).ok
        answer = contract.call(endpoint, KEY_ID, SECRET, "query", "gjj-progress", {"case_no": "ZZ1"}, CITIZEN, FAST)
        assert answer.result["status"] == "办理中"
        assert abs(answer.as_of - datetime.now(UTC)) < timedelta(seconds=5)
        with pytest.raises(DepartmentRejected) as refused:
            contract.call(endpoint, KEY_ID, SECRET, "query", "gjj-progress", {"case_no": "ZZ10"}, CITIZEN, FAST)
        assert refused.value.department_code == "NOT_FOUND"
        with pytest.raises(UpstreamBadResponse) as caught:
            contract.call(endpoint, KEY_ID, "wrong", "query", "gjj-progress", {"case_no": "ZZ1"}, CITIZEN, FAST)
        assert caught.value.status == 401
        replay = signing.sign(SECRET, "GET", "/city/health", b"")
        headers = {"X-City-Key-Id": KEY_ID, **replay}
        assert requests.get(f"{endpoint}/health", headers=headers, timeout=5).status_code == 200
        again = requests.get(f"{endpoint}/health", headers=headers, timeout=5)
        assert (again.status_code, again.json()["reason"]) == (401, "replayed_nonce")


def test_the_example_runs_as_a_script():
    port = free_port()
    env = {"CITY_KEY_ID": KEY_ID, "CITY_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    script = str(ROOT / "docs/examples/department_receiver.py")
    process = subprocess.Popen(
        [sys.executable, script, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        endpoint, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 15
        while not (health := contract.health_check(endpoint, KEY_ID, SECRET, timeout=1)).ok:
            assert process.poll() is None and time.monotonic() < deadline, health.problem
            time.sleep(0.1)
        answer = contract.call(endpoint, KEY_ID, SECRET, "query", "svc", {"case_no": "ZZ7"}, CITIZEN, FAST)
        assert answer.result["case_no"] == "ZZ7"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- endpoint URLs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://8.8.8.8/api/city", "https://8.8.8.8/api/city"),
        ("https://8.8.8.8:8443/api/city/", "https://8.8.8.8:8443/api/city"),
        ("https://[2001:4860:4860::8888]/x", "https://[2001:4860:4860::8888]/x"),
        ("https://8.8.8.8", "https://8.8.8.8"),
    ],
)
def test_public_https_endpoints_are_accepted_in_production(url, expected):
    assert contract.check_endpoint_url(url, allow_http=False) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/api", "NOT_HTTPS"),
        ("ftp://8.8.8.8/api", "NOT_HTTPS"),
        ("https://user:pass@8.8.8.8/api", "USERINFO"),
        ("https://user@8.8.8.8/api", "USERINFO"),
        ("https://8.8.8.8/api?token=1", "QUERY"),
        ("https://8.8.8.8/api#x", "QUERY"),
        ("https://8.8.8.8/a/../admin", "PATH"),
        ("https://8.8.8.8/a b", "MALFORMED"),
        ("https://8.8.8.8:99999/", "MALFORMED"),
        ("https:///api", "MALFORMED"),
        ("https://8.8.8.8:0/api", "MALFORMED"),
        ("", "MALFORMED"),
        ("https://127.0.0.1/api", "INTERNAL_ADDRESS"),
        ("https://localhost/api", "INTERNAL_ADDRESS"),
        ("https://10.1.2.3/api", "INTERNAL_ADDRESS"),
        ("https://192.168.1.10/api", "INTERNAL_ADDRESS"),
        ("https://172.16.0.1/api", "INTERNAL_ADDRESS"),
        ("https://100.64.0.1/api", "INTERNAL_ADDRESS"),
        ("https://169.254.169.254/latest/meta-data", "INTERNAL_ADDRESS"),
        ("https://0.0.0.0/api", "INTERNAL_ADDRESS"),
        ("https://[::1]/api", "INTERNAL_ADDRESS"),
        ("https://[fd00::1]/api", "INTERNAL_ADDRESS"),
        ("https://[::ffff:127.0.0.1]/api", "INTERNAL_ADDRESS"),
        ("https://224.0.0.1/api", "INTERNAL_ADDRESS"),
        ("https://no-such-department.invalid/api", "UNRESOLVABLE"),
    ],
)
def test_production_refuses(url, reason):
    with pytest.raises(EndpointRefused) as refused:
        contract.check_endpoint_url(url, allow_http=False)
    assert refused.value.reason == reason
    assert refused.value.message  # Chinese, for whoever typed the URL


def test_one_private_address_among_public_ones_is_enough_to_refuse(monkeypatch):
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 443)) for ip in ("8.8.8.8", "10.0.0.5")]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    with pytest.raises(EndpointRefused) as refused:
        contract.check_endpoint_url("https://gjj.example.cn/api", allow_http=False)
    assert refused.value.reason == "INTERNAL_ADDRESS"


def test_outside_production_http_and_local_hosts_are_fine():
    assert contract.check_endpoint_url("http://127.0.0.1:8081/", allow_http=True) == "http://127.0.0.1:8081"
    assert contract.check_endpoint_url("http://localhost/dept", allow_http=True) == "http://localhost/dept"
    with pytest.raises(EndpointRefused):
        contract.check_endpoint_url("http://u:p@localhost/dept", allow_http=True)


def test_production_is_read_from_the_app_or_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    assert contract.local_endpoints_allowed() is False
    monkeypatch.setenv("APP_ENV", "test")
    assert contract.local_endpoints_allowed() is True
    app = Flask("config-only")
    app.config["APP_ENV"] = "production"
    with app.app_context():
        assert current_app.config["APP_ENV"] == "production"
        assert contract.local_endpoints_allowed() is False


def test_concurrent_calls_each_verify(department):
    # One pooled session per thread (integrations/http.py): many citizens at once all get their answers.
    dept, url = department
    results, errors = [], []

    def one():
        try:
            results.append(run(url).result["status"])
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=one) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == ["办理中"] * 16
    assert dept.refusals == []
