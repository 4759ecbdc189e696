"""The embedded default's stand-in for beat: one daemon thread runs the same schedule in-process."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from app.jobs.celery_app import celery

log = logging.getLogger(__name__)


def start_embedded_beat(app: Flask) -> threading.Thread:
    schedule = celery.conf.beat_schedule
    # Eager tasks log every success at INFO; every 10 s of "0 due messages" is noise here.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    next_run = dict.fromkeys(schedule, 0.0)

    def loop():
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if now < next_run[name]:
                    continue
                next_run[name] = now + entry["schedule"].total_seconds()
                try:
                    with app.app_context():
                        celery.tasks[entry["task"]].apply()
                except Exception:
                    log.exception("embedded beat job failed", extra={"job": name})
            time.sleep(1)

    thread = threading.Thread(target=loop, name="embedded-beat", daemon=True)
    thread.start()
    log.info("embedded beat started", extra={"jobs": sorted(schedule)})
    return thread
