"""Celery tasks of the outbox: deliver one message now; sweep for due ones (beat)."""

from __future__ import annotations

import uuid

from app.extensions import celery
from app.outbox import delivery, handlers  # noqa: F401 - handlers register their topics on import


@celery.task(name="outbox.deliver", ignore_result=True)
def deliver_message(message_id: str) -> str:
    return delivery.deliver(uuid.UUID(message_id))


@celery.task(name="outbox.sweep", ignore_result=True)
def sweep() -> int:
    """Hand every due message to a worker; the claim in deliver() keeps it to one at a time."""
    ids = delivery.due_message_ids()
    for message_id in ids:
        deliver_message.delay(str(message_id))
    return len(ids)
