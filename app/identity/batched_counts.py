"""Route limits counted in the worker first and in Redis a moment later, for the busiest public routes.

A guest's cached inquiry costs less than a Redis round trip, so counting it in Redis at once would be most
of its price. A limit declared `batched` (and the default limit) is therefore counted like this:

- Each worker keeps, per counter, the total it last read from Redis (`known`) and the requests it has
  let through since (`pending`). A thread adds the pending ones to Redis every RATELIMIT_BATCH_SECONDS
  (INCRBY, one pipeline for all counters) and reads the new totals back.
- A request is let through without Redis only while `known + workers x (pending + 1)` stays within half
  the limit, `workers` being the number of workers counting this way (a registry in Redis, renewed at
  each batch, which a worker runs while it has traffic, and scored by Redis's clock): as if every worker
  had let as many through since. Past that, and for any counter the
  worker has no fresh registry for, the request is counted in Redis at once, with the worker's pending
  ones, and refused over the limit exactly as an unbatched limit would be.

So a caller is never refused wrongly, and can get past a limit only by requests other workers let through
and had not yet added: at most half the limit, within one batch interval, once per window (when workers
start all at once, a worker's first batch may find fewer registered than there are, for that batch). The limits
that guard secrets and money (logins, SMS codes, OAuth, real-name checks) are not batched and stay exact.
"""

from __future__ import annotations

import atexit
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
    known: int  # the total Redis gave back last
    pending: int  # let through here, not yet sent
    expiry: int
    window_end: float
    sending: int = 0  # sent, the total not yet back: still this worker's, for its share

    def take(self) -> int:
        taken, self.pending = self.pending, 0
        self.sending += taken
        return taken

    def sent(self, taken: int, total: int | None) -> None:
        """The Redis total after `taken` were added, or None if they could not be: pending again."""
        self.sending -= taken
        if total is None:
            self.pending += taken
        else:
            self.known = max(self.known, total)


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
        self._redis_clock_ahead = 0.0  # the registry is scored by Redis's clock: hosts' clocks may differ
        self._warned_at = float("-inf")
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
                2 * ((c.known if c else 0) + workers * ((c.pending + c.sending if c else 0) + 1)) <= amount
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
            counters = [self._counters.get(key) for key, *_ in windows]
            taken = [c.take() if c is not None else 0 for c in counters]
        pipe = redis.pipeline(transaction=False)
        for (key, _, expiry, _), pending in zip(windows, taken, strict=True):
            pipe.incrby(key, pending + 1)
            pipe.expire(key, expiry + 1, nx=True)
        try:
            totals = pipe.execute()[0::2]
        except Exception:  # noqa: BLE001 - Redis down: let through uncounted, as the exact path does
            log.warning("Redis unavailable for the rate limit; request let through uncounted")
            totals = None
        with self._lock:
            for index, ((key, _, expiry, end), c) in enumerate(zip(windows, counters, strict=True)):
                total = totals[index] if totals is not None else None
                if c is not None:
                    c.sent(taken[index], total)
                    continue
                # Another thread may have made this counter meanwhile, with requests pending on it.
                made = self._counters.get(key)
                if made is not None and total is not None:
                    made.known = max(made.known, total)
                elif made is None and total is not None and len(self._counters) < MAX_COUNTERS:
                    self._counters[key] = _Counter(total, 0, expiry, end)
        return totals

    def flush(self) -> None:
        """Add every pending count to Redis, renew this worker in the registry and read the totals back."""
        now = self._clock()
        with self._lock:
            for key in [key for key, c in self._counters.items() if c.window_end <= now and not c.sending]:
                del self._counters[key]  # a window that has ended: its key has expired or soon will
            batch = [(c, c.take(), c.expiry, key) for key, c in self._counters.items() if c.pending]
        pipe = redis.pipeline(transaction=False)
        for _, taken, expiry, key in batch:
            pipe.incrby(key, taken)
            pipe.expire(key, expiry + 1, nx=True)
        redis_now = now + self._redis_clock_ahead
        pipe.zadd(WORKERS_KEY, {self._id: redis_now})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", redis_now - WORKER_TTL_SECONDS)
        pipe.expire(WORKERS_KEY, WORKER_TTL_SECONDS * 2)
        pipe.zcard(WORKERS_KEY)
        pipe.time()
        try:
            results = pipe.execute()
        except Exception:
            with self._lock:
                for c, taken, _, _ in batch:
                    c.sent(taken, None)  # for the next batch; meanwhile requests are counted exactly
            raise
        seconds, micros = results[-1]
        with self._lock:
            for (c, taken, _, _), total in zip(batch, results[0 : 2 * len(batch) : 2], strict=True):
                c.sent(taken, total)
            self._workers, self._workers_read_at = max(1, results[-2]), now
            self._redis_clock_ahead = seconds + micros / 1e6 - self._clock()

    def _start_or_wake(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._batch_forever, name="rate-limit-batches", daemon=True)
                    self._thread.start()
                    atexit.register(self._last_batch)
        self._wake.set()

    def _last_batch(self) -> None:
        """At a worker's exit (gunicorn's graceful restart runs atexit): the counts still pending."""
        try:
            with self._app.app_context():
                self.flush()
        except Exception:  # noqa: BLE001 - Redis down at exit: those counts are lost, as a killed worker's are
            log.warning("batched rate-limit counts lost at exit")

    def _batch_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._seconds)
            self._wake.clear()  # requests from here on wake the next batch
            try:
                with self._app.app_context():
                    self.flush()
            except Exception:  # Redis down: the counts stay pending; requests are counted exactly
                if time.monotonic() - self._warned_at >= 60:  # once a minute, not ten times a second
                    self._warned_at = time.monotonic()
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
