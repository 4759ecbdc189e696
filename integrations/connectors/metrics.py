"""Per-connector figures: calls, errors by kind, latency, in Redis so operators see every worker's calls,
and in Prometheus for dashboards.

Redis keeps five-minute buckets (a hash each: calls, one count per outcome, one per latency band) for a
quarter of an hour, and the last error; `summary()` adds them up for GET /api/v1/ops/connectors.
"""

from __future__ import annotations

import json
import logging
import time

import redis as redis_lib
from prometheus_client import Counter, Histogram

log = logging.getLogger(__name__)
BUCKET_SECONDS = 300
WINDOW_BUCKETS = 3
BANDS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
# rejected: the party said no to the question (it is up); refused: it said no to our credentials.
OUTCOMES = ("ok", "rejected", "refused", "unavailable", "timeout", "bad_response", "open")
FAILURES = ("refused", "unavailable", "timeout", "bad_response", "open")

CALLS = Histogram(
    "connector_call_seconds",
    "Time a connector call took, by outcome",
    ["connector", "operation", "outcome"],
    buckets=tuple(ms / 1000 for ms in BANDS_MS),
)
CACHE = Counter("connector_cache_total", "Connector answers by where they came from", ["connector", "result"])


def _bucket(now: float) -> int:
    return int(now // BUCKET_SECONDS)


def _band(ms: float) -> str:
    return next((str(top) for top in BANDS_MS if ms <= top), "inf")


def record(pipe, connector: str, operation: str, outcome: str, ms: float, error: str | None, now=None) -> None:
    """Queue the figures of one call on a pipeline (sent with the call's other writes, one round trip)."""
    now = now or time.time()
    CALLS.labels(connector, operation, outcome).observe(ms / 1000)
    key = f"connector:{connector}:stats:{_bucket(now)}"
    pipe.hincrby(key, "calls", 1)
    pipe.hincrby(key, outcome, 1)
    pipe.hincrby(key, f"ms:{_band(ms)}", 1)
    pipe.expire(key, BUCKET_SECONDS * (WINDOW_BUCKETS + 1))
    if error is not None:
        last = {"at": now, "operation": operation, "kind": outcome, "message": error[:300]}
        pipe.set(f"connector:{connector}:last_error", json.dumps(last, ensure_ascii=False), ex=7 * 86400)


def summary(redis: redis_lib.Redis, connector: str, now=None) -> dict:
    """Calls, errors by kind, error rate and p95 (upper edge of its latency band) over the last 15 minutes."""
    now = now or time.time()
    newest = _bucket(now)
    try:
        pipe = redis.pipeline()
        for bucket in range(newest - WINDOW_BUCKETS + 1, newest + 1):
            pipe.hgetall(f"connector:{connector}:stats:{bucket}")
        pipe.get(f"connector:{connector}:last_error")
        *buckets, last = pipe.execute()
    except redis_lib.RedisError:
        return {"window_seconds": BUCKET_SECONDS * WINDOW_BUCKETS, "calls": None, "unavailable": True}
    totals: dict[str, int] = {}
    for bucket in buckets:
        for field, count in bucket.items():
            totals[field.decode()] = totals.get(field.decode(), 0) + int(count)
    calls = totals.get("calls", 0)
    failures = sum(totals.get(kind, 0) for kind in FAILURES)
    return {
        "window_seconds": BUCKET_SECONDS * WINDOW_BUCKETS,
        "calls": calls,
        "outcomes": {kind: totals.get(kind, 0) for kind in OUTCOMES},
        "error_rate": round(failures / calls, 4) if calls else 0.0,
        "p95_ms": _p95(totals, calls),
        "last_error": json.loads(last) if last else None,
    }


def _p95(totals: dict, calls: int) -> int | None:
    if not calls:
        return None
    seen, wanted = 0, calls * 0.95
    for top in (*BANDS_MS, "inf"):
        seen += totals.get(f"ms:{top}", 0)
        if seen >= wanted:
            return None if top == "inf" else top
    return None
