"""Department clients: created, listed, disabled and re-keyed by operators; tokens issued and revoked.

Secrets are shown once, when made, and kept only as a hash. Issuing a token re-checks the client in the
same statement that records its use, so a token is never issued to a client disabled or re-keyed a moment
before: that UPDATE and `disable`/`rotate_secret` take the same row lock.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.audit import service as audit
from app.city.models import Department
from app.clock import utcnow
from app.db import after_commit, unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import sessions, tokens
from app.identity.models import AuthSession
from app.identity.tokens import Caller
from app.oauth import scopes as catalog
from app.oauth.models import ACTIVE, DISABLED, DepartmentClient

CLIENT = "client"  # principal_kind of a client's sessions, typ of its tokens
CLIENT_ID = re.compile(r"[0-9a-f]{24}")  # what create_client makes


@dataclass(frozen=True)
class Credentials:
    """Shown to the operator once; only `client_id` is kept as it is."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    department: str
    scopes: frozenset[str]
    secret_hash: str  # the hash that matched, so issuing can tell if the secret changed meanwhile


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


def secret_hash(secret: str) -> str:
    # A plain SHA-256 is the right cost here: the secret is 256 random bits, so nobody can guess it from
    # the hash, and a slow password hash (argon2) would only make every token request slow. Passwords,
    # which people choose, are another matter.
    return hashlib.sha256(b"department-client:" + secret.encode()).hexdigest()


_NO_MATCH = secret_hash(secrets.token_urlsafe(32))  # compared against when the client is unknown


def _new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits; URL-safe, so Basic and form encoding leave it as it is


def _not_found() -> AppError:
    return AppError("CLIENT_NOT_FOUND", "未找到该部门系统客户端", 404)


def _checked_scopes(requested) -> list[str]:
    wanted = list(dict.fromkeys(requested))
    unknown = catalog.unknown(wanted)
    if not wanted or unknown:
        raise AppError(
            "INVALID_SCOPE",
            "权限范围无效，可选：" + "、".join(catalog.SCOPES),
            422,
            {"fields": {"scopes": [f"未知的权限范围：{s}" for s in unknown] or ["至少需要一个权限范围"]}},
        )
    return sorted(wanted)


def create_client(department_code: str, name: str, scopes) -> Credentials:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise AppError("VALIDATION_FAILED", "名称应为1到100个字符", 422, {"fields": {"name": ["1到100个字符"]}})
    allowed = _checked_scopes(scopes)
    secret, now = _new_secret(), utcnow()
    with unit_of_work() as s:
        if s.scalar(sa.select(Department.id).where(Department.code == department_code)) is None:
            raise AppError("DEPARTMENT_NOT_FOUND", "未找到该部门", 404, {"department": department_code})
        client = DepartmentClient(
            client_id=secrets.token_hex(12),  # hex: never starts with "-", which a command line would misread
            department_code=department_code,
            name=name,
            secret_hash=secret_hash(secret),
            scopes=allowed,
            status=ACTIVE,
            created_at=now,
            secret_changed_at=now,
        )
        s.add(client)
        audit.record(
            "department_client.create",
            "department_client",
            client.client_id,
            details={"department": department_code, "scopes": allowed},
        )
    return Credentials(client.client_id, secret)


def list_clients(department_code: str | None = None) -> list[DepartmentClient]:
    query = sa.select(DepartmentClient).order_by(DepartmentClient.department_code, DepartmentClient.created_at)
    if department_code:
        query = query.where(DepartmentClient.department_code == department_code)
    return list(db.session.scalars(query))


def _locked(session, client_id: str) -> DepartmentClient:
    client = session.get(DepartmentClient, client_id, with_for_update=True)
    if client is None:
        raise _not_found()
    return client


def _revoke_live_tokens(session, client_id: str, reason: str) -> int:
    """Revoke the sessions whose tokens may still be alive; older ones have expired on their own.

    (Each token has a session of its own, so a client gathers many: revoking them all would grow forever.)
    """
    now = utcnow()
    since = now - timedelta(seconds=current_app.config["ACCESS_TOKEN_SECONDS"] + 60)
    live = session.scalars(
        sa.select(AuthSession.id).where(
            AuthSession.principal_kind == CLIENT,
            AuthSession.principal_id == client_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.created_at >= since,
        )
    ).all()
    if live:
        session.execute(
            sa.update(AuthSession).where(AuthSession.id.in_(live)).values(revoked_at=now, revoked_reason=reason)
        )
        for session_id in live:
            after_commit(functools.partial(tokens.mark_revoked, str(session_id)))
    return len(live)


def disable_client(client_id: str) -> int:
    """Disable a client and revoke its live tokens at once; returns how many were revoked."""
    with unit_of_work() as s:
        client = _locked(s, client_id)
        client.status = DISABLED
        revoked = _revoke_live_tokens(s, client_id, "client_disabled")
        audit.record("department_client.disable", "department_client", client_id, details={"revoked": revoked})
    return revoked


def rotate_secret(client_id: str) -> Credentials:
    """A new secret; the old one stops working, and so do the tokens it obtained (it may have leaked)."""
    secret = _new_secret()
    with unit_of_work() as s:
        client = _locked(s, client_id)
        client.secret_hash, client.secret_changed_at = secret_hash(secret), utcnow()
        revoked = _revoke_live_tokens(s, client_id, "secret_rotated")
        audit.record("department_client.rotate_secret", "department_client", client_id, details={"revoked": revoked})
    return Credentials(client_id, secret)


def authenticate(client_id: str | None, secret: str | None) -> AuthenticatedClient | None:
    """The active client these credentials belong to, or None (unknown, disabled and wrong look the same)."""
    if not CLIENT_ID.fullmatch(client_id or "") or not secret:
        return None  # not one of ours (and a NUL byte must not reach PostgreSQL)
    client = db.session.get(DepartmentClient, client_id)
    stored = client.secret_hash if client is not None and client.status == ACTIVE else _NO_MATCH
    offered = secret_hash(secret)
    if not hmac.compare_digest(stored, offered) or client is None or client.status != ACTIVE:
        if client is not None:  # a known client's failure is worth an entry; random ids are just noise
            audit.record_now(
                "department_client.auth_failed", "department_client", client_id, details={"status": client.status}
            )
        return None
    return AuthenticatedClient(client.client_id, client.department_code, frozenset(client.scopes), offered)


def granted_scopes(client: AuthenticatedClient, requested: list[str]) -> tuple[str, ...] | None:
    """Requested scopes if the client holds them all (none requested = all it holds); None otherwise."""
    held = client.scopes & catalog.SCOPES.keys()
    if not requested:
        return tuple(sorted(held))
    return tuple(sorted(requested)) if set(requested) <= held else None


def issue_token(client: AuthenticatedClient, scopes: tuple[str, ...]) -> IssuedToken | None:
    """Our access token for the client, in a session of its own (so it can be revoked alone).

    None if the client was disabled or its secret changed since it authenticated.
    """
    now = utcnow()
    with unit_of_work() as s:
        department = s.execute(
            sa.update(DepartmentClient)
            .where(
                DepartmentClient.client_id == client.client_id,
                DepartmentClient.status == ACTIVE,
                DepartmentClient.secret_hash == client.secret_hash,
            )
            .values(last_used_at=now)
            .returning(DepartmentClient.department_code)
        ).scalar_one_or_none()
        if department is None:
            return None
        session = AuthSession(id=uuid.uuid4(), principal_kind=CLIENT, principal_id=client.client_id, created_at=now)
        s.add(session)
        # No refresh token: a client can always ask again with its credentials (RFC 6749 4.4.3).
        access, lifetime = tokens.issue(
            Caller(CLIENT, client.client_id, str(session.id), scopes=frozenset(scopes), department=department)
        )
    return IssuedToken(access, lifetime, scopes)


def revoke_token(client_id: str, token: str) -> bool:
    """Revoke `token` if it is a live token of this client. Anything else changes nothing (RFC 7009 2.2)."""
    try:
        caller = tokens.verify(token, count=False)  # the revoke call is not the token's own request
    except AppError as error:
        if error.status != 401:
            raise
        return False  # malformed, expired, already revoked, or not ours
    if caller.kind != CLIENT or caller.subject != client_id:
        return False
    sessions.revoke(caller.session_id, reason="client_revoked")
    return True
