"""The envelope a citizen gets when a cloud fails: one family, never a bare 500, never a hang."""

from __future__ import annotations

import logging

from app.errors import AppError
from integrations.connectors.breaker import BreakerOpen
from integrations.errors import (
    IntegrationError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamTimeout,
)

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
# How a department's "no" to the question reads, and our words where it gave none.
REFUSALS = {
    "not_found": (404, "未查询到相关信息"),
    "invalid": (422, "填写的信息有误，请检查后重试"),
    "forbidden": (403, "您无权查询此信息"),
}


def as_cloud_error(error: IntegrationError) -> AppError:
    if isinstance(error, UpstreamRejected):
        if error.reason in REFUSALS:
            status, words = REFUSALS[error.reason]
            return AppError("CLOUD_REJECTED", error.public_message or words, status, {"source": "department"})
        # A refusal of our credentials or signature: not the citizen's doing, so not a 4xx; operators
        # see it in the connector's last error.
        return _unavailable(RETRY_AFTER_SECONDS * 10)
    if isinstance(error, BreakerOpen):
        return _unavailable(error.retry_after)
    if isinstance(error, UpstreamTimeout):
        return AppError("CLOUD_TIMEOUT", "部门系统响应超时，请稍后再试", 504)
    if isinstance(error, UpstreamBadResponse):
        return AppError("CLOUD_BAD_RESPONSE", "部门系统返回异常，请稍后再试", 502)
    return _unavailable(RETRY_AFTER_SECONDS)


def _unavailable(retry_after: int) -> AppError:
    headers = {"Retry-After": str(max(int(retry_after), 1))}
    return AppError("CLOUD_UNAVAILABLE", "部门系统暂时不可用，请稍后再试", 503, {}, headers)
