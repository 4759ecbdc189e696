"""Batched route limits (app/identity/batched_counts.py): counted in the worker while a caller is well
within them, in Redis at once past that, against the real Redis."""

import multiprocessing
import threading
import time

from flask import Flask

from app.errors import register_error_handlers
from app.extensions import redis
from app.identity.batched_counts import WORKERS_KEY, BatchedCounts, batched_counts
from app.rate_limits import init_rate_limits, rate_limit
from tests.conftest import REDIS_URL

KEY = "ratelimit:test:batched:{n}"


def build_app(seconds: float = 0.05) -> Flask:
    app = Flask("batched")
    app.config.update(
        RATELIMIT_DEFAULT="1000 per minute",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_BATCH_SECONDS=seconds,
        REDIS_URL=REDIS_URL,
        REDIS_TIMEOUT_SECONDS=1,
    )
    redis.init_app(app)
    register_error_handlers(app)

    @app.post("/busy")
    @rate_limit("30 per minute", batched=True)
    def busy():
        return {"ok": True}

    @app.post("/codes")
    @rate_limit("30 per minute")
    def codes():
        return {"sent": True}

    init_rate_limits(app)
    return app


def window(key: str, amount: int) -> tuple[str, int, int, float]:
    return (key, amount, 60, time.time() + 60)


def until_registered(counts: BatchedCounts, windows) -> None:
    """The first request of a worker is counted exactly and starts its batches; wait for the first one."""
    assert counts.admit(windows) is False
    counts.count_now(windows)
    deadline = time.time() + 5
    while not counts.admit([window(KEY.format(n="probe"), 10**6)]):
        assert time.time() < deadline, "the worker never registered"
        time.sleep(0.01)


def test_a_guest_gets_the_limit_exactly_from_one_worker_and_then_429(app):
    client = build_app().test_client()
    answers = [client.post("/busy", environ_base={"REMOTE_ADDR": "10.9.0.1"}).status_code for _ in range(30)]
    assert answers == [200] * 30
    refused = client.post("/busy", environ_base={"REMOTE_ADDR": "10.9.0.1"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "RATE_LIMITED" and int(refused.headers["Retry-After"]) >= 1
    other = client.post("/busy", environ_base={"REMOTE_ADDR": "10.9.0.2"})
    assert other.status_code == 200, "another address has its own count"


def test_requests_well_within_the_limit_reach_redis_in_a_batch_not_one_by_one(app):
    flask_app = build_app(seconds=0.05)
    with flask_app.app_context():
        counts = batched_counts(flask_app)
        key = KEY.format(n="batch")
        until_registered(counts, [window(key, 1000)])
        before = int(redis.get(key))
        admitted_here = sum(counts.admit([window(key, 1000)]) for _ in range(100))
        assert admitted_here == 100, "one worker, far from the limit: none needed Redis"
        assert int(redis.get(key)) == before, "not yet in Redis"
        deadline = time.time() + 5
        while int(redis.get(key)) != before + 100:
            assert time.time() < deadline, "the batch never reached Redis"
            time.sleep(0.01)
        assert redis.ttl(key) > 0, "the counter expires with its window"


def test_a_limit_not_declared_batched_is_counted_in_redis_at_once(app):
    flask_app = build_app()
    assert flask_app.test_client().post("/codes", environ_base={"REMOTE_ADDR": "10.9.0.3"}).status_code == 200
    with flask_app.app_context():
        keys = [key.decode() for key in redis.keys("ratelimit:*:codes:*")]
        assert len(keys) == 1 and int(redis.get(keys[0])) == 1


def test_past_half_the_limit_every_request_is_counted_in_redis(app):
    flask_app = build_app()
    with flask_app.app_context():
        counts = batched_counts(flask_app)
        key = KEY.format(n="half")
        windows = [window(key, 40)]
        until_registered(counts, windows)
        redis.incrby(key, 19)  # other workers' counts, added meanwhile
        counts.count_now(windows)  # this worker learns the total: 21, past half of 40
        assert counts.admit(windows) is False
        assert counts.count_now(windows) == [22]


def _hammer(amount: int, key: str, start: float, results) -> None:
    """One worker process: 8 threads send requests until refused, as the gate would count them."""
    app = build_app(seconds=0.02)
    with app.app_context():
        counts = batched_counts(app)
        counts.flush()  # registered before the others' first requests, as workers serving traffic are
        admitted, exact = [0], [0]
        lock = threading.Lock()

        def client():
            with app.app_context():
                while time.time() < start:
                    time.sleep(0.001)
                for _ in range(amount):
                    windows = [window(key, amount)]
                    if counts.admit(windows):
                        ok = True
                    else:
                        totals = counts.count_now(windows)
                        ok = totals is not None and totals[0] <= amount
                        with lock:
                            exact[0] += 1
                    with lock:
                        admitted[0] += ok
                    time.sleep(0.002)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put((admitted[0], exact[0]))


def test_four_workers_hammering_one_caller_let_through_the_limit_and_at_most_half_as_many_more(app):
    amount, key = 400, KEY.format(n="hammer")
    with build_app().app_context():
        redis.delete(WORKERS_KEY)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    # Every worker registered before the first request, and its registry read older than a second: its
    # first request is counted exactly and its first batch reads how many workers there are.
    start = time.time() + 2.0
    workers = [context.Process(target=_hammer, args=(amount, key, start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    admitted = sum(a for a, _ in outcomes)
    exact = sum(e for _, e in outcomes)
    # 4 workers x 8 threads x 400 tries = 12,800 requests at one caller with a limit of 400.
    assert amount <= admitted <= amount * 3 // 2, admitted
    assert exact < 4 * 8 * amount, "some were counted in the worker"
    print(f"admitted {admitted} of a limit of {amount}; {exact} counted in Redis at once")
    with build_app().app_context():
        assert int(redis.get(key)) >= admitted, "Redis holds every request let through"
