"""Access tokens: short-lived JWTs signed with Ed25519 (kid in the header, any configured key verifies).

A token names its session (`sid`); revoking the session revokes its tokens at once, through a Redis
mark that lives as long as a token can, with the database as the fallback when Redis is down.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError

from app.errors import AppError
from app.extensions import db, redis
from app.identity import gate
from app.outbox.delivery import outbox_handler
from app.security.keys import SigningKeys

log = logging.getLogger(__name__)
ALGORITHMS = ["Ed25519"]
AUDIENCE = "zz-city-services"
REVOKED_KEY = "auth:revoked:{sid}"
KINDS = frozenset({"citizen", "staff", "operator", "client"})


@dataclass(frozen=True)
class Caller:
    kind: str  # anonymous, citizen, staff, operator, client
    subject: str | None = None
    session_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    department: str | None = None


ANONYMOUS = Caller("anonymous")


def _keys() -> SigningKeys:
    return current_app.extensions["signing_keys"]


def issue(caller: Caller) -> tuple[str, int]:
    """A signed access token for `caller` and its lifetime in seconds."""
    keys, lifetime, now = _keys(), current_app.config["ACCESS_TOKEN_SECONDS"], int(time.time())
    claims = {
        "iss": current_app.config["PUBLIC_BASE_URL"],
        "aud": AUDIENCE,
        "sub": caller.subject,
        "typ": caller.kind,
        "sid": caller.session_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": os.urandom(12).hex(),
    }
    if caller.roles:
        claims["roles"] = sorted(caller.roles)
    if caller.scopes:
        claims["scope"] = " ".join(sorted(caller.scopes))
    if caller.department:
        claims["dept"] = caller.department
    header = {"alg": ALGORITHMS[0], "kid": keys.active_kid}
    return jwt.encode(header, claims, keys.private, algorithms=ALGORITHMS), lifetime


def _invalid(reason: str) -> AppError:
    return AppError(
        "INVALID_TOKEN",
        "登录已失效，请重新登录",
        401,
        {"reason": reason},
        {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'},
    )


@lru_cache(maxsize=16384)
def _signed_claims(token: str, keys: SigningKeys) -> dict:
    """Claims of a token whose signature checks out. Cached: a phone sends the same token for minutes,
    and the signature check is most of the cost of a request. Expiry and revocation are checked anew."""
    return jwt.decode(token, keys.private, algorithms=ALGORITHMS).claims


def _claims(token: str) -> dict:
    """Signed claims, or a 401. joserfc raises more than JoseError on crafted input (a TypeError for a
    `crit` header that is not a list): whatever it raises, the token is bad, never a 500."""
    try:
        claims = _signed_claims(token, _keys())
    except JoseError as error:
        raise _invalid("unknown key" if error.error == "invalid_key_id" else "bad signature or format") from None
    except Exception:  # noqa: BLE001 - see above
        raise _invalid("bad signature or format") from None
    if (
        not isinstance(claims, dict)
        or not isinstance(claims.get("sub"), str)
        or not isinstance(claims.get("sid"), str)
        or claims.get("typ") not in KINDS
    ):
        raise _invalid("missing claims")
    return claims


def signed_subject(token: str) -> str | None:
    """`<typ>:<sub>` of a token with a good signature (nothing else checked), for rate-limit keys."""
    try:
        claims = _claims(token)
    except AppError:
        return None
    return f"{claims['typ']}:{claims['sub']}"


def verify(token: str, count: bool = True) -> Caller:
    """The caller a bearer token stands for. Raises a 401 AppError with the reason.

    `count`: this request counts against the caller's default rate limit (the policy check does so,
    once per request; a second look at the same token in that request passes False)."""
    claims = _claims(token)
    sid = claims["sid"]
    if count:
        # Counted before the other checks: an expired or foreign token counts against its subject too.
        subject = f"{claims['typ']}:{claims['sub']}"
        revoked = gate.revoked_and_counted(REVOKED_KEY.format(sid=sid), subject, lambda: _revoked_in_db(sid))
    else:
        revoked = is_revoked(sid)
    now = int(time.time())
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        raise _invalid("expired")
    if claims.get("aud") != AUDIENCE or claims.get("iss") != current_app.config["PUBLIC_BASE_URL"]:
        raise _invalid("wrong issuer or audience")
    if revoked:
        raise _invalid("revoked")
    return Caller(
        kind=claims["typ"],
        subject=claims["sub"],
        session_id=sid,
        roles=frozenset(claims.get("roles", ())),
        scopes=frozenset(claims.get("scope", "").split()),
        department=claims.get("dept"),
    )


MARK_REVOKED_TOPIC = "auth.mark_revoked"


def _set_mark(session_id: str) -> None:
    # The mark outlives every access token the session can have issued.
    redis.set(REVOKED_KEY.format(sid=session_id), 1, ex=current_app.config["ACCESS_TOKEN_SECONDS"] + 60)


def mark_revoked(session_id: str) -> None:
    """Tell every worker at once. If Redis cannot take the mark now, the outbox keeps trying until it
    can: while Redis is down the database answers, and once it is back the mark must be there."""
    try:
        _set_mark(session_id)
    except Exception:  # noqa: BLE001 - any Redis failure: hand the mark to the outbox
        from app.db import unit_of_work
        from app.outbox.service import enqueue

        log.warning("could not mark a session revoked in Redis; queued for retry")
        with unit_of_work():
            enqueue(MARK_REVOKED_TOPIC, "redis", {"sid": session_id})


@outbox_handler(MARK_REVOKED_TOPIC)
def _deliver_mark(message) -> None:
    _set_mark(message.payload["sid"])


def is_revoked(session_id: str) -> bool:
    try:
        return bool(redis.exists(REVOKED_KEY.format(sid=session_id)))
    except Exception:  # noqa: BLE001 - Redis down: ask the database, never let a revoked token through
        return _revoked_in_db(session_id)


def _revoked_in_db(session_id: str) -> bool:
    from app.identity.models import AuthSession

    try:
        session = db.session.get(AuthSession, uuid.UUID(session_id))
    except ValueError:
        return True
    return session is None or session.revoked_at is not None
