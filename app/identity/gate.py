"""One Redis round trip per authenticated request: is the session revoked, and is the caller still
within the default rate limit for this route?

Flask-Limiter would spend a round trip (and a good share of a request's CPU) of its own on the
default limit. Requests with a validly signed token to a protected route are counted here instead,
in the same pipeline as the revocation check, and Flask-Limiter leaves them alone
(`counted_by_token_check` is its `default_limits_exempt_when`). Anonymous callers, public routes and
every declared `@rate_limit` stay with Flask-Limiter. The counting is Flask-Limiter's own fixed
window, over the same RATELIMIT_DEFAULT, parsed by the same `limits` library.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, request
from limits import parse_many

from app.errors import HTTP_ERRORS, AppError
from app.extensions import redis

log = logging.getLogger(__name__)


def init_gate(app: Flask) -> None:
    enabled = app.config.get("RATELIMIT_ENABLED", True)
    limits = parse_many(app.config["RATELIMIT_DEFAULT"]) if enabled and app.config.get("RATELIMIT_DEFAULT") else []
    app.extensions["token_rate_limits"] = tuple(limits)


def counted_by_token_check() -> bool:
    """Will the token check of this request count it? Then Flask-Limiter's default limit need not."""
    from app.identity.policy import bearer_token, endpoint_policy
    from app.identity.tokens import signed_subject

    if request.endpoint is None:
        return False
    policy = endpoint_policy(current_app, request.endpoint, request.method)
    if policy is None or policy["kind"] == "public":
        return False
    token = bearer_token()
    return token is not None and signed_subject(token) is not None


def revoked_and_counted(revoked_key: str, subject: str, revoked_in_database: Callable[[], bool]) -> bool:
    """Whether the session is revoked; raises 429 when the caller is over the limit for this route."""
    limits = current_app.extensions.get("token_rate_limits", ()) if has_request_context() else ()
    endpoint = request.endpoint if limits else None
    now = time.time()
    # A pipeline, not a script: the embedded default's in-process Redis stand-in has no Lua.
    pipe = redis.pipeline(transaction=False)
    pipe.exists(revoked_key)
    windows = []
    for item in limits if endpoint else ():
        expiry = item.get_expiry()
        window = int(now // expiry)
        key = f"ratelimit:{subject}:{endpoint}:{item.amount}/{expiry}:{window}"
        pipe.incr(key)
        pipe.expire(key, expiry + 1, nx=True)
        windows.append((item.amount, (window + 1) * expiry))
    try:
        results = pipe.execute()
    except Exception:  # noqa: BLE001 - Redis down: the database answers; the count is skipped, as Flask-Limiter would
        log.warning("Redis unavailable for the token check; asking the database")
        return revoked_in_database()
    # The limit first: a revoked or expired token must not be a way to send requests without end.
    for index, (amount, window_end) in enumerate(windows):
        if results[1 + 2 * index] > amount:
            wait = max(1, math.ceil(window_end - now))
            code, message = HTTP_ERRORS[429]
            raise AppError(code, message, 429, {"retry_after_seconds": wait}, {"Retry-After": str(wait)})
    return bool(results[0])
