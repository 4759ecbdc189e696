"""Per-request hooks: request id in and out, one JSON access line, request metrics."""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from flask import Flask, g, request

from app.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from app.request_context import REQUEST_ID_HEADER, assign_request_id

access_log = logging.getLogger("app.access")
# Any other method becomes OTHER, so a client cannot mint new metric series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@lru_cache(maxsize=4096)
def _requests_counter(method: str, route: str, status: int):
    # labels() takes a lock and builds a key on every call; the series set is small and fixed.
    return HTTP_REQUESTS.labels(method, route, status)


@lru_cache(maxsize=1024)
def _latency_histogram(method: str, route: str):
    return HTTP_LATENCY.labels(method, route)


def init_observability(app: Flask) -> None:
    log_access = app.config["ACCESS_LOG"]

    @app.before_request
    def _start():
        g.started_at = time.perf_counter()
        assign_request_id()

    @app.after_request
    def _finish(response):
        # Resolve the context-local proxies once: this runs on every request, probes included.
        req, ctx = request._get_current_object(), g._get_current_object()
        request_id = ctx.get("request_id") or assign_request_id()  # None if we failed before _start
        response.headers[REQUEST_ID_HEADER] = request_id
        duration = time.perf_counter() - ctx.get("started_at", time.perf_counter())
        # The rule, not the path: /departments/<code> stays one series, and 404s share one.
        route = req.url_rule.rule if req.url_rule else "<unmatched>"
        method = req.method if req.method in KNOWN_METHODS else "OTHER"
        status = response.status_code
        _requests_counter(method, route, status).inc()
        _latency_histogram(method, route).observe(duration)
        if log_access:
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "path": req.path,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "remote_addr": req.remote_addr,
                },
            )
        return response
