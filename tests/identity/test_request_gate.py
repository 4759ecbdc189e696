"""The default rate limit of a signed-in caller is counted with the revocation check, per caller and
route; anonymous callers per IP, in a pipeline of their own (app/identity/gate.py)."""

import base64
import json
import time

import pytest
from joserfc import jwt

from tests.identity.helpers import bearer, login_wechat


@pytest.fixture
def strict(make_app):
    return make_app(RATELIMIT_DEFAULT="3 per minute")


def test_a_citizen_gets_the_default_limit_per_route_and_others_are_not_affected(strict, sandbox_url):
    client = strict.test_client()
    alice = login_wechat(client, sandbox_url, "alice")["access_token"]
    bob = login_wechat(client, sandbox_url, "bob")["access_token"]
    statuses = [client.get("/api/v1/me", headers=bearer(alice)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/me", headers=bearer(alice))
    assert limited.json["error"]["code"] == "RATE_LIMITED" and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/me", headers=bearer(bob)).status_code == 200
    assert client.get("/api/v1/me/family", headers=bearer(alice)).status_code == 200  # another route


def test_revoked_and_expired_tokens_are_refused_and_still_counted(strict, sandbox_url):
    client = strict.test_client()
    alice = login_wechat(client, sandbox_url, "alice")["access_token"]
    assert client.post("/api/v1/auth/logout", headers=bearer(alice)).status_code == 204
    refused = client.get("/api/v1/me", headers=bearer(alice))
    assert refused.status_code == 401 and refused.json["error"]["details"]["reason"] == "revoked"
    statuses = [client.get("/api/v1/me", headers=bearer(alice)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429], "a dead token is no way around the limit"

    bob = login_wechat(client, sandbox_url, "bob")["access_token"]
    keys = strict.extensions["signing_keys"].private
    decoded = jwt.decode(bob, keys, algorithms=["Ed25519"])
    expired = jwt.encode(decoded.header, {**decoded.claims, "exp": int(time.time()) - 1}, keys, algorithms=["Ed25519"])
    statuses = [client.get("/api/v1/me", headers=bearer(expired)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_a_crafted_token_header_is_a_bad_token_and_switches_no_limit_off(strict):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "Ed25519", "crit": 5}).encode()).rstrip(b"=").decode()
    crafted = f"{header}.eyJzdWIiOiJ4In0.c2ln"
    refused = strict.test_client().get("/api/v1/me", headers=bearer(crafted))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "INVALID_TOKEN"
    client = strict.test_client()
    statuses = [client.get("/api/v1/districts", headers=bearer(crafted)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_ipv6_callers_are_counted_by_their_64_prefix(app):
    from app.rate_limits import address_key

    for address in ("2408:8000:1:2:aaaa::1", "2408:8000:1:2:bbbb::9"):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            assert address_key() == "2408:8000:1:2::/64"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.1.1"}):
        assert address_key() == "10.1.1.1"


def test_anonymous_callers_are_limited_per_address(strict):
    client = strict.test_client()
    here, there = {"REMOTE_ADDR": "10.1.1.1"}, {"REMOTE_ADDR": "10.1.1.2"}
    assert [client.get("/api/v1/districts", environ_base=here).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/api/v1/districts", environ_base=there).status_code == 200


def test_a_forged_token_is_counted_by_address_not_by_the_name_it_claims(strict, sandbox_url):
    client = strict.test_client()
    alice = login_wechat(client, sandbox_url, "alice")["access_token"]
    forged = alice[:-6] + "AAAAAA"
    statuses = [client.get("/api/v1/me", headers=bearer(forged)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert client.get("/api/v1/me", headers=bearer(alice)).status_code == 200
