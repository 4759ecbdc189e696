"""Signing of the department contract: HMAC-SHA256 over method, path, timestamp, nonce and the body's hash.

The same rules are written out in docs/department-contract.md and copied, standalone, into
docs/examples/department_receiver.py (a test keeps the two in agreement).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping

KEY_ID_HEADER = "X-City-Key-Id"
TIMESTAMP_HEADER = "X-City-Timestamp"
NONCE_HEADER = "X-City-Nonce"
SIGNATURE_HEADER = "X-City-Signature"

WINDOW_SECONDS = 300  # a request older or further in the future than this is refused
NONCE_MEMORY_SECONDS = 2 * WINDOW_SECONDS  # a nonce must be remembered as long as its timestamp is acceptable
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class ContractSignatureError(Exception):
    """A request that must not be served. `reason` is one of the short codes below."""

    REASONS = ("missing_header", "bad_timestamp", "stale_timestamp", "bad_nonce", "bad_signature", "replayed_nonce")

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The five lines that are signed; the body by its hex SHA-256, so the raw bytes count, not a re-encoding."""
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])


def signature(secret: str | bytes, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = canonical_string(method, path, timestamp, nonce, body).encode()
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(
    secret: str | bytes, method: str, path: str, body: bytes, now: float | None = None, nonce: str | None = None
) -> dict[str, str]:
    """The timestamp, nonce and signature headers for one request (the key id header is the caller's)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, nonce, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Flask's headers are case-insensitive, a plain dict is not: look both ways.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def verify(
    secret: str | bytes,
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
    seen_nonce: Callable[[str], bool] | None = None,
) -> None:
    """Raise ContractSignatureError unless the request is signed with `secret`, fresh and not a replay.

    `seen_nonce(nonce)` answers whether the nonce was used before, and remembers it for at least
    NONCE_MEMORY_SECONDS (e.g. Redis `SET nonce 1 NX EX 600`). It is asked only once the signature is good,
    so nobody without the secret can fill the store.
    """
    timestamp, nonce, given = (_header(headers, h) for h in (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER))
    if not timestamp or not nonce or not given:
        raise ContractSignatureError("missing_header")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise ContractSignatureError("bad_timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_SECONDS:
        raise ContractSignatureError("stale_timestamp")
    if not _NONCE.fullmatch(nonce):
        raise ContractSignatureError("bad_nonce")
    expected = signature(secret, method, path, timestamp, nonce, body)
    # Constant-time, so the answer time tells nothing about how much of a guess was right.
    if not _SIGNATURE.fullmatch(given.lower()) or not hmac.compare_digest(expected, given.lower()):
        raise ContractSignatureError("bad_signature")
    if seen_nonce is not None and seen_nonce(nonce):
        raise ContractSignatureError("replayed_nonce")
