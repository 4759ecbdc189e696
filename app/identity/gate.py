"""One Redis round trip per authenticated request: is the session revoked, and is the caller still
within the default rate limit for this route?

Flask-Limiter would spend a round trip (and a third of a cached read's CPU, in its script call) of
its own on the default limit. So the default limit is counted here: for a request with a validly
signed token to a protected route, in the same pipeline as the revocation check; for any other
(guests, public routes), in one INCR of its own before the view (`count_default_limit`). Only
declared `@rate_limit`s stay with Flask-Limiter. The counting is Flask-Limiter's own fixed window,
over the same RATELIMIT_DEFAULT, parsed by the same `limits` library, with the same keys.
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


def _windows(subject: str) -> list[tuple[str, int, int, float]]:
    """The default limit's counters of this route for `subject`: (key, amount, expiry, window end) each."""
    limits = current_app.extensions.get("token_rate_limits", ()) if has_request_context() else ()
    endpoint = request.endpoint if limits else None
    now = time.time()
    windows = []
    for item in limits if endpoint else ():
        expiry = item.get_expiry()
        window = int(now // expiry)
        key = f"ratelimit:{subject}:{endpoint}:{item.amount}/{expiry}:{window}"
        windows.append((key, item.amount, expiry, (window + 1) * expiry))
    return windows


def _count(pipe, subject: str) -> list[tuple[int, float]]:
    """Queue the counters on `pipe`; (amount, window end) per limit."""
    windows = _windows(subject)
    for key, _, expiry, _ in windows:
        pipe.incr(key)
        pipe.expire(key, expiry + 1, nx=True)
    return [(amount, end) for _, amount, _, end in windows]


def _refuse_if_over(counts: list[int], windows: list[tuple[int, float]]) -> None:
    """429 if any count (one per window, in order) is over its window's amount."""
    now = time.time()
    for count, (amount, window_end) in zip(counts, windows, strict=True):
        if count > amount:
            wait = max(1, math.ceil(window_end - now))
            code, message = HTTP_ERRORS[429]
            raise AppError(code, message, 429, {"retry_after_seconds": wait}, {"Retry-After": str(wait)})


def revoked_and_counted(revoked_key: str, subject: str, revoked_in_database: Callable[[], bool]) -> bool:
    """Whether the session is revoked; raises 429 when the caller is over the limit for this route."""
    # A pipeline, not a script: the embedded default's in-process Redis stand-in has no Lua.
    pipe = redis.pipeline(transaction=False)
    pipe.exists(revoked_key)
    windows = _count(pipe, subject)
    try:
        results = pipe.execute()
    except Exception:  # noqa: BLE001 - Redis down: the database answers; the count is skipped, as Flask-Limiter would
        log.warning("Redis unavailable for the token check; asking the database")
        return revoked_in_database()
    # The limit first: a revoked or expired token must not be a way to send requests without end.
    _refuse_if_over(results[1::2], windows)  # each counter's INCR, skipping its EXPIRE
    return bool(results[0])


def count_default_limit(limited_endpoints: frozenset[str]) -> None:
    """A before_request hook: the default limit of every request the token check will not count
    (guests, public routes), in one plain INCR instead of Flask-Limiter's script call.
    Routes with declared limits are Flask-Limiter's, defaults included."""
    from app.rate_limits import EXEMPT_PATHS, caller_key

    if request.endpoint is None or request.path in EXEMPT_PATHS or request.endpoint in limited_endpoints:
        return
    if counted_by_token_check():
        return
    counts, windows = [], []
    try:
        for key, amount, expiry, end in _windows(caller_key()):
            # One plain command per request: the window's first request also sets its expiry. Should that
            # be lost, a key of a past window lingers unused; nobody is limited by it.
            count = redis.incr(key)
            if count == 1:
                redis.expire(key, expiry + 1)
            counts.append(count)
            windows.append((amount, end))
    except Exception:  # noqa: BLE001 - Redis down: not counted, as Flask-Limiter (RATELIMIT_SWALLOW_ERRORS) would
        log.warning("Redis unavailable for the rate limit; request let through uncounted")
        return
    _refuse_if_over(counts, windows)
