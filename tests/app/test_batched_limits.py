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
    flask_app = build_app(seconds=0.5)
    with flask_app.app_context():
        counts = batched_counts(flask_app)
        redis.delete(WORKERS_KEY)  # no other test's workers in the share
        key = KEY.format(n="batch")
        until_registered(counts, [window(key, 10_000)])
        before = int(redis.get(key))
        admitted_here = sum(counts.admit([window(key, 10_000)]) for _ in range(100))
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


def _hammer(amount: int, key: str, ready, go, results) -> None:
    """One worker process: 8 threads send requests until refused, as the gate would count them."""
    app = build_app(seconds=0.02)
    with app.app_context():
        counts = batched_counts(app)
        counts.flush()  # registered before the others' first requests, as workers serving traffic are
        ready.put(True)
        go.wait(30)
        admitted, exact = [0], [0]
        lock = threading.Lock()

        def client():
            with app.app_context():
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
        counts.flush()  # as a worker's exit does
        results.put((admitted[0], exact[0]))


def test_four_workers_hammering_one_caller_let_through_the_limit_and_at_most_half_as_many_more(app):
    amount, key = 400, KEY.format(n="hammer")
    with build_app().app_context():
        redis.delete(WORKERS_KEY)
    # Spawned, not forked: this test process has threads (earlier tests' batches) a fork could catch
    # holding a lock.
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    workers = [context.Process(target=_hammer, args=(amount, key, ready, go, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=60)
    # Every worker registered, and its registry read older than a second: its first request is counted
    # exactly and its first batch reads that there are four.
    time.sleep(1.2)
    go.set()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    admitted = sum(a for a, _ in outcomes)
    exact = sum(e for _, e in outcomes)
    # 4 workers x 8 threads x 400 tries = 12,800 requests at one caller with a limit of 400.
    assert amount <= admitted <= amount * 3 // 2, admitted
    assert exact < 4 * 8 * amount - 50, "some were counted in the worker"
    print(f"admitted {admitted} of a limit of {amount}; {exact} counted in Redis at once")
    with build_app().app_context():
        assert int(redis.get(key)) == 4 * 8 * amount, "Redis counted every request once, refused ones too"


class _Interleaved:
    """Our Redis client, but the first pipeline sent runs `meanwhile` just before it goes out."""

    def __init__(self, client, meanwhile):
        self.client, self.meanwhile, self.armed = client, meanwhile, True

    def pipeline(self, **options):
        pipe = self.client.pipeline(**options)
        send = pipe.execute

        def execute():
            if self.armed:
                self.armed = False
                self.meanwhile()
            return send()

        pipe.execute = execute
        return pipe


def test_a_request_counted_at_once_while_a_batch_is_on_its_way_is_counted_once(app, monkeypatch):
    import app.identity.batched_counts as module

    flask_app = build_app(seconds=60)  # batches only when the test says
    with flask_app.app_context():
        counts = batched_counts(flask_app)
        redis.delete(WORKERS_KEY)
        counts.flush()  # registered: the only worker
        key = KEY.format(n="race")
        windows = [window(key, 1000)]
        assert all(counts.admit(windows) for _ in range(10))
        monkeypatch.setattr(module, "redis", _Interleaved(redis.client, lambda: counts.count_now(windows)))
        counts.flush()
        assert int(redis.get(key)) == 11, "ten in the batch and one counted at once"
        monkeypatch.undo()
        counts.flush()
        assert int(redis.get(key)) == 11, "nothing was left pending twice"


def test_requests_let_through_while_the_first_is_counted_at_once_stay_counted(app, monkeypatch):
    import app.identity.batched_counts as module

    flask_app = build_app(seconds=60)
    with flask_app.app_context():
        counts = batched_counts(flask_app)
        redis.delete(WORKERS_KEY)
        counts.flush()
        key = KEY.format(n="first")
        windows = [window(key, 1000)]
        # The first request for this caller goes to Redis; meanwhile another thread lets five through here.
        admitted = []
        meanwhile = lambda: admitted.extend(counts.admit(windows) for _ in range(5))  # noqa: E731
        monkeypatch.setattr(module, "redis", _Interleaved(redis.client, meanwhile))
        assert counts.count_now(windows) == [1]
        assert admitted == [True] * 5
        monkeypatch.undo()
        counts.flush()
        assert int(redis.get(key)) == 6, "the five let through meanwhile reached Redis too"
