"""Dropping sessions nothing can use any more, so the session tables do not grow for ever
(a department system takes a new token every quarter of an hour, each with a session of its own).

Kept: every session that can still be refreshed, with all its spent refresh tokens (presenting one
again must still revoke the session), and every session whose access tokens could still be presented
(a missing session counts as revoked).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.db import unit_of_work
from app.identity.models import AuthSession, RefreshToken


def purge_sessions(now: datetime | None = None, batch: int = 1000) -> dict[str, int]:
    """Delete ended sessions with all their refresh tokens, `batch` sessions per transaction."""
    now = now or utcnow()
    # No access token of a session older than this is still valid (plus a minute of clock skew).
    cutoff = now - timedelta(seconds=current_app.config["ACCESS_TOKEN_SECONDS"] + 60)
    can_refresh = sa.exists().where(
        RefreshToken.session_id == AuthSession.id, RefreshToken.status == "active", RefreshToken.expires_at >= now
    )
    ended = sa.or_(
        AuthSession.revoked_at < cutoff,
        # Client tokens have no refresh token: the session ends with its one access token.
        sa.and_(AuthSession.principal_kind == "client", AuthSession.created_at < cutoff),
        # Nothing left to refresh it with. Until then its spent tokens stay: a spent token presented
        # again, however late, revokes the session (the thief's copy with it).
        sa.and_(AuthSession.principal_kind != "client", AuthSession.created_at < cutoff, ~can_refresh),
    )
    totals = {"refresh_tokens": 0, "sessions": 0}
    while True:
        with unit_of_work() as s:
            ids = s.scalars(sa.select(AuthSession.id).where(ended).limit(batch)).all()
            if ids:
                totals["refresh_tokens"] += s.execute(
                    sa.delete(RefreshToken).where(RefreshToken.session_id.in_(ids))
                ).rowcount
                s.execute(sa.delete(AuthSession).where(AuthSession.id.in_(ids)))
        totals["sessions"] += len(ids)
        if len(ids) < batch:
            return totals
