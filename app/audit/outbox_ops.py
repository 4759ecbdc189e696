"""Operators retrying outbox dead letters over HTTP, as `flask outbox retry` does, each retry audited."""

from __future__ import annotations

import uuid

from app.audit.service import record, record_now
from app.db import unit_of_work
from app.errors import AppError
from app.outbox.models import OutboxMessage
from app.outbox.service import retry_dead


def retry(message_id: uuid.UUID) -> OutboxMessage:
    """Give a dead letter a fresh set of attempts. The retry and its audit entry commit together;
    a refused retry (unknown, not dead) is recorded as failed."""
    try:
        with unit_of_work():
            message = retry_dead(message_id)  # joins this unit of work: one commit for both
            record("outbox.retry", "outbox_message", message_id, details={"topic": message.topic})
    except AppError as error:
        record_now("outbox.retry", "outbox_message", message_id, outcome="failed", details={"code": error.code})
        raise
    return message
