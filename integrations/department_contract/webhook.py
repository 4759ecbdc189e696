"""Sending one signed event to a department's webhook URL (docs/department-contract.md, "Status webhooks").

Signed exactly like a contract call, so the department verifies both with the same code. One attempt:
the outbox decides about retries. Errors carry the URL and the status, never the body or the secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from integrations.department_contract.client import (
    MAX_TIMEOUT_SECONDS,
    PARTY,
    EndpointRefused,
    check_endpoint_url,
    local_endpoints_allowed,
)
from integrations.department_contract.signing import KEY_ID_HEADER, sign
from integrations.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable
from integrations.http import CONNECT_TIMEOUT_SECONDS, RETRYABLE_STATUSES, pooled_session


def post_event(url: str, key_id: str, secret: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` (the exact bytes signed) to `url`; the 2xx status, or an error of the family."""
    try:
        # Checked again at each delivery: the name may resolve elsewhere since the URL was set.
        target = check_endpoint_url(url, local_endpoints_allowed())
    except EndpointRefused as refused:
        raise UpstreamBadResponse(PARTY, f"webhook URL refused: {refused.reason}") from None
    if not urlsplit(target).path:
        target += "/"  # what requests sends for an empty path, so the signed path is the one sent
    signed = {
        **headers,
        KEY_ID_HEADER: key_id,
        "Content-Type": "application/json; charset=utf-8",
        **sign(secret, "POST", urlsplit(target).path, body),
    }
    read = min(float(timeout), MAX_TIMEOUT_SECONDS)
    try:
        # stream=True: the answer's body is never read, so a department cannot make us download much.
        response = pooled_session().post(
            target,
            data=body,
            headers=signed,
            timeout=(CONNECT_TIMEOUT_SECONDS, read),
            allow_redirects=False,
            stream=True,
        )
    except requests.ConnectTimeout:
        raise UpstreamUnavailable(PARTY, f"cannot connect to {target}") from None
    except requests.Timeout:
        raise UpstreamTimeout(PARTY, f"no answer from {target} within {read}s") from None
    except requests.RequestException as error:
        raise UpstreamUnavailable(PARTY, f"cannot reach {target}: {type(error).__name__}") from None
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        return status
    # Every failure is worth another attempt (a key being rolled out, a deploy): the outbox gives up in the end.
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(PARTY, f"{target} answered HTTP {status}", status)
    if status in (401, 403):
        raise UpstreamBadResponse(PARTY, f"{target} refused our signature or key id (HTTP {status})", status)
    if 300 <= status < 400:
        raise UpstreamBadResponse(PARTY, f"{target} answered a redirect (HTTP {status}); we do not follow", status)
    raise UpstreamBadResponse(PARTY, f"{target} answered HTTP {status}", status)
