"""Outside the embedded default, tasks go through the Redis broker to a real Celery worker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.db import unit_of_work
from app.extensions import db
from app.outbox.handlers import HTTP_POST
from app.outbox.models import DELIVERED, OutboxMessage
from app.outbox.service import enqueue
from tests.conftest import environ_for_tests

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_delivers_an_outbox_message_through_the_redis_broker(make_app, sandbox_url):
    env = environ_for_tests(CELERY_EAGER="0", DEPARTMENT_SYSTEM_BASE_URL=f"{sandbox_url}/department")
    broker_app = make_app(**env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app.jobs.worker", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    webhook = f"{sandbox_url}/department/rsj/webhooks"
    try:
        with broker_app.app_context():
            with unit_of_work():
                message = enqueue(HTTP_POST, webhook, {"event": "via-broker"})
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline:
                db.session.expire_all()
                status = db.session.get(OutboxMessage, message.id).status
                if status == DELIVERED:
                    break
                time.sleep(0.2)
            db.session.remove()
        assert status == DELIVERED
        assert [d["body"] for d in requests.get(webhook, timeout=5).json()["items"]] == [{"event": "via-broker"}]
    finally:
        worker.terminate()
        worker.wait(20)
