"""Logs, metrics and request tracing shared by every route."""

from app.observability.hooks import init_observability

__all__ = ["init_observability"]
