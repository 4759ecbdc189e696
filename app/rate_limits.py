"""Rate limits: one Flask-Limiter per app (its defaults are per instance), counters in Redis.

Views declare extra limits with `@rate_limit("5 per minute")`; they are applied when the app is built.
"""

from __future__ import annotations

import functools

from flask import Flask, request
from flask_limiter import Limiter

from app.request_context import client_address

# Probes and scrapes are never limited, and skip Flask-Limiter's hooks altogether (tens of µs each).
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def rate_limit(*limits: str):
    def mark(view):
        view.rate_limits = (*getattr(view, "rate_limits", ()), *limits)
        return view

    return mark


def _skip_for_probes(hook, passthrough: bool):
    @functools.wraps(hook)
    def guarded(*args):
        if request.path in EXEMPT_PATHS:
            return args[0] if passthrough else None
        return hook(*args)

    return guarded


def _declared_limits(view) -> tuple[str, ...]:
    """Limits on a view function, or on a MethodView class and its methods (one endpoint shares them)."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return tuple(getattr(view, "rate_limits", ()))
    limits = list(getattr(view_class, "rate_limits", ()))
    for method in getattr(view_class, "methods", None) or ():
        limits += getattr(getattr(view_class, method.lower(), None), "rate_limits", ())
    return tuple(dict.fromkeys(limits))


def init_rate_limits(app: Flask) -> Limiter:
    """Call after every route is registered."""
    hook_lists = {
        "before": app.before_request_funcs.setdefault(None, []),
        "after": app.after_request_funcs.setdefault(None, []),
        "teardown": app.teardown_request_funcs.setdefault(None, []),
    }
    known = {name: len(hooks) for name, hooks in hook_lists.items()}
    limiter = Limiter(key_func=client_address, app=app)
    for name, hooks in hook_lists.items():
        # Only after_request hooks hand the response on; the others return nothing.
        hooks[known[name] :] = [_skip_for_probes(h, passthrough=name == "after") for h in hooks[known[name] :]]
    for endpoint, view in list(app.view_functions.items()):
        limits = _declared_limits(view)
        if limits:
            # limiter.limit returns the limited view; the route must serve that one.
            app.view_functions[endpoint] = limiter.limit(";".join(limits))(view)
    return limiter
