"""Answers kept in Redis per operation and inputs, each operation with its own freshness.

A fresh answer is served without calling the party; past freshness an answer is kept for the operation's
stale window, to stand in (marked stale, with its age) while the party is down. Keys are keyed hashes of
the inputs and identity, so no ID or account number appears in a key; answers of personal operations are
sealed (encrypted) by the callable the app hands in.
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
    ):
        self.redis, self.hasher, self.seal, self.unseal, self.clock = redis, hasher, seal, unseal, clock

    def key(self, connector: str, operation: str, inputs: dict, identity: Identity | None) -> str:
        who = identity.id_number if identity else None
        raw = json.dumps([inputs, who], sort_keys=True, ensure_ascii=False, default=str).encode()
        return f"connector:{connector}:cache:{operation}:{self.hasher(raw)}"

    def get(self, key: str, sealed: bool) -> Cached | None:
        try:
            raw = self.redis.get(key)
        except redis_lib.RedisError:
            log.warning("connector cache unreadable; calling the party")
            return None
        if raw is None:
            return None
        try:
            text = raw.decode()
            kept = json.loads(self.unseal(text) if sealed else text)
            return Cached(kept["r"], datetime.fromisoformat(kept["a"]), float(kept["t"]))
        except (ValueError, KeyError, TypeError, LookupError):
            return None  # written by an older release, or sealed with a retired key: as good as absent

    def put(self, key: str, answer: Answer, ttl_seconds: int, sealed: bool, pipe=None) -> None:
        text = json.dumps({"r": answer.result, "a": answer.as_of.isoformat(), "t": self.clock()}, ensure_ascii=False)
        target = pipe if pipe is not None else self.redis
        try:
            target.set(key, self.seal(text) if sealed else text, ex=max(int(ttl_seconds), 1))
        except redis_lib.RedisError:
            log.warning("connector answer not cached")
