"""Celery wiring, the periodic-job schedule and the embedded stand-in for beat."""
