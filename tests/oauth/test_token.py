"""POST /oauth/token: client credentials with Basic or form auth; our JWT; RFC 6749 errors."""

import pytest
from flask import jsonify

from app.errors import AppError
from app.identity import tokens
from app.identity.policy import require_scope
from app.oauth import service
from tests.oauth.conftest import ask_token


@pytest.mark.parametrize("post", [False, True], ids=["client_secret_basic", "client_secret_post"])
def test_a_client_gets_our_token_with_its_scopes_and_department(app, client, make_client, post):
    credentials = make_client("catalog:write", "schedules:write")
    response = ask_token(client, credentials, post=post)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.config["ACCESS_TOKEN_SECONDS"]
    assert body["scope"] == "catalog:write schedules:write"
    assert "refresh_token" not in body  # RFC 6749 4.4.3
    assert response.headers["Cache-Control"] == "no-store"
    caller = tokens.verify(body["access_token"])
    assert (caller.kind, caller.subject, caller.department) == ("client", credentials.client_id, "gjj")
    assert caller.scopes == {"catalog:write", "schedules:write"}


def test_a_client_may_ask_for_fewer_scopes(client, make_client):
    credentials = make_client("catalog:write", "schedules:write", "bills:write")
    response = ask_token(client, credentials, scope="bills:write")
    assert response.status_code == 200 and response.json["scope"] == "bills:write"
    assert tokens.verify(response.json["access_token"]).scopes == {"bills:write"}


@pytest.mark.parametrize("scope", ["bills:write", "catalog:write bills:write", "admin"])
def test_a_scope_the_client_does_not_hold_is_invalid_scope(client, make_client, scope):
    response = ask_token(client, make_client("catalog:write"), scope=scope)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_scope"


def _unknown(credentials):
    return service.Credentials("no-such-client", credentials.client_secret)


@pytest.mark.parametrize("post", [False, True], ids=["client_secret_basic", "client_secret_post"])
def test_wrong_secret_unknown_and_disabled_clients_all_get_the_same_401(client, make_client, post):
    credentials, disabled = make_client(), make_client()
    service.disable_client(disabled.client_id)
    answers = [
        ask_token(client, credentials, secret=credentials.client_secret + "x", post=post),
        ask_token(client, _unknown(credentials), post=post),
        ask_token(client, disabled, post=post),
        ask_token(client),  # no credentials at all
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
        assert response.headers["Cache-Control"] == "no-store"
    assert {r.json["error"] for r in answers} == {"invalid_client"}
    assert len({r.json["error_description"] for r in answers}) == 1, "the answer must not tell which it was"


def test_another_grant_type_is_unsupported(client, make_client):
    response = ask_token(client, make_client(), grant_type="password")
    assert (response.status_code, response.json["error"]) == (400, "unsupported_grant_type")


def test_a_json_body_is_refused_in_the_oauth_format(client, make_client):
    credentials = make_client()
    response = client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": credentials.client_id, "client_secret": "x"},
    )
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_the_token_passes_require_scope_and_only_for_its_scopes(make_app, make_client):
    other_app = make_app()

    @require_scope("catalog:write")
    def publish():
        return jsonify(ok=True)

    other_app.add_url_rule("/_test/catalog", view_func=publish, methods=["POST"])
    http = other_app.test_client()
    with other_app.app_context():
        catalog = ask_token(http, make_client("catalog:write", "schedules:write")).json["access_token"]
        schedules = ask_token(http, make_client("schedules:write")).json["access_token"]
    assert http.post("/_test/catalog", headers={"Authorization": f"Bearer {catalog}"}).status_code == 200
    refused = http.post("/_test/catalog", headers={"Authorization": f"Bearer {schedules}"})
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "FORBIDDEN")


def test_each_token_records_the_clients_last_use(client, make_client):
    from app.extensions import db
    from app.oauth.models import DepartmentClient

    credentials = make_client()
    assert db.session.get(DepartmentClient, credentials.client_id).last_used_at is None
    assert ask_token(client, credentials).status_code == 200
    db.session.expire_all()
    assert db.session.get(DepartmentClient, credentials.client_id).last_used_at is not None


def test_a_token_is_not_issued_if_the_secret_changed_after_authenticating(app_ctx, make_client):
    credentials = make_client()
    authenticated = service.authenticate(credentials.client_id, credentials.client_secret)
    service.rotate_secret(credentials.client_id)
    assert service.issue_token(authenticated, ("catalog:write",)) is None
    with pytest.raises(AppError):
        service.rotate_secret("no-such-client")


@pytest.mark.parametrize("client_id", ["nul\x00byte", "ö" * 40, "x" * 33, ""])
def test_a_client_id_we_never_issue_is_just_an_unknown_client(client, client_id):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "s"},
    )
    assert (response.status_code, response.json["error"]) == (401, "invalid_client")
