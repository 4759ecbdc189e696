"""How often each service is used: "hot services" for the mini-program's front page, and the lifetime
count kept on the service row.

A run is counted in Redis, never as an UPDATE of the service row: every citizen running the most popular
service at once would otherwise queue on one row lock. A person counts once per service and day (a
HyperLogLog per service and day says whether they are new); a new person then adds to two counters:
- a sorted set per city day, so "hot" means used in the last HOT_DAYS days, not popular years ago;
- a hash of counts not yet written to PostgreSQL, which the `catalog.flush_uses` beat job adds to
  services.uses (the catalog's order and the search's tie-break) and then forgets.
"""

from __future__ import annotations

import atexit
import logging
import os
import secrets
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import ClassVar

import sqlalchemy as sa
from flask import Flask, current_app
from redis.exceptions import ResponseError

from app.catalog.models import Service
from app.catalog.reads import invalidate, live, serves
from app.clock import local, utcnow
from app.db import unit_of_work
from app.extensions import redis

log = logging.getLogger(__name__)
HOT_DAYS = 7
DAY_KEY, SEEN_KEY = "catalog:uses:{day}", "catalog:seen:{day}:{code}"
PENDING_KEY, FLUSHING_KEY = "catalog:uses:pending", "catalog:uses:flushing"
FLUSH_LOCK_KEY, FLUSH_LOCK_SECONDS = "catalog:uses:flush-lock", 300
MAX_PENDING_RUNS = 50_000


def _days(count: int) -> list[str]:
    """The last `count` city days, today first, as 2026-11-22."""
    today = local(utcnow()).date()
    return [(today - timedelta(days=n)).isoformat() for n in range(count)]


def record_use(code: str, who: str) -> None:
    """Count one run by `who` (citizen:<id>, or ip:<address> for a guest): at most once per person per
    day, so a script rerunning one service cannot carry it to the front page. Best effort: a citizen's
    answer never fails because the counter could not count.

    Runs are gathered per worker and counted once every USE_COUNT_BATCH_SECONDS, two round trips for
    all of them instead of two per run: the cached inquiry is the busiest route, and a count of
    popularity may be a second late. A worker that dies loses at most that second's runs."""
    run = (_days(1)[0], code, who)
    seconds = current_app.config.get("USE_COUNT_BATCH_SECONDS", 0)
    if not seconds:
        _count_safely({run})
        return
    with _Batch.lock:
        if len(_Batch.runs) < MAX_PENDING_RUNS:  # a counter thread that fell behind: forget runs, not memory
            _Batch.runs.add(run)
    if _Batch.pid != os.getpid():
        _start_counter(current_app._get_current_object(), seconds)


class _Batch:
    """This worker's runs not yet counted: (city day, service code, who)."""

    lock = threading.Lock()
    runs: ClassVar[set[tuple[str, str, str]]] = set()
    pid = 0  # the process whose counter thread runs (a forked child starts its own)


def _start_counter(app: Flask, seconds: float) -> None:
    with _Batch.lock:
        if _Batch.pid == os.getpid():
            return
        _Batch.pid = os.getpid()

    def count_every():
        while True:
            time.sleep(seconds)
            try:
                count_pending(app)
            except Exception:  # the thread must outlive any one batch
                log.exception("counting uses of services failed")

    threading.Thread(target=count_every, name="use-counter", daemon=True).start()
    atexit.register(count_pending, app)


def _forget_in_child() -> None:
    """A forked child starts with no runs, a free lock and no counter thread (it starts its own)."""
    _Batch.lock, _Batch.runs, _Batch.pid = threading.Lock(), set(), 0


os.register_at_fork(after_in_child=_forget_in_child)


def count_pending(app: Flask) -> None:
    """Count the runs this worker has gathered (the counter thread's tick, and at exit)."""
    with _Batch.lock:
        runs, _Batch.runs = _Batch.runs, set()
    if runs:
        with app.app_context():
            _count_safely(runs)


def _count_safely(runs: set[tuple[str, str, str]]) -> None:
    try:
        _count(sorted(runs))
    except Exception:  # noqa: BLE001
        log.warning("could not count %d uses of services", len(runs))


def _count(runs: list[tuple[str, str, str]]) -> None:
    pipe = redis.pipeline(transaction=False)
    for day, code, who in runs:
        seen = SEEN_KEY.format(day=day, code=code)
        pipe.pfadd(seen, who)  # a HyperLogLog: 12 KB at most per service and day, however many people
        pipe.expire(seen, timedelta(days=2))
    new_people = Counter((day, code) for (day, code, _), new in zip(runs, pipe.execute()[0::2], strict=True) if new)
    if not new_people:
        return
    pipe = redis.pipeline(transaction=False)
    for (day, code), count in new_people.items():
        pipe.zincrby(DAY_KEY.format(day=day), count, code)
        pipe.expire(DAY_KEY.format(day=day), timedelta(days=HOT_DAYS + 1))
        pipe.hincrby(PENDING_KEY, code, count)
    pipe.execute()


def hot(limit: int, district: str | None = None, audience: str | None = None) -> list[dict]:
    """The live services used most in the last HOT_DAYS days, most used first; those never used are left out."""
    counts: dict[str, float] = {}
    try:
        pipe = redis.pipeline(transaction=False)
        for day in _days(HOT_DAYS):
            pipe.zrange(DAY_KEY.format(day=day), 0, -1, withscores=True)
        for ranking in pipe.execute():
            for code, score in ranking:
                code = code.decode() if isinstance(code, bytes) else code
                counts[code] = counts.get(code, 0) + score
    except Exception:  # noqa: BLE001 - without Redis there is no recent use to rank by: the lifetime count
        log.warning("hot services: Redis unreachable, ranking by lifetime uses")
    services = [
        s
        for s in live().services
        if serves(s, district, audience) and (counts.get(s["code"]) or (not counts and s["uses"]))
    ]
    services.sort(key=lambda s: (-counts.get(s["code"], 0), -s["uses"], s["code"]))
    return [s | {"recent_uses": int(counts.get(s["code"], 0))} for s in services[:limit]]


def flush_uses() -> int:
    """Add the counts Redis holds to services.uses; returns how many services changed.

    The pending hash is renamed first, so runs counted meanwhile go to a fresh hash. If the database
    write fails, the renamed hash stays and the next flush takes it first: counts are late, never lost.
    One flush at a time (a second would add the renamed hash again). Should Redis fail between the
    commit and forgetting the renamed hash, those counts are added once more: a popularity count
    tolerates that; nothing else reads it.
    """
    token = secrets.token_hex(8)
    if not redis.set(FLUSH_LOCK_KEY, token, nx=True, ex=FLUSH_LOCK_SECONDS):
        return 0
    try:
        return _flush()
    finally:
        if redis.get(FLUSH_LOCK_KEY) in (token, token.encode()):  # not a later flusher's lock
            redis.delete(FLUSH_LOCK_KEY)


def _flush() -> int:
    if not redis.exists(FLUSHING_KEY):
        try:
            redis.rename(PENDING_KEY, FLUSHING_KEY)
        except ResponseError as error:
            if "no such key" in str(error).lower():  # nothing was used since the last flush
                return 0
            raise
    counts = {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in redis.hgetall(FLUSHING_KEY).items()}
    with unit_of_work() as session:
        for code, count in sorted(counts.items()):  # one order, so two flushes cannot deadlock
            session.execute(sa.update(Service).where(Service.code == code).values(uses=Service.uses + count))
        if counts:
            invalidate()  # the catalog's order follows uses: the next read sees the new order
    redis.delete(FLUSHING_KEY)
    return len(counts)
