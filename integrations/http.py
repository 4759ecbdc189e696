"""The one outbound HTTP path: explicit timeouts, a shared connection pool, errors mapped to one family."""

from __future__ import annotations

import threading

import requests

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable

CONNECT_TIMEOUT_SECONDS = 3.05
# Status codes that mean "not now" rather than "no".
RETRYABLE_STATUSES = {408, 425, 429}

_local = threading.local()


def _session() -> requests.Session:
    # requests.Session is not documented as thread-safe: one per thread, pooled connections each.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "zz-city-services/1"
    return session


def post_json(party: str, url: str, payload: dict, *, headers: dict | None = None, timeout: float = 5.0) -> dict:
    """POST JSON and return the parsed JSON answer (or {} for an empty one)."""
    try:
        response = _session().post(url, json=payload, headers=headers or {}, timeout=(CONNECT_TIMEOUT_SECONDS, timeout))
    except requests.Timeout:
        raise UpstreamTimeout(party, f"no answer within {timeout}s") from None
    except requests.RequestException as error:
        raise UpstreamUnavailable(party, f"cannot reach {url}: {type(error).__name__}") from None
    status = response.status_code
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(party, f"answered HTTP {status}", status)
    if status >= 400:
        raise UpstreamRejected(party, f"answered HTTP {status}: {response.text[:200]}", status)
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise UpstreamBadResponse(party, f"answered HTTP {status} with a body that is not JSON", status) from None
