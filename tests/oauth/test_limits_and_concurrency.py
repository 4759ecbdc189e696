"""Rate limits on the token endpoint (per client id, per IP), and many workers of one client at once."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.extensions import db
from app.identity import tokens
from tests.oauth.conftest import ask_token, basic


def test_failed_secrets_count_against_the_client_id(make_app, make_client):
    limited = make_app(OAUTH_CLIENT_RATE_LIMIT="3 per minute")
    http = limited.test_client()
    with limited.app_context():
        target, bystander = make_client(), make_client()
    guesses = [ask_token(http, target, secret=f"guess-{n}").status_code for n in range(3)]
    assert guesses == [401, 401, 401]
    blocked = ask_token(http, target)  # even the right secret waits now
    assert blocked.status_code == 429
    assert blocked.json["error"]["code"] == "RATE_LIMITED"
    assert int(blocked.headers["Retry-After"]) > 0
    blocked_post = ask_token(http, target, post=True)
    assert blocked_post.status_code == 429, "Basic and form auth share the client's counter"
    revoke = http.post("/oauth/revoke", data={"token": "t"}, headers=basic(target.client_id, target.client_secret))
    assert revoke.status_code == 429, "revocation checks the secret too: same counter"
    assert ask_token(http, bystander).status_code == 200, "other clients are not affected"
    # Client ids are not secret: guesses from one address never lock the department system out.
    elsewhere = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(target.client_id, target.client_secret),
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert elsewhere.status_code == 200


def test_with_rate_limiting_off_the_token_endpoint_still_answers(make_app, make_client):
    unlimited = make_app(RATELIMIT_ENABLED="0")
    with unlimited.app_context():
        credentials = make_client()
    answers = [ask_token(unlimited.test_client(), credentials).status_code for _ in range(70)]
    assert answers == [200] * 70  # past the per-IP limit of 60 a minute: nothing counts


def test_a_basic_header_that_is_not_utf8_is_an_invalid_client_not_a_crash(client):
    answer = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic //46eA=="}
    )
    assert answer.status_code == 401 and answer.json["error"] == "invalid_client"


def test_the_token_endpoint_is_limited_per_ip(client):
    answers = [ask_token(client).status_code for _ in range(61)]
    assert answers[:60] == [401] * 60
    assert answers[60] == 429


def test_ten_workers_of_one_client_all_get_tokens_at_once(app, make_client):
    credentials = make_client("catalog:write")

    def ask(_):
        return ask_token(app.test_client(), credentials)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(ask, range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    access = {r.json["access_token"] for r in responses}
    assert len(access) == 10
    assert {tokens.verify(token).subject for token in access} == {credentials.client_id}
    assert len({tokens.verify(token).session_id for token in access}) == 10, "each token revocable alone"
    count = db.session.execute(
        sa.text("SELECT count(*) FROM auth_sessions WHERE principal_kind = 'client' AND principal_id = :id"),
        {"id": credentials.client_id},
    ).scalar()
    assert count == 10
