"""The guarded call to a connector operation: cache, circuit breaker, the call, and its figures.

A fresh cached answer is served at once (one Redis read). Otherwise the breaker decides whether the call
may go out; the party's failure (unavailable, timeout, an answer we cannot read, or the breaker failing
fast) is answered from the cache, marked stale with its age, when the caller allows it and the
operation's stale window still holds one; otherwise it is raised for the caller to map.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib

from integrations.connectors import metrics
from integrations.connectors.base import Connector, Identity
from integrations.connectors.breaker import Breaker, BreakerOpen
from integrations.connectors.cache import Cached, ResponseCache
from integrations.errors import (
    IntegrationError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamTimeout,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    result: dict
    as_of: datetime
    stale: bool = False
    age_seconds: int | None = None  # how old a cached answer is; None for a fresh call
    # A fresh answer that is nobody's own (not sealed): the clock time it stays fresh until, so that the
    # caller may hand it to others asking the same meanwhile. None for a personal, stale or uncached one.
    public_until: float | None = None


def _kind(error: IntegrationError) -> str:
    if isinstance(error, BreakerOpen):
        return "open"
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamBadResponse):
        return "bad_response"
    if isinstance(error, UpstreamRejected):
        return "rejected" if error.reason else "refused"
    return "unavailable"


class Gateway:
    def __init__(self, redis: redis_lib.Redis, cache: ResponseCache, clock=time.time):
        self.redis, self.cache, self.clock = redis, cache, clock

    def breaker(self, connector: Connector) -> Breaker:
        settings = connector.settings
        return self.breaker_for(connector.name, settings["failure_threshold"], settings["open_seconds"])

    def breaker_for(self, name: str, threshold: int, open_seconds: int) -> Breaker:
        return Breaker(self.redis, name, threshold, open_seconds, self.clock)

    def call(
        self,
        connector: Connector,
        operation: str,
        inputs: dict,
        identity: Identity | None = None,
        *,
        allow_stale: bool = False,
        use_cache: bool = True,
    ) -> Outcome:
        """`use_cache=False` for answers that must be live (verifying an account a citizen binds).
        Inputs the operation refuses raise marshmallow's ValidationError before anything is sent."""
        op = connector.operations[operation]
        sealed = op.identity or op.account is not None  # one's own records, or a household's bills
        loaded = connector.load_inputs(operation, inputs)  # before the breaker: bad input is not a probe
        key = self.cache.key(connector.name, operation, inputs, identity) if use_cache and op.idempotent else None
        cached = self.cache.local_copy(key, sealed) if key else None
        breaker, state = self.breaker(connector), None
        if key and not self._fresh(op, cached):
            kept, state = self._kept_and_breaker(key, sealed, breaker)
            cached = kept or cached  # Redis unreadable or emptied: this worker's older copy may still stand in
        if self._fresh(op, cached):
            metrics.CACHE.labels(connector.name, "hit").inc()
            public_until = None if sealed else cached.stored_at + op.fresh_seconds
            return Outcome(cached.result, cached.as_of, public_until=public_until)
        started = time.perf_counter()
        try:
            admission = breaker.admit(state)
        except BreakerOpen as error:
            self._record(connector.name, operation, error, started)
            return self._instead(connector.name, op, cached, allow_stale, error)
        try:
            answer = connector.perform(operation, loaded, identity)
        except UpstreamRejected as error:
            if error.reason is None:  # our credentials or signature refused: the service is down for us
                return self._failed(connector, op, operation, error, admission, started, cached, allow_stale)
            # The party answered: it is up, whatever it thought of the question.
            pipe = self.redis.pipeline()
            breaker.succeeded(admission, pipe)
            self._record(connector.name, operation, error, started, pipe)
            raise
        except IntegrationError as error:
            return self._failed(connector, op, operation, error, admission, started, cached, allow_stale)
        except Exception as error:
            log.exception("connector adapter failed", extra={"connector": connector.name, "operation": operation})
            failure = UpstreamBadResponse(connector.name, f"{operation}: the adapter failed ({type(error).__name__})")
            return self._failed(connector, op, operation, failure, admission, started, cached, allow_stale)
        pipe = self.redis.pipeline(transaction=False)
        if key:
            self.cache.put(key, answer, op.fresh_seconds + op.stale_seconds, sealed, pipe)
        breaker.succeeded(admission, pipe)
        self._record(connector.name, operation, None, started, pipe)
        metrics.CACHE.labels(connector.name, "miss").inc()
        public_until = self.clock() + op.fresh_seconds if key and not sealed else None
        return Outcome(answer.result, answer.as_of, public_until=public_until)

    def _fresh(self, op, cached: Cached | None) -> bool:
        return cached is not None and cached.age(self.clock()) < op.fresh_seconds

    def _kept_and_breaker(self, key: str, sealed: bool, breaker: Breaker) -> tuple[Cached | None, list | None]:
        """The kept answer and the breaker's state in one round trip: a miss needs both."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(key)
        breaker.read(pipe)
        try:
            raw, state = pipe.execute()
        except redis_lib.RedisError:
            log.warning("connector cache unreadable; calling the party")
            return None, None
        return self.cache.decode(key, raw, sealed), state

    def _failed(self, connector, op, operation, error, admission, started, cached, allow_stale) -> Outcome:
        self.breaker(connector).failed(admission)
        self._record(connector.name, operation, error, started)
        return self._instead(connector.name, op, cached, allow_stale, error)

    def _instead(self, name: str, op, cached: Cached | None, allow_stale: bool, error: IntegrationError) -> Outcome:
        """The stale answer that may stand in for a failed call, or the failure itself."""
        if allow_stale and op.stale_seconds and cached is not None:
            age = cached.age(self.clock())
            if age <= op.fresh_seconds + op.stale_seconds:
                metrics.CACHE.labels(name, "stale").inc()
                return Outcome(cached.result, cached.as_of, stale=True, age_seconds=int(age))
        raise error

    def _record(self, name: str, operation: str, error: IntegrationError | None, started: float, pipe=None):
        ms = (time.perf_counter() - started) * 1000
        outcome = "ok" if error is None else _kind(error)
        # The error's own text names the party and the failure, never inputs (integrations/errors.py).
        # A refusal of the question is the question's fault; of our credentials or signature, the operators'.
        failure = None if error is None or outcome == "rejected" else str(error)
        target = pipe if pipe is not None else self.redis.pipeline(transaction=False)
        metrics.record(target, name, operation, outcome, ms, failure, self.clock())
        try:
            target.execute()
        except redis_lib.RedisError:
            log.warning("connector figures not written", extra={"connector": name})
