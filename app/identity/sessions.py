"""Login sessions and their refresh tokens: opaque, stored hashed, rotated on every use.

Reusing a spent refresh token means it was copied: the whole session (its family) is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.db import after_commit, unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import tokens
from app.identity.models import AuthSession, RefreshToken
from app.identity.tokens import Caller


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refresh_lifetime(kind: str) -> timedelta:
    # A phone stays logged in for weeks; a console left open on a shared office PC must not.
    if kind in {"staff", "operator"}:
        return timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    return timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])


def _new_refresh_token(session_id: uuid.UUID, kind: str) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        RefreshToken(
            session_id=session_id,
            token_hash=_hash(token),
            status="active",
            created_at=now,
            expires_at=now + _refresh_lifetime(kind),
        )
    )
    return token


def start(caller: Caller) -> TokenPair:
    """A new session for `caller` (inside the caller's unit of work): its first token pair."""
    session = AuthSession(id=uuid.uuid4(), principal_kind=caller.kind, principal_id=caller.subject, created_at=utcnow())
    db.session.add(session)
    refresh = _new_refresh_token(session.id, caller.kind)
    access, lifetime = tokens.issue(
        Caller(caller.kind, caller.subject, str(session.id), caller.roles, caller.scopes, caller.department)
    )
    return TokenPair(access, refresh, lifetime)


_REFRESH_FAILED = ("INVALID_REFRESH_TOKEN", "登录已过期，请重新登录", 401)


# Two uses of one refresh token this close together are a phone retrying on a weak signal, not a thief.
CONCURRENT_USE_SECONDS = 10


def refresh(refresh_token: str, caller_for) -> TokenPair:
    """Spend `refresh_token` and return a new pair. `caller_for(session)` rebuilds who the session is."""
    digest, now = _hash(refresh_token), utcnow()
    outcome = "invalid"
    with unit_of_work() as s:
        known = s.execute(sa.select(RefreshToken.session_id).where(RefreshToken.token_hash == digest)).first()
        if known is None:
            raise AppError(*_REFRESH_FAILED)
        # Lock the session before its tokens, in the same order as logout, so the two never deadlock.
        session = s.get(AuthSession, known.session_id, with_for_update=True)
        token = s.scalar(sa.select(RefreshToken).where(RefreshToken.token_hash == digest).with_for_update())
        # The hourly purge may have taken both away since the lookup above.
        if session is None or token is None or session.revoked_at is not None:
            raise AppError(*_REFRESH_FAILED)
        if token.status == "active" and token.expires_at > now:
            token.status, token.used_at = "used", now
            caller = caller_for(session)
            new_refresh = _new_refresh_token(session.id, caller.kind)
            access, lifetime = tokens.issue(caller)
            return TokenPair(access, new_refresh, lifetime)
        if token.status == "used" and (now - token.used_at).total_seconds() > CONCURRENT_USE_SECONDS:
            _revoke(session, "refresh_reuse")
            outcome = "reused"
    # Outside the unit of work, so the revocation above is committed before we answer.
    if outcome == "reused":
        raise AppError("REFRESH_TOKEN_REUSED", "检测到登录凭证被重复使用，已退出所有相关登录，请重新登录", 401)
    raise AppError(*_REFRESH_FAILED)


def _revoke(session: AuthSession | None, reason: str) -> None:
    if session is None or session.revoked_at is not None:
        return
    session.revoked_at, session.revoked_reason = utcnow(), reason
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.session_id == session.id, RefreshToken.status == "active")
        .values(status="revoked")
    )
    session_id = str(session.id)
    after_commit(lambda: tokens.mark_revoked(session_id))


def revoke(session_id: str, reason: str = "logout") -> None:
    with unit_of_work() as s:
        _revoke(s.get(AuthSession, uuid.UUID(session_id), with_for_update=True), reason)
    tokens.mark_revoked(session_id)  # again, in case an earlier logout could not reach Redis


def revoke_all(kind: str, principal_id: str, reason: str = "logout_all", keep: str | None = None) -> int:
    """Revoke every live session of a principal but `keep` (inside the caller's unit of work, if any)."""
    with unit_of_work() as s:
        query = sa.select(AuthSession).where(
            AuthSession.principal_kind == kind,
            AuthSession.principal_id == principal_id,
            AuthSession.revoked_at.is_(None),
        )
        if keep is not None:
            query = query.where(AuthSession.id != uuid.UUID(keep))
        sessions = s.scalars(query.with_for_update()).all()
        for session in sessions:
            _revoke(session, reason)
    return len(sessions)
