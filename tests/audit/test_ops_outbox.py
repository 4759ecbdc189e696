"""Operators see dead letters over HTTP (never their payloads) and retry them; every retry is audited."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.db import unit_of_work
from app.extensions import db
from app.outbox.handlers import HTTP_POST
from app.outbox.models import DEAD, OutboxMessage
from app.outbox.service import enqueue
from tests.audit.conftest import AUDITOR, entries, headers_for

PHONE = "13800138000"


@pytest.fixture
def webhook_url(app):
    return app.config["DEPARTMENT_SYSTEM_BASE_URL"] + "/gjj/webhooks"


def twin_fails(sandbox_url, times, status):
    requests.put(
        f"{sandbox_url}/_control/faults/department", json={"mode": "fail", "times": times, "status": status}, timeout=5
    ).raise_for_status()


def twin_heals(sandbox_url):
    requests.delete(f"{sandbox_url}/_control/faults/department", timeout=5).raise_for_status()


@pytest.fixture
def dead_letter(app_ctx, sandbox_url, webhook_url):
    """The receiver refuses (400): a refusal is dead at its first attempt."""
    twin_fails(sandbox_url, times=1, status=400)
    with unit_of_work():
        message = enqueue(HTTP_POST, webhook_url, {"event": "bill.paid", "phone": PHONE})
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == DEAD
    return message.id


def retry(client, headers, message_id):
    return client.post(f"/api/v1/ops/outbox/{message_id}/retry", headers=headers)


def test_dead_letters_are_listed_without_their_payload(client, dead_letter, webhook_url, as_operator):
    response = client.get("/api/v1/ops/outbox", headers=as_operator)
    assert response.status_code == 200
    [shown] = response.json
    assert shown["id"] == str(dead_letter) and shown["status"] == "dead"
    assert (shown["topic"], shown["destination"]) == (HTTP_POST, webhook_url)
    assert (shown["attempts"], shown["max_attempts"]) == (1, 8)
    assert "400" in shown["last_error"]
    assert shown["payload_keys"] == ["event", "phone"] and "payload" not in shown
    assert shown["created_at"].endswith("+08:00") and shown["next_attempt_at"]
    assert PHONE not in response.get_data(as_text=True)
    assert client.get("/api/v1/ops/outbox?status=pending", headers=as_operator).json == []
    assert client.get("/api/v1/ops/outbox?status=lost", headers=as_operator).status_code == 422


def test_a_retried_dead_letter_is_delivered_and_the_retry_recorded(
    client, dead_letter, sandbox_url, webhook_url, as_operator
):
    twin_heals(sandbox_url)
    response = retry(client, as_operator, dead_letter)
    assert response.status_code == 200
    assert response.json["status"] == "delivered", "dispatched after the commit (tasks run inline in tests)"
    assert len(requests.get(webhook_url, timeout=5).json()["items"]) == 1
    [entry] = entries(action="outbox.retry")
    assert (entry.actor_id, entry.object_type, entry.object_id) == ("op-1", "outbox_message", str(dead_letter))
    assert (entry.outcome, entry.details) == ("ok", {"topic": HTTP_POST})
    assert client.get("/api/v1/ops/outbox", headers=as_operator).json == [], "no dead letters left"


def test_retrying_a_message_that_is_not_dead_is_a_conflict(client, dead_letter, sandbox_url, as_operator):
    twin_fails(sandbox_url, times=None, status=503)  # the receiver is still down: the retry waits for its backoff
    assert retry(client, as_operator, dead_letter).json["status"] == "pending"
    again = retry(client, as_operator, dead_letter)
    assert (again.status_code, again.json["error"]["code"]) == (409, "OUTBOX_NOT_DEAD")
    unknown = retry(client, as_operator, "00000000-0000-4000-8000-000000000000")
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "OUTBOX_MESSAGE_NOT_FOUND")
    assert [(e.outcome, e.details) for e in entries(action="outbox.retry")] == [
        ("ok", {"topic": HTTP_POST}),
        ("failed", {"code": "OUTBOX_NOT_DEAD"}),
        ("failed", {"code": "OUTBOX_MESSAGE_NOT_FOUND"}),
    ]


def test_operators_racing_to_retry_one_dead_letter_retry_it_once(app, dead_letter, sandbox_url, as_operator):
    twin_heals(sandbox_url)

    def race(_):
        return retry(app.test_client(), as_operator, dead_letter).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(race, range(10)))
    assert sorted(statuses) == [200] + [409] * 9
    assert [e.outcome for e in entries(action="outbox.retry")].count("ok") == 1
    assert len(requests.get(app.config["DEPARTMENT_SYSTEM_BASE_URL"] + "/gjj/webhooks", timeout=5).json()["items"]) == 1


def test_an_auditor_cannot_touch_the_outbox_and_the_attempt_is_recorded(client, dead_letter):
    auditor = headers_for(AUDITOR)
    assert client.get("/api/v1/ops/outbox", headers=auditor).status_code == 403
    assert retry(client, auditor, dead_letter).status_code == 403
    assert [(e.action, e.object_id, e.actor_id) for e in entries(outcome="denied")] == [
        ("outbox.list", None, "audit-1"),
        ("outbox.retry", str(dead_letter), "audit-1"),
    ]
    assert db.session.get(OutboxMessage, dead_letter).status == DEAD
