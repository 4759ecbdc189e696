"""Celery tasks of the catalog."""

from __future__ import annotations

from app.catalog.usage import flush_uses
from app.extensions import celery


@celery.task(name="catalog.flush_uses", ignore_result=True)
def flush() -> int:
    return flush_uses()
