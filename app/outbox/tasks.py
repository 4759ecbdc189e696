"""Celery tasks of the outbox: deliver one message now; sweep for due ones (beat)."""

from __future__ import annotations

import uuid

from flask import current_app

from app.extensions import celery, redis
from app.outbox import delivery, handlers  # noqa: F401 - handlers register their topics on import


@celery.task(name="outbox.deliver", ignore_result=True)
def deliver_message(message_id: str) -> str:
    return delivery.deliver(uuid.UUID(message_id))


@celery.task(name="outbox.sweep", ignore_result=True)
def sweep() -> int:
    """Hand every due message to a worker; the claim in deliver() keeps it to one at a time.

    A short Redis mark per message keeps a backed-up queue from filling with copies of the same id.
    """
    delivery.bury_abandoned()
    dispatch_lease = max(1, int(current_app.config["OUTBOX_SWEEP_SECONDS"] * 3))
    sent = 0
    for message_id in delivery.due_message_ids():
        if redis.set(f"outbox:dispatched:{message_id}", 1, nx=True, ex=dispatch_lease):
            deliver_message.delay(str(message_id))
            sent += 1
    return sent
