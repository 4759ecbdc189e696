"""The one outbound HTTP path: explicit timeouts, a shared connection pool, errors mapped to one family."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable

CONNECT_TIMEOUT_SECONDS = 3.05
# Status codes that mean "not now" rather than "no".
RETRYABLE_STATUSES = {408, 425, 429}

_local = threading.local()


def pooled_session() -> requests.Session:
    """This thread's session: kept-alive connections to every outside party."""
    # requests.Session is not documented as thread-safe: one per thread, pooled connections each.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "zz-city-services/1"
    return session


def _where(url: str) -> str:
    """The URL without its query string, which may carry tokens: safe for logs and error rows."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def post_json(
    party: str,
    url: str,
    payload: dict,
    *,
    headers: dict | None = None,
    timeout: float = 5.0,
    expect_json: bool = True,
) -> dict:
    """POST JSON; return the parsed JSON answer ({} if empty, or if `expect_json` is off).

    Errors carry the status and where, never the upstream body: it may hold personal data.
    """
    where = _where(url)
    try:
        response = pooled_session().post(
            url, json=payload, headers=headers or {}, timeout=(CONNECT_TIMEOUT_SECONDS, timeout), allow_redirects=False
        )
    except requests.Timeout:
        raise UpstreamTimeout(party, f"no answer from {where} within {timeout}s") from None
    except requests.RequestException as error:
        raise UpstreamUnavailable(party, f"cannot reach {where}: {type(error).__name__}") from None
    status = response.status_code
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(party, f"{where} answered HTTP {status}", status)
    if status >= 300:
        # A redirect would turn our POST into a GET elsewhere: a configuration error, not a success.
        raise UpstreamRejected(party, f"{where} answered HTTP {status}", status)
    if not response.content or not expect_json:
        return {}
    try:
        return response.json()
    except ValueError:
        raise UpstreamBadResponse(
            party, f"{where} answered HTTP {status} with a body that is not JSON", status
        ) from None
