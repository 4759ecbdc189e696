"""Per-request facts used everywhere: the request id and the caller's address."""

from __future__ import annotations

import os
import re

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and printable, so logs cannot be forged or flooded.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def assign_request_id() -> str:
    offered = request.environ.get("HTTP_X_REQUEST_ID", "")
    request_id = offered if _ACCEPTED_ID.fullmatch(offered) else os.urandom(16).hex()
    g.request_id = request_id
    return request_id


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    return g.get("request_id")


def client_address() -> str:
    """The caller's IP (ProxyFix has already applied TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"
