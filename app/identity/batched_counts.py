"""Route limits counted in the worker first and in Redis a moment later, for the busiest public routes.

A guest's cached inquiry costs less than a Redis round trip, so counting it in Redis at once would be most
of its price. A limit declared `batched` (and the default limit) is therefore counted like this:

- Each worker keeps, per counter, the total it last read from Redis (`known`) and the requests it has
  let through since (`pending`). A thread adds the pending ones to Redis every RATELIMIT_BATCH_SECONDS
  (INCRBY, one pipeline for all counters) and reads the new totals back.
- A request is let through without Redis only while `known + workers x (pending + 1)` stays within half
  the limit, `workers` being the number of workers counting this way (a registry in Redis, renewed at
  each batch): as if every worker had let as many through since. Past that, and for any counter the
  worker has no fresh registry for, the request is counted in Redis at once, with the worker's pending
  ones, and refused over the limit exactly as an unbatched limit would be.

So a caller is never refused wrongly, and can get past a limit only by requests other workers let through
and had not yet added: at most half the limit, within one batch interval, once per window (when workers
start all at once, a worker's first batch may find fewer registered than there are, for that batch). The limits
that guard secrets and money (logins, SMS codes, OAuth, real-name checks) are not batched and stay exact.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass

from flask import Flask

from app.extensions import redis

log = logging.getLogger(__name__)
WORKERS_KEY = "ratelimit:batching-workers"
WORKER_TTL_SECONDS = 10  # a worker silent this long no longer counts in others' share
REGISTRY_FRESH_SECONDS = 1.0  # a worker whose last batch is older counts exactly
MAX_COUNTERS = 200_000  # per worker; past it, new counters are counted exactly
# (key, amount, expiry seconds, window end), as app/identity/gate.py builds them.
Window = tuple[str, int, int, float]


@dataclass
class _Counter:
    known: int
    pending: int
    expiry: int
    window_end: float


class BatchedCounts:
    def __init__(self, app: Flask, seconds: float, clock=time.time):
        self._app = app
        self._seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}
        self._workers = 0
        self._workers_read_at = float("-inf")
        self._id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def admit(self, windows: list[Window]) -> bool:
        """True when the request is within every window's share and has been counted here; False when it
        must be counted in Redis now (`count_now`)."""
        now = self._clock()
        with self._lock:
            workers = self._workers if now - self._workers_read_at < REGISTRY_FRESH_SECONDS else 0
            counters = [self._counters.get(key) for key, *_ in windows]
            within = workers > 0 and all(
                2 * ((c.known if c else 0) + workers * ((c.pending if c else 0) + 1)) <= amount
                for c, (_, amount, _, _) in zip(counters, windows, strict=True)
            )
            if within and None in counters and len(self._counters) + len(windows) > MAX_COUNTERS:
                within = False
            if within:
                for c, (key, _, expiry, end) in zip(counters, windows, strict=True):
                    if c is None:
                        self._counters[key] = _Counter(0, 1, expiry, end)
                    else:
                        c.pending += 1
        self._start_or_wake()
        return within

    def count_now(self, windows: list[Window]) -> list[int] | None:
        """Count this request in Redis with the worker's pending ones: each window's total, or None when
        Redis is down (the request is let through, as the exact limits do then)."""
        with self._lock:
            taken = [self._take_pending(key) for key, *_ in windows]
        pipe = redis.pipeline(transaction=False)
        for (key, _, expiry, _), pending in zip(windows, taken, strict=True):
            pipe.incrby(key, pending + 1)
            pipe.expire(key, expiry + 1, nx=True)
        try:
            totals = pipe.execute()[0::2]
        except Exception:  # noqa: BLE001 - Redis down: let through uncounted, as the exact path does
            log.warning("Redis unavailable for the rate limit; request let through uncounted")
            with self._lock:
                for (key, *_), pending in zip(windows, taken, strict=True):
                    if key in self._counters:
                        self._counters[key].pending += pending  # for the next batch
            return None
        with self._lock:
            for (key, _, expiry, end), total in zip(windows, totals, strict=True):
                self._learn(key, total, expiry, end)
        return totals

    def flush(self) -> None:
        """Add every pending count to Redis, renew this worker in the registry and read the totals back."""
        now = self._clock()
        with self._lock:
            for key in [key for key, c in self._counters.items() if c.window_end <= now]:
                del self._counters[key]  # a window that has ended: its key has expired or soon will
            batch = [(key, c.pending, c.expiry) for key, c in self._counters.items() if c.pending]
        pipe = redis.pipeline(transaction=False)
        for key, pending, expiry in batch:
            pipe.incrby(key, pending)
            pipe.expire(key, expiry + 1, nx=True)
        pipe.zadd(WORKERS_KEY, {self._id: now})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - WORKER_TTL_SECONDS)
        pipe.expire(WORKERS_KEY, WORKER_TTL_SECONDS * 2)
        pipe.zcard(WORKERS_KEY)
        results = pipe.execute()
        with self._lock:
            for (key, pending, _), total in zip(batch, results[0 : 2 * len(batch) : 2], strict=True):
                c = self._counters.get(key)
                if c is not None:
                    # Those let through during the round trip stay pending for the next batch.
                    c.pending -= pending
                    c.known = max(c.known, total)
            self._workers, self._workers_read_at = max(1, results[-1]), now

    def _take_pending(self, key: str) -> int:
        c = self._counters.get(key)
        if c is None:
            return 0
        pending, c.pending = c.pending, 0
        return pending

    def _learn(self, key: str, total: int, expiry: int, end: float) -> None:
        c = self._counters.get(key)
        if c is not None:
            c.known = max(c.known, total)  # requests let through meanwhile stay pending
        elif len(self._counters) < MAX_COUNTERS:
            self._counters[key] = _Counter(total, 0, expiry, end)

    def _start_or_wake(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._batch_forever, name="rate-limit-batches", daemon=True)
                    self._thread.start()
        self._wake.set()

    def _batch_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._seconds)
            self._wake.clear()  # requests from here on wake the next batch
            try:
                with self._app.app_context():
                    self.flush()
            except Exception:  # Redis down: the counts stay pending; requests are counted exactly
                log.warning("could not add the batched rate-limit counts to Redis", exc_info=True)


def batched_counts(app: Flask) -> BatchedCounts | None:
    """This worker's counts (made after the fork: a thread does not survive one), None when batching is off."""
    seconds = app.config.get("RATELIMIT_BATCH_SECONDS", 0)
    if not seconds:
        return None
    held = app.extensions.get("batched_counts")
    if held is None or held[0] != os.getpid():
        held = app.extensions["batched_counts"] = (os.getpid(), BatchedCounts(_real(app), seconds))
    return held[1]


def _real(app: Flask) -> Flask:
    """The app behind `current_app`: the batching thread has no context to look the proxy up in."""
    return app._get_current_object() if hasattr(app, "_get_current_object") else app
