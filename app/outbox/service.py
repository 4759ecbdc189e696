"""Writing outbox messages and operating on them. Delivery itself is in delivery.py."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.db import after_commit, unit_of_work
from app.errors import AppError
from app.extensions import db
from app.outbox.models import DEAD, PENDING, OutboxMessage

log = logging.getLogger(__name__)


def enqueue(
    topic: str,
    destination: str,
    payload: dict,
    *,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
) -> OutboxMessage:
    """Add a message to the caller's open unit of work. It leaves only if that work commits.

    `max_attempts` None means OUTBOX_MAX_ATTEMPTS; a receiver promised a longer wait gets more
    (delivery.attempts_covering works the number out from the backoff).
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = utcnow()
    message = OutboxMessage(
        id=uuid.uuid4(),
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        topic=topic,
        destination=destination,
        payload=payload,
        status=PENDING,
        attempts=0,
        max_attempts=current_app.config["OUTBOX_MAX_ATTEMPTS"] if max_attempts is None else max_attempts,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(message)
    message_id = message.id  # read now: after the commit the object is expired
    after_commit(lambda: dispatch(message_id))
    return message


def dispatch(message_id: uuid.UUID) -> None:
    """Ask a worker to deliver now. If the broker is down, the sweeper finds the row later."""
    from app.outbox.tasks import deliver_message

    try:
        deliver_message.delay(str(message_id))
    except Exception:
        log.warning("outbox dispatch failed; left for the sweeper", extra={"outbox_id": str(message_id)}, exc_info=True)


def count_by_status() -> dict[str, int]:
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    db.session.rollback()  # end the read; this runs from /metrics and beat
    return dict(rows)


def list_messages(status: str = DEAD, limit: int = 50) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.status == status)
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )


def retry_dead(message_id: uuid.UUID) -> OutboxMessage:
    """An operator gives a dead letter a fresh set of attempts (after fixing the receiver)."""
    with unit_of_work() as session:
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            raise AppError("OUTBOX_MESSAGE_NOT_FOUND", "没有这条消息", 404)
        if message.status != DEAD:
            raise AppError("OUTBOX_NOT_DEAD", "只有已放弃投递的消息可以重试", 409)
        message.status, message.attempts, message.locked_until = PENDING, 0, None
        message.next_attempt_at = utcnow()
        after_commit(lambda: dispatch(message_id))
    return message
