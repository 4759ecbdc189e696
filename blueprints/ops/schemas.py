from collections.abc import Mapping
from datetime import UTC, datetime

import marshmallow as ma

from app.audit.models import ACTOR_KINDS, OUTCOMES
from app.audit.service import MAX_PAGE
from app.clock import local
from app.outbox.models import DEAD, DELIVERED, PENDING

BIGINT_MAX = 2**63 - 1
# Far enough either way for any question, near enough that converting to UTC cannot overflow.
MOMENTS = ma.validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC), max=datetime(2100, 1, 1, tzinfo=UTC))


def printable(value: str) -> None:
    # PostgreSQL text cannot hold NUL, and control characters have no business in an id.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ma.ValidationError("不能包含控制字符")


def text(max_length: int, description: str) -> ma.fields.String:
    return ma.fields.String(
        validate=[ma.validate.Length(min=1, max=max_length), printable], metadata={"description": description}
    )


def shanghai(name: str):
    """A stored UTC moment as the city sees it, with its offset."""

    def show(obj):
        value = obj[name] if isinstance(obj, Mapping) else getattr(obj, name)
        return None if value is None else local(value).isoformat()

    return show


class AuditQuerySchema(ma.Schema):
    actor_id = text(64, "who: staff, operator or client id")
    actor_kind = ma.fields.String(validate=ma.validate.OneOf(ACTOR_KINDS))
    action = text(64, 'exact ("outbox.retry") or a prefix ending in "." ("outbox.")')
    object_type = text(32, "e.g. outbox_message, citizen")
    object_id = text(128, "with object_type")
    outcome = ma.fields.String(validate=ma.validate.OneOf(OUTCOMES))
    since = ma.fields.AwareDateTime(
        format="iso", validate=MOMENTS, metadata={"description": "ISO 8601 with offset, inclusive"}
    )
    until = ma.fields.AwareDateTime(
        format="iso", validate=MOMENTS, metadata={"description": "ISO 8601 with offset, exclusive"}
    )
    cursor = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=BIGINT_MAX),
        metadata={"description": "next_cursor of the previous page"},
    )
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))

    @ma.validates_schema
    def since_before_until(self, data, **kwargs):
        if "since" in data and "until" in data and data["since"] > data["until"]:
            raise ma.ValidationError("until 不能早于 since", "until")


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    at = ma.fields.Function(shanghai("at"), required=True, metadata={"description": "Asia/Shanghai, with offset"})
    actor_kind = ma.fields.String(required=True)
    actor_id = ma.fields.String(allow_none=True)
    actor_department = ma.fields.String(allow_none=True)
    actor_roles = ma.fields.List(ma.fields.String(), required=True)
    action = ma.fields.String(required=True)
    object_type = ma.fields.String(required=True)
    object_id = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(required=True)
    ip = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    details = ma.fields.Dict(required=True, metadata={"description": "ids and field names, never personal data"})


class AuditPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
    next_cursor = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "pass as cursor for the next page; null at the end"}
    )


class OutboxQuerySchema(ma.Schema):
    status = ma.fields.String(load_default=DEAD, validate=ma.validate.OneOf([DEAD, PENDING, DELIVERED]))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE))


class OutboxMessageSchema(ma.Schema):
    """A message without its payload, which may carry personal data: only the payload's keys."""

    id = ma.fields.UUID(required=True)
    topic = ma.fields.String(required=True)
    destination = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    max_attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.Function(shanghai("created_at"), required=True)
    next_attempt_at = ma.fields.Function(shanghai("next_attempt_at"), required=True)
    delivered_at = ma.fields.Function(shanghai("delivered_at"), allow_none=True)
    payload_keys = ma.fields.Function(lambda m: sorted(m.payload) if isinstance(m.payload, dict) else [], required=True)
