"""The one outbound HTTP path: explicit timeouts, a shared connection pool, errors mapped to one family."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_random_exponential

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable

CONNECT_TIMEOUT_SECONDS = 3.05
# Status codes that mean "not now" rather than "no".
RETRYABLE_STATUSES = {408, 425, 429}

_local = threading.local()
# When the whole of the current call (retries, token fetches, pages) must be over: every send takes what is left.
_deadline: ContextVar[float | None] = ContextVar("outbound_deadline", default=None)


@contextmanager
def deadline(seconds: float):
    """Everything sent inside finishes within `seconds`, however many requests it takes."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _within_deadline(party: str, timeout: tuple[float, float]) -> tuple[float, float]:
    until = _deadline.get()
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0.05:
        raise UpstreamTimeout(party, "out of time for this call")
    return (min(timeout[0], left), min(timeout[1], left))


def pooled_session() -> requests.Session:
    """This thread's session: kept-alive connections to every outside party."""
    # requests.Session is not documented as thread-safe: one per thread, pooled connections each.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers["User-Agent"] = "zz-city-services/1"
        # Without proxies in the environment, skip requests' reading of it on every request (a tenth of
        # an outbound call's CPU); with them, requests keeps honouring HTTP(S)_PROXY and NO_PROXY.
        # A CA bundle given to requests by the environment (an egress proxy's CA) must be honoured too.
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        session.trust_env = bool(urllib.request.getproxies() or ca_bundle)
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


def send(
    party: str,
    method: str,
    url: str,
    *,
    params: dict | None = None,
    data: bytes | None = None,
    headers: dict | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, 5.0),
) -> requests.Response:
    """Send one request; return the answer when it is under 500 (4xx included: the caller reads the party's
    own error shape). Transport failures, 5xx, 408, 425 and 429 raise UpstreamUnavailable, a read timeout
    UpstreamTimeout, a redirect UpstreamBadResponse. Inside `deadline()`, never past it."""
    where = _where(url)
    timeout = _within_deadline(party, timeout)
    try:
        response = pooled_session().request(
            method, url, params=params, data=data, headers=headers or {}, timeout=timeout, allow_redirects=False
        )
    except requests.ConnectTimeout:
        raise UpstreamUnavailable(party, f"cannot connect to {where} within {timeout[0]}s") from None
    except requests.Timeout:
        raise UpstreamTimeout(party, f"no answer from {where} within {timeout[1]}s") from None
    except requests.RequestException as error:
        raise UpstreamUnavailable(party, f"cannot reach {where}: {type(error).__name__}") from None
    status = response.status_code
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(party, f"{where} answered HTTP {status}", status)
    if 300 <= status < 400:
        raise UpstreamBadResponse(party, f"{where} answered a redirect (HTTP {status})", status)
    return response


def retrying(attempts: int, budget_seconds: float) -> Retrying:
    """Retries for an idempotent request: a request that may have been acted on must never be repeated.

    Only "unavailable" is retried, after a short random wait (full jitter, so clients that failed together
    do not come back together), within the budget; a read timeout is not: the citizen has waited it out.
    """
    return Retrying(
        retry=retry_if_exception_type(UpstreamUnavailable),
        stop=stop_after_attempt(max(attempts, 1)) | stop_after_delay(budget_seconds),
        wait=wait_random_exponential(multiplier=0.1, max=1.0),
        reraise=True,
    )
