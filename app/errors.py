"""The one error envelope: {"error": {"code", "message", "details", "request_id"}}."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from app.request_context import current_request_id

log = logging.getLogger("app.errors")

# Stable codes for programs, Chinese messages for people.
HTTP_ERRORS = {
    400: ("BAD_REQUEST", "请求格式不正确"),
    401: ("UNAUTHORIZED", "请先登录"),
    403: ("FORBIDDEN", "无权进行此操作"),
    404: ("NOT_FOUND", "未找到请求的资源"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    409: ("CONFLICT", "请求与当前状态冲突"),
    412: ("PRECONDITION_FAILED", "数据已变化，请刷新后重试"),
    413: ("PAYLOAD_TOO_LARGE", "提交的内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "请以 JSON 格式提交"),
    422: ("VALIDATION_FAILED", "提交的内容有误，请检查后重试"),
    428: ("PRECONDITION_REQUIRED", "缺少必要的请求头"),
    429: ("RATE_LIMITED", "请求过于频繁，请稍后再试"),
    500: ("INTERNAL_ERROR", "服务器开小差了，请稍后再试"),
    502: ("BAD_GATEWAY", "上游系统返回异常"),
    503: ("SERVICE_UNAVAILABLE", "服务暂时不可用，请稍后再试"),
    504: ("GATEWAY_TIMEOUT", "上游系统响应超时"),
}
# Headers of an HTTP error worth passing on; werkzeug's own Content-Type is not.
_KEPT_HEADERS = {"Allow", "Retry-After", "WWW-Authenticate"}


class AppError(Exception):
    """A domain error a caller can act on. Raise it from services; the envelope follows."""

    def __init__(
        self, code: str, message: str, status: int = 400, details: dict | None = None, headers: dict | None = None
    ):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.details = details or {}
        self.headers = headers or {}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable UPPER_SNAKE code for programs"})
    message = ma.fields.String(required=True, metadata={"description": "for people, Chinese by default"})
    details = ma.fields.Dict(required=True, metadata={"description": "e.g. fields: {name: [problems]}"})
    request_id = ma.fields.String(required=True, allow_none=True)


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def envelope(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details or {}, "request_id": current_request_id()}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nest messages by field; callers want one flat 'a.b' -> [problems]."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def validation_details(messages: dict) -> dict:
    """{"json": {"name": [...]}} -> {"fields": {"name": [...]}, "location": "json"}."""
    if len(messages) == 1:
        location, fields = next(iter(messages.items()))
        return {"fields": _flatten(fields), "location": location}
    return {"fields": _flatten(messages)}


def http_error_response(error: HTTPException):
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, (error.name.upper().replace(" ", "_"), error.description))
    data = getattr(error, "data", None) or {}
    details = {}
    if status == 422 and "messages" in data:
        details = validation_details(data["messages"])
    elif "message" in data:
        message = data["message"]
    headers = {k: v for k, v in error.get_headers() if k in _KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    if status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(_limit_window_seconds(error))
    return envelope(status, code, message, details, headers)


def _limit_window_seconds(error: HTTPException) -> int:
    """Flask-Limiter's 429 carries the limit that was hit; its window is a safe wait."""
    limit = getattr(getattr(error, "limit", None), "limit", None)
    try:
        return int(limit.get_expiry())
    except (AttributeError, TypeError, ValueError):
        return 60


def _database_unavailable(error: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    # A pool with no connection free in time is as unavailable as a database that is down.
    if isinstance(error, PoolTimeout):
        return True
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(error: AppError):
        return envelope(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error_response(error)
        if _database_unavailable(error):
            # A lost connection (database restarted, failover) or a transient refusal (deadlock,
            # serialization): nothing was committed; the caller may simply try again.
            log.warning("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
            return envelope(503, "DATABASE_UNAVAILABLE", "服务暂时不可用，请稍后再试", {}, {"Retry-After": "2"})
        # The traceback goes to the log with the request id; the caller gets only the id.
        log.exception("unhandled exception: %s", type(error).__name__)
        code, message = HTTP_ERRORS[500]
        return envelope(500, code, message)
