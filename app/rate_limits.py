"""Rate limits: one Flask-Limiter per app (its defaults are per instance), counters in Redis.

Views declare extra limits with `@rate_limit("5 per minute")`; they are applied when the app is built.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter

from app.request_context import client_address

# Probes and scrapes are never limited; a path check is the cheapest exemption Flask-Limiter offers.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def rate_limit(*limits: str):
    def mark(view):
        view.rate_limits = (*getattr(view, "rate_limits", ()), *limits)
        return view

    return mark


def init_rate_limits(app: Flask) -> Limiter:
    """Call after every route is registered."""
    limiter = Limiter(key_func=client_address, app=app)
    limiter.request_filter(lambda: request.path in EXEMPT_PATHS)
    for endpoint, view in list(app.view_functions.items()):
        limits = getattr(getattr(view, "view_class", view), "rate_limits", ())
        if limits:
            # limiter.limit returns the limited view; the route must serve that one.
            app.view_functions[endpoint] = limiter.limit(";".join(limits))(view)
    return limiter
