"""Celery tasks of payments (beat entries in app/jobs/schedule.py)."""

from __future__ import annotations

from app.extensions import celery
from app.payments import jobs, reconcile, settlement  # noqa: F401 - settlement registers its outbox handler


@celery.task(name="payments.expire", ignore_result=True)
def expire() -> dict:
    return jobs.expire_due()


@celery.task(name="payments.sync_quiet", ignore_result=True)
def sync_quiet() -> int:
    return jobs.sync_quiet()


@celery.task(name="payments.push_refunds", ignore_result=True)
def push_refunds() -> int:
    return jobs.push_refunds()


@celery.task(name="payments.reconcile_yesterday", ignore_result=True)
def reconcile_yesterday() -> dict:
    """Hourly; reconciles yesterday once the statements are out, each channel once (reconcile.py)."""
    return reconcile.reconcile_yesterday()
