"""The sandbox twins behind a fixed delay (BENCH_TWIN_DELAY_MS, default 50), as a slow department system
for scripts/bench_inquiry.py. Served by gunicorn like our own app, in processes of its own."""

import os
import time

from integrations.sandbox import create_sandbox_app

_sandbox = create_sandbox_app()
DELAY_SECONDS = int(os.environ.get("BENCH_TWIN_DELAY_MS", "50")) / 1000


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/healthz":  # the bench's readiness probe, not delayed
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    time.sleep(DELAY_SECONDS)
    return _sandbox(environ, start_response)
