"""Per-request hooks: request id in and out, one JSON access line, request metrics."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from app.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS
from app.request_context import REQUEST_ID_HEADER, assign_request_id

access_log = logging.getLogger("app.access")
# Any other method becomes OTHER, so a client cannot mint new metric series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def init_observability(app: Flask) -> None:
    log_access = app.config["ACCESS_LOG"]

    @app.before_request
    def _start():
        g.started_at = time.perf_counter()
        assign_request_id()

    @app.after_request
    def _finish(response):
        request_id = g.get("request_id")
        if request_id is None:  # a failure before our first hook ran
            request_id = assign_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        duration = time.perf_counter() - g.get("started_at", time.perf_counter())
        # The rule, not the path: /departments/<code> stays one series, and 404s share one.
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        HTTP_REQUESTS.labels(method, route, response.status_code).inc()
        HTTP_LATENCY.labels(method, route).observe(duration)
        if log_access:
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 2),
                    "remote_addr": request.remote_addr,
                },
            )
        return response
