"""Entry point for `celery -A app.jobs.worker worker|beat`."""

from app import create_app
from app.jobs.celery_app import celery

flask_app = create_app()

__all__ = ["celery", "flask_app"]
