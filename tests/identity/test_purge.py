"""Purging finished sessions keeps what can still be used and drops what cannot."""

import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.db import unit_of_work
from app.extensions import db
from app.identity import sessions, tokens
from app.identity.models import AuthSession, RefreshToken
from app.identity.purge import purge_sessions
from app.identity.tokens import Caller
from tests.identity.helpers import login_wechat


def start(kind="citizen", subject=None, age=timedelta(0)):
    with unit_of_work() as s:
        pair = sessions.start(Caller(kind, subject or str(uuid.uuid4())))
        session = s.scalars(sa.select(AuthSession).order_by(AuthSession.created_at.desc())).first()
        session.created_at -= age
        for token in s.scalars(sa.select(RefreshToken).where(RefreshToken.session_id == session.id)):
            token.created_at, token.expires_at = token.created_at - age, token.expires_at - age
    return pair, session.id


def surviving() -> set:
    return set(db.session.scalars(sa.select(AuthSession.id)))


def test_purge_drops_only_sessions_nothing_can_use(app_ctx):
    live_pair, live = start()
    start("client", "c1", age=timedelta(hours=1))
    new_client_pair, new_client = start("client", "c1")
    start(age=timedelta(days=31))
    _, revoked = start(age=timedelta(hours=1))
    sessions.revoke(str(revoked))
    an_hour_ago = utcnow() - timedelta(hours=1)
    with unit_of_work() as s:
        s.execute(sa.update(AuthSession).where(AuthSession.id == revoked).values(revoked_at=an_hour_ago))

    counts = purge_sessions(batch=2)  # two transactions, to cover the batching
    assert surviving() == {live, new_client}
    assert counts == {"refresh_tokens": 3, "sessions": 3}  # one token each: expired, revoked, of the old client
    # What is left still works; running it again changes nothing.
    assert tokens.verify(live_pair.access_token).subject
    assert tokens.verify(new_client_pair.access_token).kind == "client"
    assert purge_sessions() == {"refresh_tokens": 0, "sessions": 0}


def test_a_spent_refresh_token_is_kept_until_it_expires_so_its_reuse_is_still_caught(client, app_ctx, sandbox_url):
    first = login_wechat(client, sandbox_url)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 200
    with unit_of_work() as s:  # spent a while ago: past the grace of a phone's quick retry
        # ...and long expired: still kept, the session can be refreshed with its successor.
        long_ago = utcnow() - timedelta(days=40)
        s.execute(
            sa.update(RefreshToken).where(RefreshToken.status == "used").values(used_at=long_ago, expires_at=long_ago)
        )
    purge_sessions()
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json["error"]["code"] == "REFRESH_TOKEN_REUSED"
