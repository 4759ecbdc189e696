"""Periodic jobs run by Celery beat (`make beat`); each domain adds its entries here."""

from __future__ import annotations

from datetime import timedelta


def beat_schedule(config) -> dict:
    return {
        "outbox-sweep": {
            "task": "outbox.sweep",
            "schedule": timedelta(seconds=config["OUTBOX_SWEEP_SECONDS"]),
        },
        "identity-purge-sessions": {"task": "identity.purge_sessions", "schedule": timedelta(hours=1)},
        "catalog-flush-uses": {"task": "catalog.flush_uses", "schedule": timedelta(minutes=5)},
        "payments-expire": {"task": "payments.expire", "schedule": timedelta(minutes=1)},
        "payments-sync-quiet": {"task": "payments.sync_quiet", "schedule": timedelta(minutes=1)},
        "payments-push-refunds": {"task": "payments.push_refunds", "schedule": timedelta(minutes=2)},
        # Hourly, not a crontab: the embedded beat knows only timedeltas (and runs each entry at start), and
        # a day whose statement was not out yet must be tried again. The task itself waits for 10:30 Beijing
        # and reconciles each channel's yesterday once (it remembers the days done in Redis).
        "payments-reconcile": {"task": "payments.reconcile_yesterday", "schedule": timedelta(hours=1)},
    }
