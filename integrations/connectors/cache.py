"""Answers kept in Redis per operation and inputs, each operation with its own freshness.

A fresh answer is served without calling the party; past freshness an answer is kept for the operation's
stale window, to stand in (marked stale, with its age) while the party is down. Keys are keyed hashes of
the inputs and identity, so no ID or account number appears in a key; answers of personal operations are
sealed (encrypted) by the callable the app hands in.

In front of Redis, each worker may keep public answers (never sealed ones) for a few seconds
(`LocalAnswers`): the busiest inquiries, air quality or a bus line's arrivals, are asked many times a
second with the same inputs, and each copy kept saves a Redis round trip. Freshness is still judged by
when the party answered, so a copy never outlives the operation's freshness.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib

from integrations.connectors.base import Answer, Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cached:
    result: dict
    as_of: datetime
    stored_at: float

    def age(self, now: float) -> float:
        return max(now - self.stored_at, 0.0)


class LocalAnswers:
    """One worker's copies of public answers, each kept `seconds` after it was read or written.

    A copy's result is handed to every request that asks meanwhile: callers read it, never change it."""

    def __init__(self, seconds: float, max_entries: int = 2048, clock=time.monotonic):
        self.seconds, self.max_entries, self.clock = seconds, max_entries, clock
        self._kept: dict[str, tuple[float, Cached]] = {}

    def get(self, key: str) -> Cached | None:
        kept = self._kept.get(key)
        if kept is None or kept[0] <= self.clock():
            return None
        return kept[1]

    def put(self, key: str, cached: Cached) -> None:
        if self.seconds <= 0:
            return
        if len(self._kept) >= self.max_entries:
            self._kept = {}  # many distinct questions at once: the copies are not paying; start again
        self._kept[key] = (self.clock() + self.seconds, cached)


def _plain(text: str) -> str:
    return text


class ResponseCache:
    def __init__(
        self,
        redis: redis_lib.Redis,
        hasher: Callable[[bytes], str],  # keyed: an ID number's plain hash could be guessed back
        seal: Callable[[str], str] = _plain,
        unseal: Callable[[str], str] = _plain,
        clock=time.time,
        local: LocalAnswers | None = None,
    ):
        self.redis, self.hasher, self.seal, self.unseal, self.clock = redis, hasher, seal, unseal, clock
        self.local = local

    def key(self, connector: str, operation: str, inputs: dict, identity: Identity | None) -> str:
        who = identity.id_number if identity else None
        raw = json.dumps([inputs, who], sort_keys=True, ensure_ascii=False, default=str).encode()
        return f"connector:{connector}:cache:{operation}:{self.hasher(raw)}"

    def local_copy(self, key: str, sealed: bool) -> Cached | None:
        """This worker's copy of a public answer, if it has a recent one."""
        return self.local.get(key) if self.local is not None and not sealed else None

    def decode(self, key: str, raw: bytes | None, sealed: bool) -> Cached | None:
        """The answer as Redis kept it (read by the caller, perhaps with other things in one round trip)."""
        if raw is None:
            return None
        try:
            text = raw.decode()
            kept = json.loads(self.unseal(text) if sealed else text)
            cached = Cached(kept["r"], datetime.fromisoformat(kept["a"]), float(kept["t"]))
        except (ValueError, KeyError, TypeError, LookupError):
            return None  # written by an older release, or sealed with a retired key: as good as absent
        if self.local is not None and not sealed:
            self.local.put(key, cached)
        return cached

    def put(self, key: str, answer: Answer, ttl_seconds: int, sealed: bool, pipe=None) -> None:
        now = self.clock()
        text = json.dumps({"r": answer.result, "a": answer.as_of.isoformat(), "t": now}, ensure_ascii=False)
        if not sealed and self.local is not None:
            self.local.put(key, Cached(answer.result, answer.as_of, now))
        target = pipe if pipe is not None else self.redis
        try:
            target.set(key, self.seal(text) if sealed else text, ex=max(int(ttl_seconds), 1))
        except redis_lib.RedisError:
            log.warning("connector answer not cached")
