"""At most one Redis round trip per request for every rate limit of its route, and, for an
authenticated request, the revocation check in the same pipeline.

A route's limits are the ones it declares (`@rate_limit`, app/rate_limits.py), else the default
(RATELIMIT_DEFAULT). They are fixed windows, parsed by the `limits` library as Flask-Limiter would.
For a request with a validly signed token to a protected route they are counted in the token
check's pipeline (`revoked_and_counted`); for any other (guests, public routes), in a pipeline of
their own before the view (`count_route_limits`), where batched limits (the default one and those
declared batched) are counted in the worker while the caller is well within them
(app/identity/batched_counts.py). Flask-Limiter would spend a Lua script call, and evaluate the limits
twice, per request: a fifth of a cached inquiry's time.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, has_request_context, request
from limits import RateLimitItem, parse_many

from app.errors import HTTP_ERRORS, AppError
from app.extensions import redis
from app.identity.batched_counts import Window, batched_counts

log = logging.getLogger(__name__)
# (limit, per, methods, batched): per is "caller" or "ip"; methods None means every method; batched
# limits are counted in the worker first (app/identity/batched_counts.py).
Declared = tuple[RateLimitItem, str, frozenset[str] | None, bool]
Limit = tuple[RateLimitItem, str, bool]


def init_gate(app: Flask, declared: dict[str, list[Declared]]) -> None:
    """`declared`: the limits each endpoint declares. Nothing is counted when rate limiting is off."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.extensions["route_limits"] = None
        return
    default = parse_many(app.config["RATELIMIT_DEFAULT"]) if app.config.get("RATELIMIT_DEFAULT") else []
    default_limits = tuple((item, "caller", True) for item in default)
    app.extensions["route_limits"] = {"default": default_limits, "declared": declared}


def _limits_of_this_request() -> tuple[Limit, ...]:
    """The route's declared limits for this method, else the default ones (Flask-Limiter's precedence).
    The default is a guard against scraping, batched; a route's own limits are exact unless declared
    batched."""
    limits = current_app.extensions.get("route_limits") if has_request_context() else None
    if not limits or request.endpoint is None:
        return ()
    declared = limits["declared"].get(request.endpoint, ())
    method = request.method
    own = tuple((item, per, batched) for item, per, methods, batched in declared if not methods or method in methods)
    return own or limits["default"]


def counted_by_token_check() -> bool:
    """Will the token check of this request count it? Then the before-request count need not."""
    from app.identity.policy import bearer_token, endpoint_policy
    from app.identity.tokens import signed_subject

    if request.endpoint is None:
        return False
    policy = endpoint_policy(current_app, request.endpoint, request.method)
    if policy is None or policy["kind"] == "public":
        return False
    token = bearer_token()
    return token is not None and signed_subject(token) is not None


def _windows(subject: str) -> tuple[list[Window], bool]:
    """This request's counters, (key, amount, expiry, window end) each, and whether all are batched.
    `subject` is who a per-caller limit counts (citizen:<id>, ip:<address>...); a per-IP limit counts the
    address whoever calls."""
    from app.rate_limits import address_key

    now = time.time()
    windows = []
    limits = _limits_of_this_request()
    for item, per, _ in limits:
        who = subject if per == "caller" else f"ip:{address_key()}"
        expiry = item.get_expiry()
        window = int(now // expiry)
        key = f"ratelimit:{per}:{who}:{request.endpoint}:{item.amount}/{expiry}:{window}"
        windows.append((key, item.amount, expiry, (window + 1) * expiry))
    return windows, all(batched for _, _, batched in limits)


def _count(pipe, subject: str) -> list[tuple[int, float]]:
    """Queue the counters on `pipe` (an INCR and an EXPIRE each); (amount, window end) per counter."""
    windows, _ = _windows(subject)
    for key, _, expiry, _ in windows:
        pipe.incr(key)
        pipe.expire(key, expiry + 1, nx=True)
    return [(amount, end) for _, amount, _, end in windows]


def _refuse_if_over(counts: list[int], windows: list[tuple[int, float]]) -> None:
    """429 if any count (one per window, in order) is over its window's amount, with the longest wait
    among the windows that are over. (Every window of the route counts each request, refused ones too,
    as the default limit always did: a client hammering past a minute's limit also spends its day's.)"""
    now = time.time()
    waits = [
        max(1, math.ceil(window_end - now))
        for count, (amount, window_end) in zip(counts, windows, strict=True)
        if count > amount
    ]
    if waits:
        wait = max(waits)
        code, message = HTTP_ERRORS[429]
        raise AppError(code, message, 429, {"retry_after_seconds": wait}, {"Retry-After": str(wait)})


def revoked_and_counted(revoked_key: str, subject: str, revoked_in_database: Callable[[], bool]) -> bool:
    """Whether the session is revoked; raises 429 when the caller is over a limit of this route."""
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


def count_route_limits() -> None:
    """A before_request hook: the limits of every request the token check will not count (guests,
    public routes, forged tokens). Batched ones in the worker while the caller is well within them,
    else in one pipelined round trip. (An INCR alone, with an EXPIRE only after a window's first count,
    would take two round trips for each new caller of a route.)"""
    from app.rate_limits import EXEMPT_PATHS, caller_key

    if request.endpoint is None or request.path in EXEMPT_PATHS or counted_by_token_check():
        return
    windows, batched = _windows(caller_key())
    if not windows:
        return
    counts = batched_counts(current_app) if batched else None
    if counts is not None:
        if counts.admit(windows):
            return
        totals = counts.count_now(windows)
    else:
        pipe = redis.pipeline(transaction=False)
        for key, _, expiry, _ in windows:
            pipe.incr(key)
            pipe.expire(key, expiry + 1, nx=True)
        try:
            totals = pipe.execute()[0::2]  # each counter's INCR, skipping its EXPIRE
        except Exception:  # noqa: BLE001 - Redis down: not counted, as Flask-Limiter (RATELIMIT_SWALLOW_ERRORS) would
            log.warning("Redis unavailable for the rate limit; request let through uncounted")
            totals = None
    if totals is not None:
        _refuse_if_over(totals, [(amount, end) for _, amount, _, end in windows])
