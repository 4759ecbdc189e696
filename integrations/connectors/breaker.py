"""A circuit breaker per connector whose state lives in Redis, so every worker sees it open at once.

closed → (failure_threshold failures in a row) → open: calls fail fast for open_seconds → one caller
becomes the half-open probe (a Redis lock; the others keep failing fast) → its success closes the
breaker, its failure opens it again. Only the party's failures count: a refusal means it is up.

If Redis itself fails, the breaker lets calls through: a broken breaker must not take every cloud down.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis as redis_lib

from integrations.errors import UpstreamUnavailable

log = logging.getLogger(__name__)
# A probe that never reports back (its worker died) frees the lock after this: longer than any call may
# take (BaseConfig.deadline_seconds at most 25), so a slow probe is never joined by a second one.
PROBE_SECONDS = 30
FIELDS = ("state", "failures", "until")


class BreakerOpen(UpstreamUnavailable):
    code = "CIRCUIT_OPEN"

    def __init__(self, party: str, retry_after: int):
        super().__init__(party, f"circuit open, failing fast for {retry_after}s more")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Admission:
    probe: bool = False
    failures: int = 0


class Breaker:
    def __init__(self, redis: redis_lib.Redis, name: str, threshold: int, open_seconds: int, clock=time.time):
        self.redis, self.name, self.threshold, self.open_seconds, self.clock = (
            redis,
            name,
            threshold,
            open_seconds,
            clock,
        )
        self.key, self.probe_key = f"connector:{name}:breaker", f"connector:{name}:breaker:probe"

    def read(self, pipe) -> None:
        """Queue the read of the state on `pipe`; its result is what `admit` takes as `known`."""
        pipe.hmget(self.key, *FIELDS)

    def admit(self, known: list | None = None) -> Admission:
        """Whether this call may go out; raises BreakerOpen when it must fail fast. `known`: the state
        as read along with other things (`read`), else it is read here."""
        try:
            state, failures, until = known if known is not None else self.redis.hmget(self.key, *FIELDS)
            if state in (None, b"closed"):
                return Admission(failures=int(failures or 0))
            remaining = float(until or 0) - self.clock()
            if remaining > 0:
                raise BreakerOpen(self.name, math.ceil(remaining))
            if self.redis.set(self.probe_key, "1", nx=True, ex=PROBE_SECONDS):
                self.redis.hset(self.key, "state", "half_open")
                return Admission(probe=True)
            raise BreakerOpen(self.name, 1)  # another caller is probing; its answer decides
        except redis_lib.RedisError:
            log.warning("circuit breaker state unreadable; letting the call through", extra={"connector": self.name})
            return Admission()

    def succeeded(self, admission: Admission, pipe=None) -> None:
        if not (admission.probe or admission.failures):
            return  # the common case writes nothing
        target = pipe if pipe is not None else self.redis.pipeline()
        target.hset(self.key, mapping={"state": "closed", "failures": 0, "until": 0})
        target.delete(self.probe_key)
        if pipe is None:
            self._quietly(target.execute)

    def failed(self, admission: Admission) -> None:
        def record():
            if admission.probe:
                self._open()
                return
            if self.redis.hincrby(self.key, "failures", 1) >= self.threshold:
                self._open()

        self._quietly(record)

    def _open(self) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(self.key, mapping={"state": "open", "until": self.clock() + self.open_seconds})
        pipe.delete(self.probe_key)
        pipe.execute()
        log.warning("circuit opened", extra={"connector": self.name, "open_seconds": self.open_seconds})

    def state(self) -> dict:
        """For operators: closed, open or half_open, failures in a row, seconds until a probe may go."""
        try:
            state, failures, until = self.redis.hmget(self.key, *FIELDS)
        except redis_lib.RedisError:
            return {"state": "unknown", "failures": None, "retry_after": None}
        state = (state or b"closed").decode()
        remaining = max(math.ceil(float(until or 0) - self.clock()), 0) if state == "open" else 0
        return {"state": state, "failures": int(failures or 0), "retry_after": remaining}

    def _quietly(self, action) -> None:
        try:
            action()
        except redis_lib.RedisError:
            log.warning("circuit breaker state not written", extra={"connector": self.name})
