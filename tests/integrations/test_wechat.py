"""The WeChat client end to end against its twin, served over real HTTP, with a real Redis."""

from __future__ import annotations

import threading
import time

import pytest
import redis
import requests
from flask import Flask

from integrations.errors import IntegrationError, UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from integrations.wechat import sandbox
from integrations.wechat.client import WeChatError, WeChatMiniProgram, WeChatSession
from tests.conftest import REDIS_URL
from tests.servers import serving

APP_ID, SECRET = "wx-test-app", "test-app-secret-0123456789"
TOKEN_KEY = f"wechat:{APP_ID}_access_token"


@pytest.fixture(scope="module")
def server():
    app = Flask("wechat-twin-test")
    app.register_blueprint(sandbox.blueprint, url_prefix="/_sandbox/wechat")

    # Misbehaving stand-ins for WeChat itself, to see how the client takes them.
    @app.route("/down/<path:_>", methods=["GET", "POST"])
    def down(_):
        return {"error": "maintenance"}, 503

    @app.route("/slow/<path:_>", methods=["GET", "POST"])
    def slow(_):
        time.sleep(1)
        return {"errcode": 0}

    @app.route("/garbage/<path:_>", methods=["GET", "POST"])
    def garbage(_):
        return "<html>502 Bad Gateway</html>", 200, {"Content-Type": "text/html"}

    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def clean(redis_client):
    redis_client.flushdb()
    sandbox.reset()


def wechat(server, redis_client, root="_sandbox/wechat/", timeout=2.0):
    return WeChatMiniProgram(APP_ID, SECRET, f"{server}/{root}", redis_client, timeout=timeout)


def login_code(server, user):
    """wx.login() on `user`'s phone."""
    return requests.post(f"{server}/_sandbox/wechat/code", json={"user": user}, timeout=5).json()["code"]


def phone_code(server, user, phone):
    """The getPhoneNumber button on `user`'s phone."""
    body = {"user": user, "phone": phone}
    return requests.post(f"{server}/_sandbox/wechat/phone-code", json=body, timeout=5).json()["code"]


def assert_discreet(error, *session_keys):
    """Nothing secret in what an error would put in a log line, and no chained upstream context."""
    text = f"{error} {error!r} {error.message} {error.args}"
    for secret in ("session_key", SECRET, *session_keys):
        assert secret not in text
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_openid_is_stable_per_user_and_different_between_users(server, redis_client):
    client = wechat(server, redis_client)
    first = client.code_to_session(login_code(server, "alice"))
    again = client.code_to_session(login_code(server, "alice"))
    bob = client.code_to_session(login_code(server, "bob"))
    assert isinstance(first, WeChatSession)
    assert first.openid == again.openid and first.unionid == again.unionid
    assert first.session_key != again.session_key  # a new one at every login
    assert bob.openid != first.openid and bob.unionid != first.unionid
    assert first.session_key not in repr(first)


@pytest.mark.parametrize(
    ("user", "use_twice", "errcode"),
    [("alice", True, 40163), ("risky", False, 40226)],
    ids=["code-used-twice", "risky-user"],
)
def test_login_refusals_carry_the_errcode(server, redis_client, user, use_twice, errcode):
    client = wechat(server, redis_client)
    code = login_code(server, user)
    if use_twice:
        client.code_to_session(code)
    with pytest.raises(WeChatError) as refused:
        client.code_to_session(code)
    assert refused.value.errcode == errcode
    assert not refused.value.retryable
    assert_discreet(refused.value)


def test_unknown_code_is_invalid(server, redis_client):
    with pytest.raises(WeChatError) as refused:
        wechat(server, redis_client).code_to_session("no-such-code")
    assert refused.value.errcode == 40029
    assert_discreet(refused.value)


def test_busy_is_unavailable_and_retryable(server, redis_client):
    with pytest.raises(UpstreamUnavailable) as busy:
        wechat(server, redis_client).code_to_session(login_code(server, "busy"))
    assert busy.value.errcode == -1
    assert busy.value.retryable
    assert_discreet(busy.value)


def test_phone_number_flow(server, redis_client, monkeypatch):
    client = wechat(server, redis_client)
    code = phone_code(server, "alice", "13800138000")
    assert client.phone_number(code) == "13800138000"
    with pytest.raises(WeChatError) as used:
        client.phone_number(code)
    assert used.value.errcode == 40029

    late = phone_code(server, "alice", "13800138000")
    now = time.time()
    monkeypatch.setattr(sandbox, "_now", lambda: now + sandbox.CODE_SECONDS + 1)
    with pytest.raises(WeChatError) as expired:
        client.phone_number(late)
    assert expired.value.errcode == 40029


def test_access_token_is_shared_through_redis(server, redis_client):
    # Two clients stand for two workers: one token between them.
    for client in (wechat(server, redis_client), wechat(server, redis_client)):
        client.phone_number(phone_code(server, "alice", "13800138000"))
    assert sandbox.token_requests() == 1
    assert 0 < redis_client.ttl(TOKEN_KEY) <= sandbox.TOKEN_SECONDS - 300  # dropped before WeChat expires it


def test_workers_starting_together_fetch_one_token(server, redis_client):
    errors = []

    def worker():
        try:
            wechat(server, redis_client).phone_number(phone_code(server, "alice", "13800138000"))
        except Exception as error:  # noqa: BLE001 - collected and asserted on below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sandbox.token_requests() == 1


def test_a_rejected_token_is_replaced(server, redis_client):
    redis_client.set(TOKEN_KEY, '"token-from-before-a-reset"')
    client = wechat(server, redis_client)
    assert client.phone_number(phone_code(server, "alice", "13800138000")) == "13800138000"
    assert sandbox.token_requests() == 1
    assert redis_client.get(TOKEN_KEY) != b'"token-from-before-a-reset"'


def test_unreachable_wechat_is_unavailable(redis_client):
    with pytest.raises(UpstreamUnavailable) as down:
        WeChatMiniProgram(APP_ID, SECRET, "http://127.0.0.1:1/", redis_client, timeout=1).code_to_session("x")
    assert down.value.errcode is None
    assert_discreet(down.value)


@pytest.mark.parametrize("token_cached", [False, True], ids=["at-token-fetch", "at-api-call"])
def test_http_5xx_is_unavailable(server, redis_client, token_cached):
    if token_cached:  # so the failure comes from the API call, not from the token fetch
        redis_client.set(TOKEN_KEY, '"some-token"')
    with pytest.raises(UpstreamUnavailable) as down:
        wechat(server, redis_client, root="down/").code_to_session("x")
    assert down.value.status == 503 and down.value.errcode is None
    assert_discreet(down.value)


def test_slow_wechat_is_a_timeout(server, redis_client):
    redis_client.set(TOKEN_KEY, '"some-token"')
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as slow:
        wechat(server, redis_client, root="slow/", timeout=0.3).phone_number("x")
    assert time.monotonic() - started < 0.9
    assert_discreet(slow.value)


def test_non_json_answer_is_a_bad_response(server, redis_client):
    with pytest.raises(UpstreamBadResponse) as garbage:
        wechat(server, redis_client, root="garbage/").code_to_session("x")
    assert_discreet(garbage.value)


def test_no_error_carries_a_session_key(server, redis_client):
    client = wechat(server, redis_client)
    used = login_code(server, "alice")
    key = client.code_to_session(used).session_key
    for attempt in (
        lambda: client.code_to_session(used),
        lambda: client.code_to_session("no-such-code"),
        lambda: client.code_to_session(login_code(server, "risky")),
        lambda: client.code_to_session(login_code(server, "busy")),
        lambda: client.phone_number("no-such-code"),
    ):
        with pytest.raises(IntegrationError) as failed:
            attempt()
        assert_discreet(failed.value, key)
