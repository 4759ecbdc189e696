"""Prometheus metrics. Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes them add up across workers."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_POOL_SIZE = Gauge("db_pool_size", "Database connections a pool keeps", multiprocess_mode="livesum")
DB_POOL_IN_USE = Gauge("db_pool_connections_in_use", "Database connections checked out", multiprocess_mode="livesum")


def watch_pool(engine) -> None:
    """Count checked-out connections through pool events (works across gunicorn workers)."""
    size = getattr(engine.pool, "size", None)
    if callable(size):
        DB_POOL_SIZE.inc(size())
    event.listen(engine, "checkout", lambda *a: DB_POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *a: DB_POOL_IN_USE.dec())


class OutboxCollector:
    """Backlog and dead letters, read from the database when Prometheus scrapes."""

    def __init__(self, count_by_status):
        self.count_by_status = count_by_status

    def collect(self):
        up = GaugeMetricFamily("outbox_metrics_up", "1 if the outbox counts could be read from the database")
        try:
            counts = self.count_by_status()
        except Exception:  # noqa: BLE001 - a database outage must not take every other metric down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        backlog = GaugeMetricFamily("outbox_backlog", "Outbox messages waiting for delivery")
        backlog.add_metric([], counts.get("pending", 0))
        dead = GaugeMetricFamily("outbox_dead_letters", "Outbox messages that gave up; see `flask outbox dead`")
        dead.add_metric([], counts.get("dead", 0))
        yield backlog
        yield dead


class _Passthrough:
    """Re-exports the process-wide registry, so the outbox collector joins only this scrape."""

    def collect(self):
        yield from REGISTRY.collect()


def render_metrics(count_outbox_by_status) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Passthrough())
    registry.register(OutboxCollector(count_outbox_by_status))
    return generate_latest(registry), CONTENT_TYPE_LATEST
