"""Sending one signed event to a department's webhook URL (docs/department-contract.md, "Status webhooks").

Sent through the contract's one signed exchange (client._exchange): the same signing, the same checks of the
URL (in production, the vetted address is the one connected to) and the same errors. One attempt: the outbox
decides about retries. Errors carry the URL and the status, never the body or the secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from integrations.department_contract.client import MAX_TIMEOUT_SECONDS, PARTY, _endpoint, _exchange
from integrations.errors import UpstreamBadResponse, UpstreamUnavailable
from integrations.http import CONNECT_TIMEOUT_SECONDS, RETRYABLE_STATUSES


def post_event(
    url: str, key_id: str, secret: str, body: bytes, headers: dict, timeout: float, *, allow_http: bool | None = None
) -> int:
    """POST `body` (the exact bytes signed) to `url`; the 2xx status, or an error of the family.

    `allow_http` None means: only outside production (like client.call).
    """
    # Checked again at each delivery: the name may resolve elsewhere since the URL was set.
    endpoint = _endpoint(url, allow_http, what="webhook URL")
    if not urlsplit(endpoint.url).path:
        endpoint = endpoint.at("/")  # what requests sends for an empty path, so the signed path is the one sent
    read = min(float(timeout), MAX_TIMEOUT_SECONDS)
    # The answer's body is never read, so a department cannot make us download much.
    status, _ = _exchange(
        "POST", endpoint, key_id, secret, body, (CONNECT_TIMEOUT_SECONDS, read), extra_headers=headers, read_body=False
    )
    if 200 <= status < 300:
        return status
    # Every failure is worth another attempt (a key being rolled out, a deploy): the outbox gives up in the end.
    target = endpoint.url
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(PARTY, f"{target} answered HTTP {status}", status)
    if status in (401, 403):
        raise UpstreamBadResponse(PARTY, f"{target} refused our signature or key id (HTTP {status})", status)
    if 300 <= status < 400:
        raise UpstreamBadResponse(PARTY, f"{target} answered a redirect (HTTP {status}); we do not follow", status)
    raise UpstreamBadResponse(PARTY, f"{target} answered HTTP {status}", status)
