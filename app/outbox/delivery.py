"""Delivering one outbox message: claim, call outside without a transaction open, record."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.db import unit_of_work
from app.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)

HANDLERS: dict = {}
JITTER_FLOOR = 0.75  # a wait is 75-100% of its ceiling


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    topic: str
    destination: str
    payload: dict
    idempotency_key: str
    attempts: int
    max_attempts: int


def outbox_handler(topic: str):
    """Register the function that delivers messages of `topic`. It raises to fail the attempt."""

    def register(func):
        HANDLERS[topic] = func
        return func

    return register


def _longest_wait(attempts: int) -> float:
    config = current_app.config
    return min(config["OUTBOX_BACKOFF_MAX_SECONDS"], config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (attempts - 1))


def backoff_seconds(attempts: int) -> float:
    """Exponential with jitter: base, 2x base, 4x base ... capped; 75-100% of it, so retries spread."""
    return _longest_wait(attempts) * random.uniform(JITTER_FLOOR, 1.0)


def attempts_covering(span: timedelta) -> int:
    """Attempts enough for the last one to come at least `span` after the first, however the jitter falls.

    For a receiver promised that much patience: with the default backoff (5 s doubling, at most an hour)
    a day takes 42 attempts, the last 24.3 to 32.4 hours after the first (docs/department-contract.md).
    """
    if _longest_wait(1) <= 0:
        raise ValueError("OUTBOX_BACKOFF_SECONDS must be positive")
    attempts, shortest = 1, 0.0
    while shortest < span.total_seconds():
        shortest += _longest_wait(attempts) * JITTER_FLOOR
        attempts += 1
    return attempts


def _claim(message_id: uuid.UUID, now: datetime) -> Claimed | None:
    """Take a lease on a due message. Exactly one caller wins; the others get None."""
    lease = timedelta(seconds=current_app.config["OUTBOX_HTTP_TIMEOUT_SECONDS"] * 2 + 30)
    table = OutboxMessage.__table__
    with unit_of_work() as session:
        row = session.execute(
            sa.update(table)
            .where(table.c.id == message_id, *_due(table, now))
            .values(attempts=table.c.attempts + 1, locked_until=now + lease)
            .returning(
                table.c.id,
                table.c.topic,
                table.c.destination,
                table.c.payload,
                table.c.idempotency_key,
                table.c.attempts,
                table.c.max_attempts,
            )
        ).first()
    return Claimed(*row) if row else None


def _due(table, now: datetime) -> tuple:
    """Pending, due, not leased, and with attempts left (a message that kills its worker runs out too)."""
    return (
        table.c.status == PENDING,
        table.c.next_attempt_at <= now,
        sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
        table.c.attempts < table.c.max_attempts,
    )


def _record(claimed: Claimed, values: dict) -> None:
    """Write the outcome, only if our lease is still the latest one (the attempts count fences it)."""
    table = OutboxMessage.__table__
    with unit_of_work() as session:
        session.execute(
            sa.update(table)
            .where(table.c.id == claimed.id, table.c.status == PENDING, table.c.attempts == claimed.attempts)
            .values(locked_until=None, **values)
        )


def deliver(message_id: uuid.UUID, now: datetime | None = None) -> str:
    """One delivery attempt. Returns delivered, retry, dead or skipped (not due, or someone else has it)."""
    now = now or utcnow()
    claimed = _claim(message_id, now)
    if claimed is None:
        return "skipped"
    handler = HANDLERS.get(claimed.topic)
    try:
        if handler is None:
            raise LookupError(f"no outbox handler for topic {claimed.topic!r}")
        handler(claimed)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the row
        permanent = isinstance(error, LookupError) or (isinstance(error, IntegrationError) and not error.retryable)
        give_up = permanent or claimed.attempts >= claimed.max_attempts
        values = {"last_error": f"{type(error).__name__}: {error}"[:2000]}
        if give_up:
            values["status"] = DEAD
        else:
            values["next_attempt_at"] = utcnow() + timedelta(seconds=backoff_seconds(claimed.attempts))
        _record(claimed, values)
        log.warning(
            "outbox delivery failed",
            extra={
                "outbox_id": str(claimed.id),
                "topic": claimed.topic,
                "attempt": claimed.attempts,
                "dead": give_up,
                "error": values["last_error"],
            },
        )
        return "dead" if give_up else "retry"
    _record(claimed, {"status": DELIVERED, "delivered_at": utcnow(), "last_error": None})
    return "delivered"


def due_message_ids(now: datetime | None = None, limit: int = 200) -> list[uuid.UUID]:
    now = now or utcnow()
    table = OutboxMessage.__table__
    with unit_of_work() as session:
        return list(
            session.scalars(
                sa.select(table.c.id).where(*_due(table, now)).order_by(table.c.next_attempt_at).limit(limit)
            )
        )


def bury_abandoned(now: datetime | None = None) -> int:
    """Dead-letter messages whose last lease ran out with no attempts left: their worker died mid-delivery."""
    now = now or utcnow()
    table = OutboxMessage.__table__
    with unit_of_work() as session:
        result = session.execute(
            sa.update(table)
            .where(
                table.c.status == PENDING,
                table.c.attempts >= table.c.max_attempts,
                table.c.locked_until.is_not(None),
                table.c.locked_until <= now,
            )
            .values(status=DEAD, locked_until=None, last_error="lease expired on the last attempt (worker lost)")
        )
    return result.rowcount
