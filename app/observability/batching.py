"""A log handler that writes lines in batches: one write per ~16 KB or per second, not one per request.

Used for the access log only, where a write per request costs more than the request itself under
load. Lines wait at most a second; they are flushed at exit. Errors go to the root handler at once.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref

_handlers: weakref.WeakSet = weakref.WeakSet()
_flusher_started = threading.Lock()


class BatchingStreamHandler(logging.StreamHandler):
    def __init__(self, stream, max_bytes: int = 16384, max_delay: float = 1.0):
        super().__init__(stream)
        self.max_bytes, self.max_delay = max_bytes, max_delay
        self._pending: list[str] = []
        self._size = 0
        self._oldest = 0.0
        _handlers.add(self)
        _start_flusher()

    def emit(self, record: logging.LogRecord) -> None:  # called with self.lock held
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - logging must never break the request
            self.handleError(record)
            return
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(line)
        self._size += len(line)
        if self._size >= self.max_bytes or time.monotonic() - self._oldest >= self.max_delay:
            self._write_pending()

    def flush(self) -> None:
        with self.lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        lines, self._pending, self._size = "".join(self._pending), [], 0
        try:
            self.stream.write(lines)
            self.stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed stream at shutdown must not raise
            pass


def _start_flusher() -> None:
    """One daemon thread per process flushes every handler twice a second, so a quiet server holds nothing."""
    if not _flusher_started.acquire(blocking=False):
        return

    def loop():
        while True:
            time.sleep(0.5)
            for handler in list(_handlers):
                handler.flush()

    threading.Thread(target=loop, name="log-flusher", daemon=True).start()


def _after_fork_in_child() -> None:
    # A forked child (gunicorn --preload, Celery prefork) has the handlers but not the thread.
    global _flusher_started
    _flusher_started = threading.Lock()
    if _handlers:
        _start_flusher()


os.register_at_fork(after_in_child=_after_fork_in_child)
