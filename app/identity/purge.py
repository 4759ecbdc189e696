"""Dropping sessions nothing can use any more, so the session tables do not grow for ever
(a department system takes a new token every quarter of an hour, each with a session of its own).

Kept: every refresh token until it expires (a spent one must stay to catch its reuse), and every
session whose access tokens could still be presented (a missing session counts as revoked).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.db import unit_of_work
from app.identity.models import AuthSession, RefreshToken


def purge_sessions(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    # No access token of a session older than this is still valid (plus a minute of clock skew).
    cutoff = now - timedelta(seconds=current_app.config["ACCESS_TOKEN_SECONDS"] + 60)
    has_tokens = sa.exists().where(RefreshToken.session_id == AuthSession.id)
    finished = sa.or_(
        AuthSession.revoked_at < cutoff,
        # Client tokens have no refresh token: the session ends with its one access token.
        sa.and_(AuthSession.principal_kind == "client", AuthSession.created_at < cutoff),
        # Every refresh token expired and deleted: no rotation can have issued an access token since.
        sa.and_(AuthSession.principal_kind != "client", AuthSession.created_at < cutoff, ~has_tokens),
    )
    with unit_of_work() as s:
        expired = s.execute(sa.delete(RefreshToken).where(RefreshToken.expires_at < now)).rowcount
        ended = s.scalars(sa.select(AuthSession.id).where(finished)).all()
        of_ended = s.execute(sa.delete(RefreshToken).where(RefreshToken.session_id.in_(ended))).rowcount
        s.execute(sa.delete(AuthSession).where(AuthSession.id.in_(ended)))
    return {"refresh_tokens": expired + of_ended, "sessions": len(ended)}
