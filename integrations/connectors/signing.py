"""The three ways the city's department systems want our requests signed.

- HmacHeaders: an HMAC-SHA256 over method, path, sorted query, timestamp, nonce and the body's digest,
  in headers (the style of most API gateways);
- AppKeyToken: an access token fetched with an app key and secret, kept until it expires, sent in a header;
- SignedQuery: appid, timestamp, nonce and an upper-case HMAC-SHA256 hex `sign` over the sorted query string.

Each twin checks its style with code of its own: a twin sharing this code would agree with its bugs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Outgoing:
    """A request about to be sent; a signer adds headers or query parameters."""

    method: str
    path: str  # the URL's path as the party sees it
    params: dict = field(default_factory=dict)
    body: bytes = b""
    headers: dict = field(default_factory=dict)


def canonical_query(params: dict) -> str:
    return "&".join(f"{key}={params[key]}" for key in sorted(params))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Signer(Protocol):
    def sign(self, outgoing: Outgoing) -> None: ...

    def refused(self, status: int, body: bytes) -> bool:
        """True when the party refused our credentials in a way a fresh token may cure."""
        ...


class HmacHeaders:
    def __init__(self, key_id: str, secret: str, prefix: str = "X-Ca"):
        self.key_id, self.secret, self.prefix = key_id, secret, prefix

    def string_to_sign(self, outgoing: Outgoing, timestamp: str, nonce: str) -> str:
        parts = (outgoing.method.upper(), outgoing.path, canonical_query(outgoing.params), timestamp, nonce)
        return "\n".join((*parts, body_digest(outgoing.body)))

    def sign(self, outgoing: Outgoing) -> None:
        timestamp, nonce = str(int(time.time() * 1000)), uuid.uuid4().hex
        mac = hmac.new(self.secret.encode(), self.string_to_sign(outgoing, timestamp, nonce).encode(), hashlib.sha256)
        outgoing.headers |= {
            f"{self.prefix}-Key": self.key_id,
            f"{self.prefix}-Timestamp": timestamp,
            f"{self.prefix}-Nonce": nonce,
            f"{self.prefix}-Signature": base64.b64encode(mac.digest()).decode(),
        }

    def refused(self, status: int, body: bytes) -> bool:
        return False


class SignedQuery:
    def __init__(self, app_id: str, secret: str, app_id_param: str = "appid"):
        self.app_id, self.secret, self.app_id_param = app_id, secret, app_id_param

    def sign(self, outgoing: Outgoing) -> None:
        params = {
            **outgoing.params,
            self.app_id_param: self.app_id,
            "timestamp": str(int(time.time())),
            "nonce": uuid.uuid4().hex[:16],
        }
        if outgoing.body:
            params["content_sha256"] = body_digest(outgoing.body)
        mac = hmac.new(self.secret.encode(), canonical_query(params).encode(), hashlib.sha256)
        outgoing.params = params | {"sign": mac.hexdigest().upper()}

    def refused(self, status: int, body: bytes) -> bool:
        return False


class TokenStore(Protocol):
    """Where fetched tokens are kept, so every worker shares one (Redis in the app; a dict in tests)."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, token: str, ttl_seconds: int) -> None: ...

    def drop(self, key: str) -> None: ...


class MemoryTokens:
    def __init__(self):
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            token, until = self._tokens.get(key, (None, 0.0))
            return token if until > time.monotonic() else None

    def put(self, key, token, ttl_seconds):
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + ttl_seconds)

    def drop(self, key):
        with self._lock:
            self._tokens.pop(key, None)


class AppKeyToken:
    """`fetch()` asks the party for a token and returns (token, lifetime in seconds); the connector writes
    it, since every party words its token endpoint differently. `expired(status, body)` recognises the
    party's "token invalid" answer, after which the token is dropped and the request tried once more."""

    SAFETY_SECONDS = 60  # renew a little early: a token that expires in flight fails a citizen's query

    def __init__(
        self,
        store: TokenStore,
        key: str,
        fetch: Callable[[], tuple[str, int]],
        expired: Callable[[int, bytes], bool],
        header: str = "Authorization",
        scheme: str = "Bearer ",
    ):
        self.store, self.key, self.fetch, self.expired = store, key, fetch, expired
        self.header, self.scheme = header, scheme

    def token(self) -> str:
        token = self.store.get(self.key)
        if token is None:
            token, lifetime = self.fetch()
            self.store.put(self.key, token, max(int(lifetime) - self.SAFETY_SECONDS, 1))
        return token

    def sign(self, outgoing: Outgoing) -> None:
        outgoing.headers[self.header] = f"{self.scheme}{self.token()}"

    def refused(self, status: int, body: bytes) -> bool:
        if self.expired(status, body):
            self.store.drop(self.key)
            return True
        return False
