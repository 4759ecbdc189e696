"""JSON log lines on stderr, each carrying the request id when there is one."""

from __future__ import annotations

import json
import logging
import sys
import time

from pythonjsonlogger.json import JsonFormatter

from app.observability.batching import BatchingStreamHandler
from app.request_context import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


class AccessLineFormatter(logging.Formatter):
    """The access line's fixed fields straight to JSON, the same line json_formatter() writes: its
    generic walk over every attribute of the record cost more than the rest of a cached answer's logging."""

    FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "remote_addr")

    def __init__(self):
        super().__init__()
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name}
        line["message"] = record.getMessage()
        for name in self.FIELDS:
            line[name] = getattr(record, name, None)
        return json.dumps(line, ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        second, text = self._second
        if int(record.created) != second:  # strftime once a second, not once a line
            second, text = int(record.created), time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created))
            self._second = (second, text)
        return f"{text},{int(record.msecs):03d}"


def configure_logging(level: str) -> None:
    """Replace the root handlers once per process with one JSON handler."""
    # Record fields we never print, which logging gathers for every record (the Python logging
    # docs' "Optimization" switches): caller file and line, thread and process names. Not the process
    # id: gunicorn's own lines print it (%(process)d), and a worker's exit line would fail without it.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    if any(getattr(h, "_city_services", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler._city_services = True
    root.handlers = [handler]
    root.setLevel(level)
    # One JSON line per request: batched, so a busy worker is not paying a write() per request.
    access = logging.getLogger("app.access")
    access.handlers = [BatchingStreamHandler(sys.stderr)]
    access.handlers[0].setFormatter(AccessLineFormatter())
    access.propagate = False
    # Alembic announces every plugin it loads; only its migration lines are worth reading.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
