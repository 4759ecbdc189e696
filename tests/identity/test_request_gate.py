"""The default rate limit of a signed-in caller is counted with the revocation check, per caller and
route; anonymous callers are still counted per IP by Flask-Limiter."""

import pytest

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


def test_a_revoked_token_is_refused_as_revoked_even_when_over_the_limit(strict, sandbox_url):
    client = strict.test_client()
    alice = login_wechat(client, sandbox_url, "alice")["access_token"]
    for _ in range(3):
        client.get("/api/v1/me", headers=bearer(alice))
    assert client.post("/api/v1/auth/logout", headers=bearer(alice)).status_code == 204
    refused = client.get("/api/v1/me", headers=bearer(alice))
    assert refused.status_code == 401 and refused.json["error"]["details"]["reason"] == "revoked"


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
