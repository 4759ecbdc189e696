"""Calling a department's own system under the department contract (docs/department-contract.md).

One attempt per call: a query is idempotent, but the timeout budget belongs to the citizen who is waiting.
The citizen block and the inputs are personal data: request body only, never an exception message.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from urllib3.exceptions import ReadTimeoutError

from integrations.department_contract.endpoint import (
    CONTROL_CHARACTERS,
    Endpoint,
    EndpointRefused,
    local_endpoints_allowed,
    vet_endpoint,
)
from integrations.department_contract.endpoint import (
    check_endpoint_url as check_endpoint_url,  # re-exported: known from here
)
from integrations.department_contract.pinning import pin, pinned_session
from integrations.department_contract.signing import KEY_ID_HEADER, sign
from integrations.errors import (
    IntegrationError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from integrations.http import CONNECT_TIMEOUT_SECONDS, RETRYABLE_STATUSES, pooled_session

PARTY = "department"
CONTRACT = "city-services/1"
DEFAULT_TIMEOUT = (CONNECT_TIMEOUT_SECONDS, 5.0)
MAX_TIMEOUT_SECONDS = 10.0  # for connect and for read: beyond this a citizen has given up
MAX_ANSWER_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = 30
BEIJING = ZoneInfo("Asia/Shanghai")

# The department's codes, the status we answer the citizen with, and our words if it gave none.
CODES = {
    "NOT_FOUND": (404, "未查询到相关信息"),
    "INVALID_INPUT": (422, "填写的信息有误，请检查后重试"),
    "NOT_ALLOWED": (403, "您无权办理此事项"),
    "UNAVAILABLE": (503, "部门系统暂时不可用，请稍后再试"),
}
MAX_MESSAGE_CHARS = 200
_OPERATION = re.compile(r"[a-z][a-z0-9_]{0,39}")
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class ContractResult:
    result: dict
    as_of: datetime  # when the department's data was current, timezone-aware


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    status: int | None  # the HTTP status the endpoint answered, None if it never answered
    latency_ms: int | None
    problem: str | None = field(default=None)  # for the go-live checklist; None when ok


class DepartmentRejected(UpstreamRejected):
    """The department understood the request and answered {"ok": false}: its code and its words for the citizen.

    `code` stays UPSTREAM_REJECTED like the rest of the family; the department's is `department_code`.
    `citizen_message` is kept out of str(): it is for the citizen, not for our logs.
    """

    def __init__(self, department_code: str, citizen_message: str, status: int | None = None):
        super().__init__(PARTY, f"answered {department_code}", status)
        self.department_code, self.citizen_message = department_code, citizen_message
        self.http_status = CODES[department_code][0]
        self.retryable = department_code == "UNAVAILABLE"


# --- the endpoint (rules in endpoint.py) ---------------------------------------------------------


def _endpoint(url: str, allow_http: bool | None, what: str = "endpoint") -> Endpoint:
    allowed = local_endpoints_allowed() if allow_http is None else allow_http
    try:
        return vet_endpoint(url, allowed)
    except EndpointRefused as refused:
        # Checked again at each call: the name may resolve elsewhere since the service was approved.
        raise UpstreamBadResponse(PARTY, f"{what} refused: {refused.reason}") from None


# --- one exchange ---------------------------------------------------------------------------------


def _timeouts(timeout) -> tuple[float, float]:
    connect, read = timeout if isinstance(timeout, (tuple, list)) else (min(CONNECT_TIMEOUT_SECONDS, timeout), timeout)
    if not (0 < connect <= MAX_TIMEOUT_SECONDS and 0 < read <= MAX_TIMEOUT_SECONDS):
        raise ValueError(f"timeouts must be within (0, {MAX_TIMEOUT_SECONDS}] seconds")
    return float(connect), float(read)


def _read(response: requests.Response, where: str, deadline: float) -> bytes:
    """The body, at most MAX_ANSWER_BYTES, by the deadline: a slow trickle must not outlast the budget."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(16384):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise UpstreamBadResponse(PARTY, f"{where} answered more than {MAX_ANSWER_BYTES} bytes")
            if time.monotonic() > deadline:
                raise UpstreamTimeout(PARTY, f"{where} did not finish its answer in time")
            chunks.append(chunk)
    except requests.ConnectionError as error:
        # requests reports a read timeout while streaming as a ConnectionError wrapping urllib3's.
        if error.args and isinstance(error.args[0], ReadTimeoutError):
            raise UpstreamTimeout(PARTY, f"{where} stopped answering mid-body") from None
        raise UpstreamUnavailable(PARTY, f"{where} dropped the connection mid-body") from None
    except requests.RequestException as error:
        raise UpstreamBadResponse(PARTY, f"{where} sent a broken body: {type(error).__name__}") from None
    finally:
        response.close()  # back to the pool when read to the end; closed when abandoned
    return b"".join(chunks)


def _exchange(
    method: str,
    endpoint: Endpoint,
    key_id: str,
    secret: str,
    body: bytes,
    timeout,
    *,
    extra_headers: dict | None = None,
    read_body: bool = True,
) -> tuple[int, bytes]:
    """Send one signed request; (status, raw body, b"" unless `read_body`). Failures to talk at all raise.

    The one signed-HTTP path of the contract: calls, health checks and status webhooks all go through here.
    """
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("key_id must be 1-64 letters, digits, '.', '_' or '-'")
    connect, read = _timeouts(timeout)
    url = where = endpoint.url
    headers = {
        **(extra_headers or {}),
        KEY_ID_HEADER: key_id,
        "Accept": "application/json",
        **sign(secret, method, urlsplit(url).path, body),
    }
    if body:
        headers["Content-Type"] = "application/json; charset=utf-8"
    session = pooled_session()
    if endpoint.address is not None:  # production: to the address we vetted, never a fresh answer of the DNS
        url, headers["Host"] = pin(url, endpoint.address)
        session = pinned_session()
    deadline = time.monotonic() + connect + read
    try:
        response = session.request(
            method, url, data=body or None, headers=headers, timeout=(connect, read), allow_redirects=False, stream=True
        )
    except requests.ConnectTimeout:
        # Never connected, so the department never saw the request: unavailable rather than timed out.
        raise UpstreamUnavailable(PARTY, f"cannot connect to {where} within {connect}s") from None
    except requests.Timeout:
        raise UpstreamTimeout(PARTY, f"no answer from {where} within {read}s") from None
    except requests.exceptions.SSLError:
        raise UpstreamUnavailable(PARTY, f"TLS handshake with {where} failed (certificate?)") from None
    except requests.RequestException as error:
        raise UpstreamUnavailable(PARTY, f"cannot reach {where}: {type(error).__name__}") from None
    if not read_body:
        response.close()  # never read: a department cannot make us download anything
        return response.status_code, b""
    return response.status_code, _read(response, where, deadline)


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _rejection(data, status: int) -> DepartmentRejected | None:
    """The department's {"ok": false, "code", "message"}, if that is what it answered."""
    if not isinstance(data, dict) or data.get("ok") is not False or data.get("code") not in CODES:
        return None
    code = data["code"]
    message = data.get("message")
    message = CONTROL_CHARACTERS.sub("", message).strip()[:MAX_MESSAGE_CHARS] if isinstance(message, str) else ""
    return DepartmentRejected(code, message or CODES[code][1], status)


def _as_of(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A department's clock without an offset is the city's clock.
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def _answer(url: str, status: int, raw: bytes) -> ContractResult:
    data = _json(raw)
    rejection = _rejection(data, status) if status == 200 or 400 <= status < 600 else None
    if rejection is not None:
        raise rejection
    if status >= 500 or status in RETRYABLE_STATUSES:
        raise UpstreamUnavailable(PARTY, f"{url} answered HTTP {status}", status)
    if status in (401, 403):
        raise UpstreamBadResponse(PARTY, f"{url} refused our signature or key id (HTTP {status})", status)
    if status != 200:
        raise UpstreamBadResponse(PARTY, f"{url} answered HTTP {status}", status)
    if not isinstance(data, dict):
        raise UpstreamBadResponse(PARTY, f"{url} answered with a body that is not a JSON object", status)
    if data.get("ok") is not True or not isinstance(data.get("result"), dict):
        raise UpstreamBadResponse(PARTY, f"{url} answered without ok=true and a result object", status)
    as_of = _as_of(data.get("as_of"))
    if as_of is None:
        raise UpstreamBadResponse(PARTY, f"{url} answered without an ISO 8601 as_of", status)
    return ContractResult(data["result"], as_of)


# --- the two things we do ---------------------------------------------------------------------------


def call(
    endpoint_url: str,
    key_id: str,
    secret: str,
    operation: str,
    service_code: str,
    inputs: dict,
    citizen: dict | None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    *,
    request_id: str | None = None,
    allow_http: bool | None = None,
) -> ContractResult:
    """Run one operation of a service on the department's system.

    Raises DepartmentRejected (the department said no, with its code and words), UpstreamUnavailable
    (not reached, or it said "not now"), UpstreamTimeout (no answer in time) or UpstreamBadResponse
    (an answer outside the contract, or an endpoint we will not call). `as_app_error` turns any of them
    into the envelope. `allow_http` None means: only outside production.
    """
    if not isinstance(operation, str) or not _OPERATION.fullmatch(operation):
        raise ValueError("operation must be lower_snake_case, at most 40 characters")
    if not isinstance(inputs, dict) or not (citizen is None or isinstance((citizen or {}).get("id"), str)):
        raise ValueError("inputs must be a dict, citizen None (a guest) or a dict with a string id")
    endpoint = _endpoint(endpoint_url, allow_http).at("/")
    payload = {
        "contract": CONTRACT,
        "operation": operation,
        "service": service_code,
        "request_id": request_id or uuid.uuid4().hex,
        "inputs": inputs,
    }
    if citizen is not None:  # a guest of a service that needs no login is no one to the department
        payload["citizen"] = {**citizen, "real_name_verified": bool(citizen.get("real_name_verified"))}
    # These exact bytes are signed and sent: the department verifies the raw body, never a re-encoding.
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    status, raw = _exchange("POST", endpoint, key_id, secret, body, timeout)
    return _answer(endpoint.url, status, raw)


def _problem(error: IntegrationError) -> str:
    if isinstance(error, UpstreamTimeout):
        return f"部门系统响应超时（{error.message}）"
    if isinstance(error, UpstreamUnavailable):
        return f"无法连接部门系统（{error.message}）"
    return f"部门系统的应答不符合接口约定（{error.message}）"


def health_check(
    endpoint_url: str, key_id: str, secret: str, timeout: float = 3, *, allow_http: bool | None = None
) -> HealthResult:
    """GET {endpoint}/health, signed like a call; passes only on 200 {"ok": true}. Never raises."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        allowed = local_endpoints_allowed() if allow_http is None else allow_http
        endpoint = vet_endpoint(endpoint_url, allowed).at("/health")
        status, raw = _exchange("GET", endpoint, key_id, secret, b"", timeout)
    except EndpointRefused as refused:
        return HealthResult(False, None, None, f"接口地址不可用：{refused.message}")
    except IntegrationError as error:
        return HealthResult(False, error.status, elapsed(), _problem(error))
    except Exception as error:  # noqa: BLE001 - a checklist item reports, it does not crash the review
        return HealthResult(False, None, elapsed(), f"健康检查出错（{type(error).__name__}）")
    latency = elapsed()
    if status in (401, 403):
        return HealthResult(False, status, latency, f"部门系统拒绝了签名（HTTP {status}），请核对密钥编号和密钥")
    if status != 200:
        return HealthResult(False, status, latency, f"健康检查返回 HTTP {status}")
    data = _json(raw)
    if not isinstance(data, dict) or data.get("ok") is not True:
        return HealthResult(False, status, latency, '健康检查的应答不是 {"ok": true}')
    return HealthResult(True, status, latency, None)


def as_app_error(error: IntegrationError):
    """The envelope a citizen gets for a failed call: the department's own code and words when it gave them."""
    from app.errors import AppError

    retry_later = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if isinstance(error, DepartmentRejected):
        headers = retry_later if error.http_status == 503 else {}
        return AppError(
            error.department_code, error.citizen_message, error.http_status, {"source": "department"}, headers
        )
    if isinstance(error, UpstreamTimeout):
        return AppError("DEPARTMENT_TIMEOUT", "部门系统响应超时，请稍后再试", 504)
    if isinstance(error, UpstreamUnavailable):
        return AppError("DEPARTMENT_UNAVAILABLE", "部门系统暂时不可用，请稍后再试", 503, {}, retry_later)
    return AppError("DEPARTMENT_BAD_RESPONSE", "部门系统返回异常，请稍后再试", 502)
