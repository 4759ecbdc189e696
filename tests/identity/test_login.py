"""Citizens log in from both mini-programs against the twins, errors included."""

from concurrent.futures import ThreadPoolExecutor

import requests

from app.extensions import db
from app.identity.models import Citizen, CitizenIdentity
from tests.identity.helpers import alipay_code, bearer, login_wechat, wechat_code


def test_wechat_login_finds_the_same_citizen_again_and_tells_people_apart(client, sandbox_url):
    first = login_wechat(client, sandbox_url, "alice")
    again = login_wechat(client, sandbox_url, "alice")
    bob = login_wechat(client, sandbox_url, "bob")
    assert first["citizen"]["id"] == again["citizen"]["id"] != bob["citizen"]["id"]
    assert first["token_type"] == "Bearer" and first["expires_in"] == 900
    assert first["citizen"]["logins"] == ["wechat"]
    assert "session_key" not in str(first)


def test_wechat_errors_are_clear(client, sandbox_url):
    code = wechat_code(sandbox_url, "carol")
    assert client.post("/api/v1/auth/wechat", json={"code": code}).status_code == 200
    used = client.post("/api/v1/auth/wechat", json={"code": code})
    assert (used.status_code, used.json["error"]["code"]) == (401, "WECHAT_CODE_USED")
    unknown = client.post("/api/v1/auth/wechat", json={"code": "made-up"})
    assert (unknown.status_code, unknown.json["error"]["code"]) == (401, "WECHAT_CODE_INVALID")
    risky = client.post("/api/v1/auth/wechat", json={"code": wechat_code(sandbox_url, "risky")})
    assert (risky.status_code, risky.json["error"]["code"]) == (403, "WECHAT_USER_BLOCKED")
    busy = client.post("/api/v1/auth/wechat", json={"code": wechat_code(sandbox_url, "busy")})
    assert (busy.status_code, busy.json["error"]["code"]) == (503, "WECHAT_BUSY")
    assert busy.headers["Retry-After"]


def test_wechat_down_is_503_with_retry_after_and_creates_nobody(client, sandbox_url, app_ctx):
    code = wechat_code(sandbox_url, "dave")
    requests.put(f"{sandbox_url}/_control/faults/wechat", json={"mode": "fail", "times": 5}, timeout=5)
    response = client.post("/api/v1/auth/wechat", json={"code": code})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert db.session.query(Citizen).count() == 0


def test_alipay_login(client, sandbox_url):
    first = client.post("/api/v1/auth/alipay", json={"auth_code": alipay_code(sandbox_url, "bob")})
    assert first.status_code == 200, first.json
    again = client.post("/api/v1/auth/alipay", json={"auth_code": alipay_code(sandbox_url, "bob")})
    assert first.json["citizen"]["id"] == again.json["citizen"]["id"]
    assert first.json["citizen"]["logins"] == ["alipay"]
    reused = client.post("/api/v1/auth/alipay", json={"auth_code": "nope"})
    assert (reused.status_code, reused.json["error"]["code"]) == (401, "ALIPAY_CODE_INVALID")
    busy = client.post("/api/v1/auth/alipay", json={"auth_code": alipay_code(sandbox_url, "busy")})
    assert busy.status_code == 503 and busy.headers["Retry-After"]


def test_a_double_tap_on_first_login_makes_one_citizen(app, sandbox_url):
    codes = [wechat_code(sandbox_url, "erin") for _ in range(8)]

    def login(code):
        return app.test_client().post("/api/v1/auth/wechat", json={"code": code})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(login, codes))
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json["citizen"]["id"] for r in responses}) == 1
    with app.app_context():
        assert db.session.query(CitizenIdentity).count() == 1


def test_me_shows_and_changes_only_the_callers_own_profile(client, sandbox_url):
    alice = login_wechat(client, sandbox_url, "alice")
    bob = login_wechat(client, sandbox_url, "bob")
    me = client.get("/api/v1/me", headers=bearer(alice["access_token"]))
    assert me.status_code == 200 and me.json["id"] == alice["citizen"]["id"]
    changed = client.patch("/api/v1/me", json={"nickname": "小爱"}, headers=bearer(alice["access_token"]))
    assert changed.json["nickname"] == "小爱"
    assert client.get("/api/v1/me", headers=bearer(bob["access_token"])).json["nickname"] is None
    assert client.get("/api/v1/me").status_code == 401
