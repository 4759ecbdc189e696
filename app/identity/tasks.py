"""Celery tasks of identity."""

from __future__ import annotations

from app.extensions import celery
from app.identity.purge import purge_sessions


@celery.task(name="identity.purge_sessions", ignore_result=True)
def purge() -> dict[str, int]:
    return purge_sessions()
