"""The outbox delivers what was committed, once, and nothing that was rolled back."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from app.clock import utcnow
from app.db import unit_of_work
from app.extensions import db
from app.outbox import delivery
from app.outbox.handlers import HTTP_POST
from app.outbox.models import DEAD, DELIVERED, PENDING, OutboxMessage
from app.outbox.service import enqueue, list_messages, retry_dead
from app.outbox.tasks import sweep
from tests.factories import make_district


@pytest.fixture
def webhook_url(app):
    return app.config["DEPARTMENT_SYSTEM_BASE_URL"] + "/gjj/webhooks"


def received(webhook_url):
    items = requests.get(webhook_url, timeout=5).json()["items"]
    # The twin drops repeats of a key it already has; a repeat at all means we sent something twice.
    assert all(item["repeats"] == 0 for item in items), items
    return items


def fail_twin(sandbox_url, times, status=503):
    response = requests.put(
        f"{sandbox_url}/_control/faults/department", json={"mode": "fail", "times": times, "status": status}, timeout=5
    )
    response.raise_for_status()


def reload(message_id) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def later(minutes=120):
    return utcnow() + timedelta(minutes=minutes)


def test_committed_message_is_delivered_after_commit_with_its_key(app_ctx, webhook_url):
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "service.approved", "code": "gjj-balance"})
    got = received(webhook_url)
    assert [d["idempotency_key"] for d in got] == [message.idempotency_key]
    assert got[0]["body"] == {"event": "service.approved", "code": "gjj-balance"}
    assert reload(message.id).status == DELIVERED


def test_receiver_failing_three_times_then_succeeding_gets_it_once(app_ctx, sandbox_url, webhook_url):
    fail_twin(sandbox_url, times=3)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "bill.paid"})
    # First attempt ran at commit and failed; each retry waits longer than the one before.
    waits = []
    for _ in range(3):
        row = reload(message.id)
        waits.append(row.next_attempt_at)
        assert delivery.deliver(message.id, now=later(24 * 60)) in {"retry", "delivered"}
    row = reload(message.id)
    assert row.status == DELIVERED
    assert row.attempts == 4
    assert row.delivered_at is not None and row.last_error is None
    assert len(received(webhook_url)) == 1
    assert requests.get(f"{sandbox_url}/_control/faults", timeout=5).json()["department"]["served"] == 3


def test_backoff_grows_and_is_capped(app):
    with app.app_context():
        base = app.config["OUTBOX_BACKOFF_SECONDS"]
        assert base * 0.75 <= delivery.backoff_seconds(1) <= base
        assert base * 4 * 0.75 <= delivery.backoff_seconds(3) <= base * 4
        assert delivery.backoff_seconds(50) <= app.config["OUTBOX_BACKOFF_MAX_SECONDS"]


def test_a_day_of_retries_takes_42_attempts_however_the_jitter_falls(app, monkeypatch):
    # The number docs/department-contract.md promises webhook receivers, worked out from the backoff itself.
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: low)  # every wait as short as it can be

    def shortest_span(attempts):  # from the first attempt to the last
        return sum(delivery.backoff_seconds(n) for n in range(1, attempts))

    with app.app_context():
        attempts = delivery.attempts_covering(timedelta(days=1))
        assert attempts == 42
        assert shortest_span(attempts) >= 24 * 3600 > shortest_span(attempts - 1)
        assert app.config["OUTBOX_MAX_ATTEMPTS"] == 8 and shortest_span(8) < 15 * 60, "why the default is not enough"


def test_a_message_can_have_its_own_number_of_attempts(app, sandbox_url, webhook_url):
    fail_twin(sandbox_url, times=None)
    with app.app_context():
        with unit_of_work():
            patient = enqueue(HTTP_POST, webhook_url, {"event": "patient"}, max_attempts=12)
            usual = enqueue(HTTP_POST, webhook_url, {"event": "usual"})
        for n in range(1, 14):
            for message in (patient, usual):
                delivery.deliver(message.id, now=later(24 * 60 * n))
        assert (reload(usual.id).status, reload(usual.id).attempts) == (DEAD, app.config["OUTBOX_MAX_ATTEMPTS"])
        assert (reload(patient.id).status, reload(patient.id).attempts) == (DEAD, 12)
        with pytest.raises(ValueError), unit_of_work():
            enqueue(HTTP_POST, webhook_url, {"event": "never"}, max_attempts=0)


def test_message_is_not_retried_before_it_is_due(app_ctx, sandbox_url, webhook_url):
    fail_twin(sandbox_url, times=1)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"n": 1})
    assert delivery.deliver(message.id) == "skipped"
    assert sweep.apply().get() == 0
    assert reload(message.id).attempts == 1


def test_rolled_back_message_is_never_delivered(app_ctx, webhook_url):
    with pytest.raises(RuntimeError), unit_of_work():
        enqueue(HTTP_POST, webhook_url, {"event": "never"})
        raise RuntimeError("the caller's work failed")
    assert db.session.query(OutboxMessage).count() == 0
    assert sweep.apply().get() == 0
    assert received(webhook_url) == []


def test_message_and_data_commit_together(app_ctx, webhook_url):
    make_district("370403", "薛城区")
    with pytest.raises(RuntimeError), unit_of_work() as session:
        from app.city.models import District

        session.get(District, "370403").name = "改名"
        enqueue(HTTP_POST, webhook_url, {"event": "renamed"})
        raise RuntimeError("boom")
    from app.city.models import District

    assert db.session.get(District, "370403").name == "薛城区"
    assert received(webhook_url) == []


def test_gives_up_after_max_attempts_and_is_listed_then_retried(app, sandbox_url, webhook_url):
    fail_twin(sandbox_url, times=None)
    with app.app_context():
        with unit_of_work():
            message = enqueue(HTTP_POST, webhook_url, {"event": "x"})
        outcomes = [delivery.deliver(message.id, now=later(24 * 60 * n)) for n in range(1, 10)]
        assert outcomes.count("retry") == app.config["OUTBOX_MAX_ATTEMPTS"] - 2
        assert "dead" in outcomes and outcomes[-1] == "skipped"
        row = reload(message.id)
        assert row.status == DEAD and row.attempts == app.config["OUTBOX_MAX_ATTEMPTS"]
        assert "503" in row.last_error
        assert [m.id for m in list_messages(DEAD)] == [message.id]

        requests.delete(f"{sandbox_url}/_control/faults/department", timeout=5)
        retry_dead(message.id)
        assert reload(message.id).status == DELIVERED
        assert len(received(webhook_url)) == 1


def test_a_refusal_is_dead_at_once(app_ctx, sandbox_url, webhook_url):
    fail_twin(sandbox_url, times=1, status=400)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "refused"})
    row = reload(message.id)
    assert row.status == DEAD and row.attempts == 1


def test_many_workers_racing_deliver_a_message_once(app, sandbox_url, webhook_url):
    """Twelve threads (own connections) try to deliver the same due messages at the same moment."""
    fail_twin(sandbox_url, times=5)
    with app.app_context():
        ids = []
        for n in range(5):
            with unit_of_work():
                ids.append(enqueue(HTTP_POST, webhook_url, {"n": n}).id)
        requests.delete(f"{sandbox_url}/_control/faults/department", timeout=5)

    def race(message_id):
        with app.app_context():
            try:
                return delivery.deliver(message_id, now=later())
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(race, [i for i in ids for _ in range(12)]))
    assert outcomes.count("delivered") == 5
    assert outcomes.count("skipped") == 55
    assert len(received(webhook_url)) == 5
    with app.app_context():
        assert {reload(i).status for i in ids} == {DELIVERED}


def test_an_expired_lease_lets_another_worker_deliver_and_fences_the_first(app_ctx, webhook_url, monkeypatch):
    from app.outbox import tasks

    monkeypatch.setattr(tasks.deliver_message, "delay", lambda *a: None)  # nobody picks it up at commit
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "slow worker"})
    first = delivery._claim(message.id, utcnow())  # a worker takes it, then hangs
    assert delivery.deliver(message.id) == "skipped", "the lease still holds"
    second = delivery._claim(message.id, later(10))  # the lease ran out: another worker takes over
    assert second is not None and second.attempts == first.attempts + 1
    delivery._record(first, {"status": DEAD, "last_error": "late news from the hung worker"})
    row = reload(message.id)
    assert row.status == PENDING and row.locked_until is not None, "a stale worker must not overwrite"
    delivery._record(second, {"status": DELIVERED, "delivered_at": utcnow()})
    assert reload(message.id).status == DELIVERED


def test_a_message_whose_worker_dies_on_the_last_attempt_is_dead_lettered(app_ctx, webhook_url, monkeypatch):
    from app.outbox import tasks

    monkeypatch.setattr(tasks.deliver_message, "delay", lambda *a: None)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "poison"})
        message.attempts = message.max_attempts - 1
    assert delivery._claim(message.id, utcnow()) is not None  # last attempt; the worker dies
    assert delivery.deliver(message.id, now=later(10)) == "skipped", "no attempts left"
    assert delivery.bury_abandoned(now=later(10)) == 1
    row = reload(message.id)
    assert row.status == DEAD and "worker lost" in row.last_error


def test_sweeping_twice_does_not_queue_the_same_message_twice(app_ctx, webhook_url, monkeypatch):
    from app.outbox import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_message, "delay", queued.append)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "backlog"})
    assert sweep.apply().get() == 1
    assert sweep.apply().get() == 0
    assert queued == [str(message.id)] * 2  # once at commit, once by the first sweep


def test_dispatch_failure_leaves_the_row_for_the_sweeper(app_ctx, webhook_url, monkeypatch):
    from app.outbox import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_message, "delay", broker_down)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "late"})
    assert reload(message.id).status == PENDING
    monkeypatch.undo()
    assert sweep.apply().get() == 1
    assert reload(message.id).status == DELIVERED
