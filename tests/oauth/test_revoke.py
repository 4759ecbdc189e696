"""POST /oauth/revoke (RFC 7009): own tokens die at once; anything else is a 200 that changes nothing."""

import pytest

from app.errors import AppError
from app.identity import tokens
from tests.oauth.conftest import ask_token, basic


def _revoke(client, credentials, token, **extra):
    return client.post(
        "/oauth/revoke",
        data={"token": token, **extra},
        headers=basic(credentials.client_id, credentials.client_secret),
    )


def _reason(token) -> str | None:
    try:
        tokens.verify(token)
    except AppError as error:
        return error.details["reason"]
    return None


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revoking_an_own_token_ends_it_at_once(client, make_client, hint):
    credentials = make_client()
    token = ask_token(client, credentials).json["access_token"]
    keep = ask_token(client, credentials).json["access_token"]
    extra = {"token_type_hint": hint} if hint else {}
    response = _revoke(client, credentials, token, **extra)
    assert (response.status_code, response.json) == (200, {})
    assert response.headers["Cache-Control"] == "no-store"
    assert _reason(token) == "revoked"
    assert _reason(keep) is None, "only the token named is revoked"


def test_revoking_another_clients_token_changes_nothing(client, make_client):
    mine, theirs = make_client(), make_client()
    their_token = ask_token(client, theirs).json["access_token"]
    assert _revoke(client, mine, their_token).status_code == 200
    assert _reason(their_token) is None


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "x" * 2000])
def test_unknown_or_malformed_tokens_get_200(client, make_client, token):
    assert _revoke(client, make_client(), token).status_code == 200


def test_the_client_must_authenticate_and_name_a_token(client, make_client):
    credentials = make_client()
    token = ask_token(client, credentials).json["access_token"]
    anonymous = client.post("/oauth/revoke", data={"token": token})
    assert (anonymous.status_code, anonymous.json["error"]) == (401, "invalid_client")
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = client.post("/oauth/revoke", data={"token": token}, headers=basic(credentials.client_id, "wrong"))
    assert wrong.status_code == 401
    assert _reason(token) is None
    missing = client.post("/oauth/revoke", data={}, headers=basic(credentials.client_id, credentials.client_secret))
    assert (missing.status_code, missing.json["error"]) == (400, "invalid_request")


def test_form_auth_works_for_revocation_too(client, make_client):
    credentials = make_client()
    token = ask_token(client, credentials).json["access_token"]
    form = {"token": token, "client_id": credentials.client_id, "client_secret": credentials.client_secret}
    assert client.post("/oauth/revoke", data=form).status_code == 200
    assert _reason(token) == "revoked"
