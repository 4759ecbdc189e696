"""Rate limits, counted in Redis (batched ones in each worker first: app/identity/batched_counts.py).

Who is counted: a caller with a validly signed token by who they are (each citizen, department
client and console account apart, however many share a carrier's NAT address), anyone else by IP
address. Views declare their own limits with `@rate_limit("5 per minute")` (per caller) or
`@rate_limit("20 per hour", per="ip")`, in place of the default; app/identity/gate.py counts them.
"""

from __future__ import annotations

import ipaddress

from flask import Flask
from flask_limiter import Limiter
from limits import parse_many

from app.request_context import client_address

# Probes and scrapes are never limited.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def rate_limit(*limits: str, per: str = "caller", batched: bool = False):
    """`batched`: counted in the worker first and in Redis a moment later, for busy routes whose limit
    guards against load, not against guessing (app/identity/batched_counts.py); never for logins, codes,
    money or real-name checks."""
    if per not in {"caller", "ip"}:
        raise ValueError(f"per must be 'caller' or 'ip', not {per!r}")

    def mark(view):
        view.rate_limits = (*getattr(view, "rate_limits", ()), *((limit, per, batched) for limit in limits))
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


def _declared_limits(view) -> dict[tuple[str, tuple[str, ...] | None, bool], list[str]]:
    """Limits on a view function, or on a MethodView class (every method) and its methods (that method
    only), grouped by (per, methods, batched)."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        declared = [(item, None) for item in getattr(view, "rate_limits", ())]
    else:
        declared = [(item, None) for item in getattr(view_class, "rate_limits", ())]
        for method in getattr(view_class, "methods", None) or ():
            own = getattr(getattr(view_class, method.lower(), None), "rate_limits", ())
            declared += [(item, (method.upper(),)) for item in own]
    groups: dict[tuple[str, tuple[str, ...] | None, bool], list[str]] = {}
    for item, methods in declared:
        # A plain string (a class attribute) counts per caller, exactly.
        limit, per, batched = (item, "caller", False) if isinstance(item, str) else item
        bucket = groups.setdefault((per, methods, batched), [])
        if limit not in bucket:
            bucket.append(limit)
    return groups


def init_rate_limits(app: Flask) -> Limiter:
    """Call after every route is registered. The gate counts every route's limits (app/identity/gate.py);
    Flask-Limiter is kept for limits counted inside a view (`limiter.shared_limit` as a context manager),
    without its per-request hooks, which would evaluate every route's limits a second time."""
    hook_lists = (
        app.before_request_funcs.setdefault(None, []),
        app.after_request_funcs.setdefault(None, []),
        app.teardown_request_funcs.setdefault(None, []),
    )
    known = [len(hooks) for hooks in hook_lists]
    limiter = Limiter(key_func=caller_key, app=app, default_limits_exempt_when=lambda: True)
    for hooks, count in zip(hook_lists, known, strict=True):
        del hooks[count:]
    from app.identity.gate import count_route_limits, init_gate

    declared = {}
    for endpoint, view in app.view_functions.items():
        limits = [
            (item, per, frozenset(methods) if methods else None, batched)
            for (per, methods, batched), texts in _declared_limits(view).items()
            for item in parse_many(";".join(texts))
        ]
        if limits:
            declared[endpoint] = limits
    init_gate(app, declared)
    app.before_request(count_route_limits)
    return limiter
