"""The database restarts under a running app: no ping per request, yet reads carry on and writes
answer 503 with Retry-After (nothing half-done), and the next request works again."""

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN_DATABASE_URL, DATABASE_URL
from tests.identity.helpers import bearer, login_wechat

NAME = "restart-test"


@pytest.fixture
def app_and_client(make_app):
    """An app of its own, one pooled connection, named so that only its connections are cut."""
    app = make_app(DATABASE_URL=f"{DATABASE_URL}?application_name={NAME}", DB_POOL_SIZE="1", DB_MAX_OVERFLOW="0")
    yield app, app.test_client()
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


def cut_every_connection_of_the_app() -> int:
    """What a restart of PostgreSQL does to the app's pooled connections."""
    admin = sa.create_engine(ADMIN_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.execute(
            sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"),
            {"n": NAME},
        ).scalar_one()
    admin.dispose()
    return cut


def test_a_read_after_a_restart_is_retried_on_a_fresh_connection(app_and_client, sandbox_url):
    app, client = app_and_client
    assert app.config["DB_PRE_PING"] is False
    token = login_wechat(client, sandbox_url)["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert cut_every_connection_of_the_app() >= 1
    again = client.get("/api/v1/me", headers=bearer(token))
    assert again.status_code == 200, again.json


def test_a_write_after_a_restart_answers_503_and_the_next_one_works(app_and_client, sandbox_url):
    _, client = app_and_client
    token = login_wechat(client, sandbox_url)["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    cut_every_connection_of_the_app()
    refused = client.patch("/api/v1/me", json={"nickname": "小王"}, headers=bearer(token))
    assert refused.status_code == 503 and refused.json["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert refused.headers["Retry-After"] == "2"
    assert client.get("/api/v1/me", headers=bearer(token)).json["nickname"] != "小王"
    retried = client.patch("/api/v1/me", json={"nickname": "小王"}, headers=bearer(token))
    assert retried.status_code == 200 and retried.json["nickname"] == "小王"


def test_a_connection_lost_during_the_commit_says_the_outcome_is_unknown(app, app_ctx, monkeypatch):
    from app.db import unit_of_work
    from app.errors import AppError
    from app.extensions import db

    def lost(*_):
        cause = Exception("server closed the connection")
        raise sa.exc.OperationalError("COMMIT", {}, cause, connection_invalidated=True)

    monkeypatch.setattr(db.session, "commit", lost)
    with pytest.raises(AppError) as raised, unit_of_work():
        pass
    assert (raised.value.code, raised.value.status) == ("OUTCOME_UNKNOWN", 503)
    assert "Retry-After" not in raised.value.headers, "a retry could do a committed write twice"
