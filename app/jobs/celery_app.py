"""The Celery app. Tasks run inside a Flask app context, so they use the same db and config."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask, has_app_context

_flask_app: Flask | None = None


class FlaskTask(Task):
    def __call__(self, *args, **kwargs):
        if has_app_context() or _flask_app is None:
            return self.run(*args, **kwargs)
        with _flask_app.app_context():
            return self.run(*args, **kwargs)


celery = Celery("city_services", task_cls=FlaskTask)


def init_celery(app: Flask) -> None:
    global _flask_app
    _flask_app = app
    from app.jobs.schedule import beat_schedule

    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_always_eager=app.config["CELERY_EAGER"],
        task_ignore_result=True,
        # A task is acknowledged after it ran, so a worker that dies mid-task does not lose it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        timezone="Asia/Shanghai",
        worker_hijack_root_logger=False,  # keep our JSON log lines in workers too
        beat_schedule=beat_schedule(app.config),
    )
    app.extensions["celery"] = celery
