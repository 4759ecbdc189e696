"""gunicorn settings for every environment; numbers come from the environment (docs/deploy.md)."""

import gc
import multiprocessing
import os
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads, not gevent: a worker's threads wait on departments' clouds (50 ms and more) with the GIL released
# and no database connection held, so 32 of them keep the CPU busy while citizens wait on slow clouds.
# Measured (scripts/bench_inquiry.py, 2 cores): 2 workers x 64 threads gave a p99 of 200-300 ms on the
# uncached inquiry, 4 x 32 gave 100-160 ms: fewer threads per interpreter contend less for the GIL.
threads = int(os.environ.get("WEB_THREADS", "32"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# One listening socket per worker (SO_REUSEPORT): the kernel spreads connections evenly, instead of
# whichever worker wakes first taking most keep-alive connections and leaving the others idle.
reuse_port = True
accesslog = None  # the app writes its own JSON access line with the request id
errorlog = "-"
# Recycle workers now and then, so a slow leak never takes a node down.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "50000"))
max_requests_jitter = 5000

# Metrics from all workers add up through files in this folder (prometheus_client multiprocess mode).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="city-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # `make run` has no Celery beat: the embedded default runs the schedule in-process.
    if os.environ.get("EMBEDDED_SERVER") == "1" and worker.wsgi.config.get("CELERY_EAGER"):
        from app.jobs.embedded_beat import start_embedded_beat

        start_embedded_beat(worker.wsgi)
    # The app, its modules and the catalog are ~470,000 objects that live as long as the worker. Left
    # to the collector, every full collection walks them all: 200 ms with the worker's threads stopped,
    # the first one a few seconds after start, and 6% of a cached inquiry's CPU overall. Frozen, they
    # are never scanned (the gc.freeze documentation's own use). Measured with scripts/bench_inquiry.py.
    gc.freeze()
