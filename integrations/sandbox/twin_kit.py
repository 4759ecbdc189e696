"""What the clouds' twins keep alike: the nonces they have seen, the age of a request's timestamp, the tokens
handed out by the token-style twins, and when a department's daily batch last ran.

Only memory and clock live here. Each twin still checks signatures with its own code, its own string to sign
and header names: a twin sharing the client's signer (integrations/connectors/signing.py) would agree with its
bugs. Each twin also keeps its own error codes, so these answer plain facts, never a refusal.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Literal

BEIJING = timezone(timedelta(hours=8))
MAX_AGE_SECONDS = 300  # how far a request's timestamp may be from the twin's clock, either way
NONCE_SECONDS = 600  # longer than MAX_AGE_SECONDS: a replay is refused for as long as its timestamp passes
TOKEN_SECONDS = 7200
EXPIRED_KEPT_SECONDS = 3600  # an expired token is still told apart from an unknown one this long


def last_daily_at(hour: int, minute: int = 0) -> datetime:
    """The latest time a daily batch at hour:minute (Beijing) has run: today's, or yesterday's before then."""
    now = datetime.now(BEIJING)
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def timestamp_problem(stamp, *, millis: bool = False) -> Literal["malformed", "stale"] | None:
    """None when `stamp` (epoch seconds, or milliseconds) is within MAX_AGE_SECONDS of now."""
    try:
        seconds = int(stamp) / 1000 if millis else int(stamp)
    except (TypeError, ValueError):
        return "malformed"
    return "stale" if abs(time.time() - seconds) > MAX_AGE_SECONDS else None


class NonceMemory:
    """The nonces seen in the last NONCE_SECONDS, thread-safe (the sandbox serves from several threads)."""

    def __init__(self):
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen_before(self, nonce: str) -> bool:
        """True for a nonce seen lately, or none at all; otherwise False, and the nonce is remembered."""
        now = time.monotonic()
        with self._lock:
            for old in [n for n, until in self._until.items() if until < now]:
                del self._until[old]
            if not nonce or nonce in self._until:
                return True
            self._until[nonce] = now + NONCE_SECONDS
            return False

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


class TokenBook:
    """The access tokens a twin has handed out, each with its expiry, and how many it has handed out."""

    def __init__(self, make_token: Callable[[], str] = lambda: secrets.token_hex(16), lifetime: int = TOKEN_SECONDS):
        self.make_token, self.lifetime = make_token, lifetime
        self._until: dict[str, float] = {}
        self._issued = 0
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, int]:
        """A new token and its lifetime in seconds."""
        token, now = self.make_token(), time.monotonic()
        with self._lock:
            for old in [t for t, until in self._until.items() if until < now - EXPIRED_KEPT_SECONDS]:
                del self._until[old]
            self._until[token] = now + self.lifetime
            self._issued += 1
        return token, self.lifetime

    def state(self, token: str) -> Literal["valid", "expired", "unknown"]:
        with self._lock:
            until = self._until.get(token)
        if until is None:
            return "unknown"
        return "valid" if time.monotonic() < until else "expired"

    def valid(self, token: str) -> bool:
        return self.state(token) == "valid"

    def issued(self) -> int:
        with self._lock:
            return self._issued

    def expire_all(self) -> None:
        """For tests: every token handed out so far runs out now, as if its lifetime had passed."""
        now = time.monotonic()
        with self._lock:
            for token in self._until:
                self._until[token] = now

    def revoke_all(self) -> None:
        """For tests: forget every token, as a platform does when it restarts (they become unknown)."""
        with self._lock:
            self._until.clear()

    def clear(self) -> None:
        """Forget every token and the count (the twin's reset)."""
        with self._lock:
            self._until.clear()
            self._issued = 0
