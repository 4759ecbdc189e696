"""The Alipay client against the gateway's twin over real HTTP: signatures both ways, errors mapped."""

import socket
import time
from types import SimpleNamespace

import pytest
import requests
from alipay import AliPay
from flask import Flask

from integrations.alipay import AlipayError, AlipayMiniProgram, generate_keypair, sandbox
from integrations.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from tests.servers import serving

APP_ID = "2021000000000001"


@pytest.fixture(scope="module")
def keys():
    return SimpleNamespace(app=generate_keypair(), alipay=generate_keypair(), stranger=generate_keypair())


@pytest.fixture(scope="module")
def base_url(keys):
    sandbox.configure(keys.app.public_pem, keys.alipay.private_pem)
    app = Flask("alipay-twin-test")
    app.register_blueprint(sandbox.blueprint, url_prefix="/_sandbox/alipay")
    app.add_url_rule("/broken/gateway.do", "broken", lambda: ("bad gateway", 502))
    with serving(app) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_twin(keys):
    # The shared sandbox's reset gives the twin the keyring's keys after every test: take ours back.
    sandbox.reset()
    sandbox.configure(keys.app.public_pem, keys.alipay.private_pem)


def make_client(keys, gateway, *, app_key=None, alipay_key=None, timeout=5.0):
    return AlipayMiniProgram(
        APP_ID,
        app_key or keys.app.private_pem,
        alipay_key or keys.alipay.public_pem,
        gateway,
        timeout=timeout,
    )


@pytest.fixture
def alipay(keys, base_url):
    return make_client(keys, f"{base_url}/_sandbox/alipay/gateway.do")


def code_for(base_url, user):
    response = requests.post(f"{base_url}/_sandbox/alipay/code", json={"user": user}, timeout=5)
    return response.json()["auth_code"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ids_are_stable_per_user_and_differ_between_users(alipay, base_url):
    bob = alipay.oauth_token(code_for(base_url, "bob"))
    assert bob == alipay.oauth_token(code_for(base_url, "bob"))
    assert bob.user_id.startswith("2088") and len(bob.user_id) == 16
    alice = alipay.oauth_token(code_for(base_url, "alice"))
    assert alice.user_id != bob.user_id and alice.open_id != bob.open_id


def test_a_code_works_once(alipay, base_url):
    code = code_for(base_url, "bob")
    alipay.oauth_token(code)
    with pytest.raises(AlipayError) as refused:
        alipay.oauth_token(code)
    assert refused.value.sub_code == "isv.code-invalid" and not refused.value.retryable
    with pytest.raises(AlipayError):
        alipay.oauth_token("never-issued")


def test_alipay_system_error_is_unavailable(alipay, base_url):
    with pytest.raises(UpstreamUnavailable) as unavailable:
        alipay.oauth_token(code_for(base_url, "busy"))
    assert "isp.unknow-error" in str(unavailable.value)


def test_a_reply_signed_by_someone_else_is_a_bad_response(keys, base_url):
    client = make_client(keys, f"{base_url}/_sandbox/alipay/gateway.do", alipay_key=keys.stranger.public_pem)
    with pytest.raises(UpstreamBadResponse):
        client.oauth_token(code_for(base_url, "bob"))


def test_a_request_signed_with_the_wrong_key_is_refused_and_keeps_the_code(keys, base_url, alipay):
    client = make_client(keys, f"{base_url}/_sandbox/alipay/gateway.do", app_key=keys.stranger.private_pem)
    code = code_for(base_url, "bob")
    with pytest.raises(AlipayError) as refused:
        client.oauth_token(code)
    assert refused.value.sub_code == "isv.invalid-signature"
    assert alipay.oauth_token(code).user_id  # the twin checks the signature before spending the code


def test_twin_accepts_a_signed_form_post_too(keys, base_url):
    sdk = AliPay(APP_ID, None, keys.app.private_pem, keys.alipay.public_pem, sign_type="RSA2")
    form = sdk.sign_data(sdk.build_body("alipay.system.oauth.token", grant_type="authorization_code", code="x"))
    response = requests.post(
        f"{base_url}/_sandbox/alipay/gateway.do",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert response.json()["error_response"]["sub_code"] == "isv.code-invalid"  # signature accepted


def test_http_5xx_is_unavailable(keys, base_url):
    with pytest.raises(UpstreamUnavailable) as unavailable:
        make_client(keys, f"{base_url}/broken/gateway.do").oauth_token("any")
    assert unavailable.value.status == 502


def test_unreachable_gateway_is_unavailable(keys):
    with pytest.raises(UpstreamUnavailable):
        make_client(keys, f"http://127.0.0.1:{free_port()}/gateway.do").oauth_token("any")


def test_a_silent_gateway_times_out(keys):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = make_client(keys, f"http://127.0.0.1:{silent.getsockname()[1]}/gateway.do", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout):
            client.oauth_token("any")
    assert time.monotonic() - started < 2
