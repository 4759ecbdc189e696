"""Status webhooks: a department's system is told of each status change of its services' versions.

The event is written to the outbox in the transition's own unit of work, so it leaves only if the change
commits, and is retried until the department answers 2xx (docs/department-contract.md, "Status webhooks").
It is signed at delivery time with the department's newest live contract key, like a contract call.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.audit import service as audit
from app.catalog.models import ContractKey, Service, ServiceVersion
from app.city.models import Department
from app.clock import shown, utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from app.outbox.delivery import Claimed, attempts_covering, outbox_handler
from app.outbox.service import enqueue
from integrations.department_contract import EndpointRefused, check_endpoint_url, local_endpoints_allowed
from integrations.department_contract.webhook import post_event

TOPIC = "catalog.webhook"
EVENT = "service.status_changed"


class NoSigningKey(RuntimeError):
    """The department has no live contract key: retried, since issuing one makes the delivery possible."""


# --- the department's setting ------------------------------------------------------------------------


def _department_code(caller: Caller) -> str:
    if caller.kind not in {"staff", "client"} or not caller.department:
        raise AppError("DEPARTMENT_ONLY", "只有部门可以设置状态通知地址", 403)
    return caller.department


def _department(caller: Caller, for_update: bool = False) -> Department:
    query = sa.select(Department).where(Department.code == _department_code(caller))
    department = db.session.scalar(query.with_for_update() if for_update else query)
    if department is None:
        raise AppError("UNKNOWN_DEPARTMENT", "没有这个部门", 404)
    return department


def _signing_key(department_code: str) -> ContractKey | None:
    """The newest live key: the one a department issued last is the one it expects."""
    return db.session.scalar(
        sa.select(ContractKey)
        .where(ContractKey.department_code == department_code, ContractKey.retired_at.is_(None))
        .order_by(ContractKey.created_at.desc(), ContractKey.id.desc())
        .limit(1)
    )


def get_url(caller: Caller) -> dict:
    """The caller's department's webhook URL, and the key id deliveries are signed with (None: none yet)."""
    department = _department(caller)
    key = _signing_key(department.code)
    return {"url": department.webhook_url, "key_id": key.key_id if key else None}


def set_url(caller: Caller, url: str | None) -> dict:
    """Set (or, with None, clear) the webhook URL of the caller's department."""
    _department_code(caller)  # a caller without a department is refused before its URL is looked at
    if url is not None:
        try:
            url = check_endpoint_url(url, local_endpoints_allowed())
        except EndpointRefused as refused:
            details = {"fields": {"url": [refused.message]}, "reason": refused.reason}
            raise AppError("INVALID_WEBHOOK_URL", refused.message, 422, details) from None
    with unit_of_work():
        department = _department(caller, for_update=True)
        department.webhook_url = url
        if url:
            audit.record("department.webhook_set", "department", department.code, details={"url": url})
        else:
            audit.record("department.webhook_cleared", "department", department.code)
    return get_url(caller)


# --- writing the event -----------------------------------------------------------------------------


def on_status_change(
    service: Service, version: ServiceVersion, action: str, before: str, after: str, comment: str | None
) -> None:
    """Called in the transition's unit of work, rows locked, after each move (a publish's `supersede` of
    the version it replaces included)."""
    url = db.session.scalar(sa.select(Department.webhook_url).where(Department.code == service.department_code))
    if url:
        _enqueue(url, service, version, action, before, after, (comment or "").strip() or None)


def _enqueue(url, service, version, action, before, after, comment) -> None:
    payload = {
        "event": EVENT,
        "department": service.department_code,
        "service": service.code,
        "version": version.number,
        "action": action,
        "from": before,
        "to": after,
        "comment": comment,
        "at": shown(utcnow()),
    }
    # One key per event, stored with the message: every retry of its delivery carries the same one.
    # Retried for at least a day, so a department's maintenance window costs it no events (the doc says so).
    enqueue(
        TOPIC,
        url,
        payload,
        idempotency_key=f"svc-webhook:{uuid.uuid4().hex}",
        max_attempts=attempts_covering(timedelta(days=1)),
    )


# --- delivering it ---------------------------------------------------------------------------------


def body_of(payload: dict) -> bytes:
    """The bytes sent and signed: the same on every attempt, whatever order the database keeps the keys in."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@outbox_handler(TOPIC)
def deliver_webhook(message: Claimed) -> None:
    """POST the event, signed with the department's newest live key. Raises (so the outbox retries) unless 2xx."""
    department = message.payload.get("department")
    with unit_of_work():  # a short read, ended before the call goes out
        key = _signing_key(department)
        key_id, secret = (key.key_id, key.secret) if key else (None, None)
    if key_id is None:
        raise NoSigningKey(f"department {department} has no live contract key to sign with")
    headers = {"Idempotency-Key": message.idempotency_key, "X-Delivery-Attempt": str(message.attempts)}
    timeout = current_app.config["OUTBOX_HTTP_TIMEOUT_SECONDS"]
    post_event(message.destination, key_id, secret, body_of(message.payload), headers, timeout)
