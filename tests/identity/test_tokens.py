"""Access tokens: expiry, tampering, unknown keys, rotation; refresh rotation, reuse and logout."""

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from app.extensions import db
from tests.identity.helpers import bearer, login_wechat


def pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def me(client, token):
    return client.get("/api/v1/me", headers=bearer(token))


def reason(response):
    return response.json["error"]["details"].get("reason")


def test_an_expired_token_is_refused(client, sandbox_url, app):
    login = login_wechat(client, sandbox_url)
    keys = app.extensions["signing_keys"].private
    token = jwt.decode(login["access_token"], keys, algorithms=["Ed25519"])
    expired = jwt.encode(token.header, {**token.claims, "exp": int(time.time()) - 1}, keys, algorithms=["Ed25519"])
    response = me(client, expired)
    assert (response.status_code, reason(response)) == (401, "expired")
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_tampered_token_is_refused(client, sandbox_url):
    victim = login_wechat(client, sandbox_url, "alice")
    attacker = login_wechat(client, sandbox_url, "mallory")
    head, payload, signature = attacker["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = victim["citizen"]["id"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = me(client, f"{head}.{forged_payload}.{signature}")
    assert (response.status_code, reason(response)) == (401, "bad signature or format")
    assert me(client, "not-a-jwt").status_code == 401


def test_a_token_signed_with_an_unknown_key_is_refused(client, sandbox_url, app):
    login = login_wechat(client, sandbox_url)
    claims = jwt.decode(login["access_token"], app.extensions["signing_keys"].private, algorithms=["Ed25519"]).claims
    stranger = OKPKey.import_key(pem(), parameters={"kid": "stranger"})
    forged = jwt.encode({"alg": "Ed25519", "kid": "stranger"}, claims, stranger, algorithms=["Ed25519"])
    response = me(client, forged)
    assert (response.status_code, reason(response)) == (401, "unknown key")


def test_a_rotated_key_still_verifies_until_it_is_retired(make_app, sandbox_url):
    old, new = pem(), pem()
    before = make_app(JWT_PRIVATE_KEYS=json.dumps({"k1": old}))
    token = login_wechat(before.test_client(), sandbox_url)["access_token"]
    assert jwt.decode(token, before.extensions["signing_keys"].private, algorithms=["Ed25519"]).header["kid"] == "k1"

    during = make_app(JWT_PRIVATE_KEYS=json.dumps({"k1": old, "k2": new}), JWT_ACTIVE_KID="k2")
    client = during.test_client()
    assert me(client, token).status_code == 200, "old tokens keep working during rotation"
    fresh = login_wechat(client, sandbox_url)["access_token"]
    assert jwt.decode(fresh, during.extensions["signing_keys"].private, algorithms=["Ed25519"]).header["kid"] == "k2"
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]} == {"k1", "k2"}
    assert all("d" not in k for k in client.get("/.well-known/jwks.json").json["keys"]), "no private parts"

    after = make_app(JWT_PRIVATE_KEYS=json.dumps({"k2": new}))
    assert reason(me(after.test_client(), token)) == "unknown key"
    assert me(after.test_client(), fresh).status_code == 200


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_family(client, sandbox_url, app):
    login = login_wechat(client, sandbox_url)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert second.status_code == 200 and second.json["refresh_token"] != login["refresh_token"]
    assert me(client, second.json["access_token"]).status_code == 200

    quick_retry = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert (quick_retry.status_code, quick_retry.json["error"]["code"]) == (401, "INVALID_REFRESH_TOKEN")
    assert me(client, second.json["access_token"]).status_code == 200, "a phone's quick retry revokes nothing"

    with app.app_context():  # a minute later, the spent token comes back: it was copied
        db.session.execute(sa.text("UPDATE refresh_tokens SET used_at = used_at - interval '1 minute'"))
        db.session.commit()
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert (replay.status_code, replay.json["error"]["code"]) == (401, "REFRESH_TOKEN_REUSED")
    # Everything of that family is dead now: the thief's and the owner's tokens alike.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]}).status_code == 401
    assert reason(me(client, second.json["access_token"])) == "revoked"
    assert reason(me(client, login["access_token"])) == "revoked"


def test_concurrent_uses_of_one_refresh_token_let_exactly_one_through(app, sandbox_url):
    login = login_wechat(app.test_client(), sandbox_url)

    def use(_):
        return app.test_client().post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(use, range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [401] * 7
    (winner,) = [r.json for r in responses if r.status_code == 200]
    client = app.test_client()
    assert me(client, winner["access_token"]).status_code == 200, "the losers' retries did not log the winner out"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]}).status_code == 200


def test_an_unknown_refresh_token_is_refused(client):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "never-issued"})
    assert (response.status_code, response.json["error"]["code"]) == (401, "INVALID_REFRESH_TOKEN")


def test_logout_ends_this_device_at_once_and_leaves_the_others(client, sandbox_url):
    phone, tablet = login_wechat(client, sandbox_url), login_wechat(client, sandbox_url)
    assert client.post("/api/v1/auth/logout", headers=bearer(phone["access_token"])).status_code == 204
    assert reason(me(client, phone["access_token"])) == "revoked"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
    assert me(client, tablet["access_token"]).status_code == 200


def test_logout_all_ends_every_device(client, sandbox_url):
    phone, tablet = login_wechat(client, sandbox_url), login_wechat(client, sandbox_url)
    other = login_wechat(client, sandbox_url, "bob")
    assert client.post("/api/v1/auth/logout-all", headers=bearer(tablet["access_token"])).status_code == 204
    assert reason(me(client, phone["access_token"])) == "revoked"
    assert reason(me(client, tablet["access_token"])) == "revoked"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
    assert me(client, other["access_token"]).status_code == 200


def test_revocation_holds_while_redis_is_down(make_app, sandbox_url, app):
    login = login_wechat(app.test_client(), sandbox_url)
    assert app.test_client().post("/api/v1/auth/logout", headers=bearer(login["access_token"])).status_code == 204
    no_redis = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    assert reason(me(no_redis, login["access_token"])) == "revoked", "falls back to the database"
    fresh = login_wechat(app.test_client(), sandbox_url)
    assert me(no_redis, fresh["access_token"]).status_code == 200


def test_a_logout_while_redis_is_down_still_holds_when_redis_returns(make_app, sandbox_url):
    from datetime import timedelta

    from app.clock import utcnow
    from app.outbox import delivery
    from tests.app.test_readiness import free_port, start_redis

    port = free_port()
    redis_process = start_redis(port)
    own = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    client = own.test_client()
    try:
        login = login_wechat(client, sandbox_url)
        redis_process.terminate()
        redis_process.wait(5)
        assert client.post("/api/v1/auth/logout", headers=bearer(login["access_token"])).status_code == 204
        assert reason(me(client, login["access_token"])) == "revoked", "the database answers while Redis is down"

        redis_process = start_redis(port)  # back, empty: the mark was never written
        with own.app_context():
            for message_id in delivery.due_message_ids(now=utcnow() + timedelta(hours=1)):
                delivery.deliver(message_id, now=utcnow() + timedelta(hours=1))  # the outbox's next retry
        assert reason(me(client, login["access_token"])) == "revoked", "the outbox wrote the mark"
    finally:
        redis_process.kill()
