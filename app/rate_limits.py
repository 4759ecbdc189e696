"""Rate limits: one Flask-Limiter per app (its defaults are per instance), counters in Redis.

Who is counted: a caller with a validly signed token by who they are (each citizen, department
client and console account apart, however many share a carrier's NAT address), anyone else by IP
address. Views declare extra limits with `@rate_limit("5 per minute")` (per caller) or
`@rate_limit("20 per hour", per="ip")`; they are applied when the app is built.
"""

from __future__ import annotations

import functools
import ipaddress

from flask import Flask, request
from flask_limiter import Limiter

from app.request_context import client_address

# Probes and scrapes are never limited, and skip Flask-Limiter's hooks altogether.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def rate_limit(*limits: str, per: str = "caller"):
    if per not in {"caller", "ip"}:
        raise ValueError(f"per must be 'caller' or 'ip', not {per!r}")

    def mark(view):
        view.rate_limits = (*getattr(view, "rate_limits", ()), *((limit, per) for limit in limits))
        return view

    return mark


def address_key() -> str:
    """The client's address; for IPv6 its /64, which one subscriber gets whole (RFC 6177), so that a
    phone cannot walk through 2^64 addresses to escape a limit."""
    address = client_address()
    if ":" in address:
        try:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            return address
    return address


def caller_key() -> str:
    """`citizen:<id>`, `client:<id>`, `staff:<id>`... for a token whose signature checks out, else `ip:<addr>`.

    Only the signature is checked here (cached per token): expiry and revocation are the policy's
    business, and a forged token cannot pick someone else's counter."""
    from app.identity.policy import bearer_token
    from app.identity.tokens import signed_subject

    token = bearer_token()
    subject = signed_subject(token) if token else None
    return subject or f"ip:{address_key()}"


def _limiter_has_nothing_to_do(limited_endpoints: frozenset[str]) -> bool:
    """Probes, and every route without declared limits: their default limit is the gate's
    (app/identity/gate.py). Decided once per request, so Flask-Limiter's hooks agree."""
    decided = request.environ.get("city.limiter_skip")
    if decided is None:
        decided = request.path in EXEMPT_PATHS or request.endpoint not in limited_endpoints
        request.environ["city.limiter_skip"] = decided
    return decided


def _skip_when_idle(hook, passthrough: bool, limited_endpoints: frozenset[str]):
    # Flask-Limiter's hooks cost tens of µs even when they end up counting nothing.
    @functools.wraps(hook)
    def guarded(*args):
        if _limiter_has_nothing_to_do(limited_endpoints):
            return args[0] if passthrough else None
        return hook(*args)

    return guarded


def _declared_limits(view) -> dict[tuple[str, tuple[str, ...] | None], list[str]]:
    """Limits on a view function, or on a MethodView class (every method) and its methods (that method
    only), grouped by (per, methods) as Flask-Limiter takes them."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        declared = [(item, None) for item in getattr(view, "rate_limits", ())]
    else:
        declared = [(item, None) for item in getattr(view_class, "rate_limits", ())]
        for method in getattr(view_class, "methods", None) or ():
            own = getattr(getattr(view_class, method.lower(), None), "rate_limits", ())
            declared += [(item, (method.upper(),)) for item in own]
    groups: dict[tuple[str, tuple[str, ...] | None], list[str]] = {}
    for item, methods in declared:
        # A plain string (a class attribute) counts per caller.
        limit, per = (item, "caller") if isinstance(item, str) else item
        bucket = groups.setdefault((per, methods), [])
        if limit not in bucket:
            bucket.append(limit)
    return groups


def init_rate_limits(app: Flask) -> Limiter:
    """Call after every route is registered."""
    hook_lists = {
        "before": app.before_request_funcs.setdefault(None, []),
        "after": app.after_request_funcs.setdefault(None, []),
        "teardown": app.teardown_request_funcs.setdefault(None, []),
    }
    known = {name: len(hooks) for name, hooks in hook_lists.items()}
    from app.identity.gate import count_default_limit, init_gate

    init_gate(app)
    # The default limit is the gate's, counted in one pipelined round trip: Flask-Limiter never applies it.
    limiter = Limiter(key_func=caller_key, app=app, default_limits_exempt_when=lambda: True)
    limited = frozenset(endpoint for endpoint, view in app.view_functions.items() if _declared_limits(view))
    for name, hooks in hook_lists.items():
        # Only after_request hooks hand the response on; the others return nothing.
        hooks[known[name] :] = [
            _skip_when_idle(h, passthrough=name == "after", limited_endpoints=limited) for h in hooks[known[name] :]
        ]
    if app.config.get("RATELIMIT_ENABLED", True):
        app.before_request(functools.partial(count_default_limit, limited))  # after the wrapping above
    key_funcs = {"caller": caller_key, "ip": address_key}
    for endpoint, view in list(app.view_functions.items()):
        for (per, methods), limits in _declared_limits(view).items():
            # limiter.limit returns the limited view; the route must serve that one.
            limit = limiter.limit(";".join(limits), key_func=key_funcs[per], methods=list(methods) if methods else None)
            view = app.view_functions[endpoint] = limit(view)
    return limiter
