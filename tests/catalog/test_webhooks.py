"""A department's system gets a signed webhook, through the outbox, on each status change of its services."""

import hashlib
import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app.catalog import webhooks
from app.db import unit_of_work
from app.extensions import db
from app.identity.tokens import Caller
from app.outbox import delivery
from app.outbox.models import DELIVERED, PENDING, OutboxMessage
from app.outbox.tasks import sweep
from integrations.department_contract import signing
from tests.catalog.test_catalog_api import token
from tests.catalog.test_lifecycle import LINK
from tests.factories import make_department
from tests.servers import serving

RECEIVER = Path(__file__).resolve().parents[2] / "docs/examples/department_receiver.py"
DOC = Path(__file__).resolve().parents[2] / "docs/department-contract.md"
BASE = "/api/v1/catalog/services/gjj-hall/versions"


class Department:
    """The department's system: verifies each webhook like a contract call and records what it got."""

    def __init__(self):
        self.keys: dict[str, str] = {}
        self.deliveries: list[dict] = []
        self.refusals: list[str] = []
        self.nonces: set[str] = set()
        self.up, self.fail_after_reading = True, 0
        self.app = Flask("department-webhooks")
        self.app.add_url_rule("/city/events", view_func=self.receive, methods=["POST"])

    def _seen(self, nonce: str) -> bool:
        seen = nonce in self.nonces
        self.nonces.add(nonce)
        return seen

    def receive(self):
        if not self.up:
            return "down for maintenance", 503
        raw, key_id = request.get_data(), request.headers.get("X-City-Key-Id", "")
        try:
            if key_id not in self.keys:
                raise signing.ContractSignatureError("unknown_key")
            signing.verify(self.keys[key_id], "POST", request.path, raw, request.headers, seen_nonce=self._seen)
        except signing.ContractSignatureError as refused:
            self.refusals.append(refused.reason)
            return jsonify(ok=False, code="BAD_SIGNATURE"), 401
        self.deliveries.append(
            {
                "key_id": key_id,
                "idempotency_key": request.headers["Idempotency-Key"],
                "attempt": request.headers["X-Delivery-Attempt"],
                "event": json.loads(raw),
            }
        )
        if self.fail_after_reading:  # handled, but the answer is lost: we must send it again
            self.fail_after_reading -= 1
            return "oops", 500
        return jsonify(ok=True)

    def moves(self):
        return [
            (d["event"]["version"], d["event"]["action"], d["event"]["from"], d["event"]["to"]) for d in self.deliveries
        ]


@pytest.fixture
def people(app_ctx):
    make_department("gjj")
    make_department("jxw", name="枣庄市工业和信息化局", clouds=("industry",))
    return {
        "system": token(Caller("client", "client-gjj", scopes=frozenset({"catalog:write"}), department="gjj")),
        "clerk": token(Caller("staff", str(uuid.UUID(int=1)), roles=frozenset({"clerk"}), department="gjj")),
        "other": token(Caller("staff", str(uuid.UUID(int=2)), roles=frozenset({"clerk"}), department="jxw")),
        "operator": token(Caller("operator", str(uuid.UUID(int=3)), roles=frozenset({"operator"}))),
    }


@pytest.fixture
def department():
    department = Department()
    with serving(department.app) as url:
        department.url = f"{url}/city/events"
        yield department


def issue_key(client, people, department=None, who="system"):
    key = client.post("/api/v1/catalog/contract-keys", headers=people[who]).json
    if department is not None:
        department.keys[key["key_id"]] = key["secret"]
    return key["key_id"]


def set_url(client, people, url, who="system"):
    return client.put("/api/v1/catalog/webhook", json={"url": url}, headers=people[who])


def act(client, people, action, who, number=1):
    response = client.post(f"{BASE}/{number}/{action}", json={"comment": "好"}, headers=people[who])
    assert response.status_code == 200, response.json
    return response.json


def register(client, people):
    body = {"code": "gjj-hall", "cloud": "housing", "kind": "link", "content": LINK}
    assert client.post("/api/v1/catalog/services", json=body, headers=people["system"]).status_code == 201


def go_live(client, people, number=1):
    act(client, people, "submit", "clerk", number)
    act(client, people, "approve", "operator", number)
    act(client, people, "publish", "system", number)


def webhook_rows():
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.topic == webhooks.TOPIC).order_by(OutboxMessage.created_at)
    ).all()


def test_each_status_change_is_delivered_signed_with_the_departments_newest_key(client, people, department):
    first = issue_key(client, people, department)
    assert set_url(client, people, department.url + "/").json == {"url": department.url, "key_id": first}
    register(client, people)
    act(client, people, "submit", "clerk")
    act(client, people, "approve", "operator")
    second = issue_key(client, people, department, who="clerk")  # the newest live key signs from now on
    act(client, people, "publish", "system")
    act(client, people, "suspend", "operator")

    assert department.refusals == []
    assert department.moves() == [
        (1, "submit", "DRAFT", "SUBMITTED"),
        (1, "approve", "SUBMITTED", "APPROVED"),
        (1, "publish", "APPROVED", "LIVE"),
        (1, "suspend", "LIVE", "SUSPENDED"),
    ]
    assert [d["key_id"] for d in department.deliveries] == [first, first, second, second]
    event = department.deliveries[1]["event"]
    assert event["event"] == "service.status_changed" and event["comment"] == "好"
    assert (event["department"], event["service"]) == ("gjj", "gjj-hall") and event["at"].endswith("+08:00")
    keys = [d["idempotency_key"] for d in department.deliveries]
    assert len(set(keys)) == 4 and {d["attempt"] for d in department.deliveries} == {"1"}
    assert [row.status for row in webhook_rows()] == [DELIVERED] * 4


def test_the_same_move_twice_is_two_events_and_a_newer_version_retires_the_old_one(client, people, department):
    issue_key(client, people, department)
    set_url(client, people, department.url)
    register(client, people)
    go_live(client, people)
    for action in ("suspend", "resume", "suspend", "resume"):
        act(client, people, action, "system")
    assert client.post(f"{BASE}", json={}, headers=people["system"]).status_code == 201
    go_live(client, people, number=2)

    assert department.moves()[3:] == [
        (1, "suspend", "LIVE", "SUSPENDED"),
        (1, "resume", "SUSPENDED", "LIVE"),
        (1, "suspend", "LIVE", "SUSPENDED"),
        (1, "resume", "SUSPENDED", "LIVE"),
        (2, "submit", "DRAFT", "SUBMITTED"),
        (2, "approve", "SUBMITTED", "APPROVED"),
        (2, "publish", "APPROVED", "LIVE"),
        (1, "supersede", "LIVE", "RETIRED"),
    ]
    keys = [d["idempotency_key"] for d in department.deliveries]
    assert len(set(keys)) == len(keys) == 11


def test_a_department_without_a_url_gets_nothing_and_its_services_still_move(client, people, department):
    issue_key(client, people, department)
    register(client, people)
    go_live(client, people)
    set_url(client, people, department.url)
    assert client.delete("/api/v1/catalog/webhook", headers=people["clerk"]).status_code == 204
    act(client, people, "suspend", "system")
    assert client.get("/api/v1/catalog/webhook", headers=people["system"]).json["url"] is None
    assert department.deliveries == [] and webhook_rows() == []


def test_a_department_that_is_down_gets_it_when_it_is_back(client, people, department):
    issue_key(client, people, department)
    set_url(client, people, department.url)
    register(client, people)
    department.up = False
    act(client, people, "submit", "clerk")  # the move does not wait for the department

    (row,) = webhook_rows()
    assert (row.status, row.attempts) == (PENDING, 1) and "HTTP 503" in row.last_error
    assert "maintenance" not in row.last_error  # the department's answer stays out of our rows and logs
    department.up = True
    due_now(row)
    assert sweep() == 1
    (row,) = webhook_rows()
    assert (row.status, row.attempts) == (DELIVERED, 2)
    assert [(d["attempt"], d["idempotency_key"]) for d in department.deliveries] == [("2", row.idempotency_key)]


def test_a_department_down_for_half_a_day_still_gets_the_event(client, people, department, monkeypatch):
    # The doc promises at least a day of retries: 42 attempts (8, the outbox default, last about 10 minutes).
    waits, real_backoff = [], delivery.backoff_seconds

    def shortest_wait(attempts):  # the backoff as it is, with every wait as short as the jitter allows
        waits.append(real_backoff(attempts))
        return waits[-1]

    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: low)
    monkeypatch.setattr(delivery, "backoff_seconds", shortest_wait)
    issue_key(client, people, department)
    set_url(client, people, department.url)
    register(client, people)
    department.up = False
    act(client, people, "submit", "clerk")
    while sum(waits) < 12 * 3600:  # twelve hours of retries go by, the department down all along
        (row,) = webhook_rows()
        assert row.status == PENDING, f"dead after {row.attempts} attempts, {sum(waits) / 3600:.1f} h"
        due_now(row)
        assert delivery.deliver(row.id) == "retry"  # what the sweeper would start when it is due
    department.up = True
    (row,) = webhook_rows()
    assert row.max_attempts == 42 and "**42 attempts**" in DOC.read_text(encoding="utf-8")
    due_now(row)
    assert delivery.deliver(row.id) == "delivered"
    (row,) = webhook_rows()
    assert row.status == DELIVERED and department.moves() == [(1, "submit", "DRAFT", "SUBMITTED")]
    assert department.deliveries[0]["attempt"] == str(row.attempts) == str(len(waits) + 1)


def test_a_retried_delivery_carries_the_same_idempotency_key(client, people, department):
    issue_key(client, people, department)
    set_url(client, people, department.url)
    register(client, people)
    department.fail_after_reading = 1
    act(client, people, "submit", "clerk")
    due_now(*webhook_rows())
    sweep()

    first, again = department.deliveries
    assert first["idempotency_key"] == again["idempotency_key"] == webhook_rows()[0].idempotency_key
    assert (first["attempt"], again["attempt"]) == ("1", "2") and first["event"] == again["event"]
    assert department.refusals == []  # a fresh signature (and nonce) each attempt


def test_without_a_live_key_the_event_waits_for_one(client, people, department):
    set_url(client, people, department.url)
    assert client.get("/api/v1/catalog/webhook", headers=people["clerk"]).json["key_id"] is None
    register(client, people)
    act(client, people, "submit", "clerk")
    (row,) = webhook_rows()
    assert row.status == PENDING and "no live contract key" in row.last_error
    issue_key(client, people, department)
    due_now(row)
    sweep()
    assert department.moves() == [(1, "submit", "DRAFT", "SUBMITTED")]


def test_departments_see_and_set_only_their_own_url(client, people, department):
    set_url(client, people, department.url)
    assert client.get("/api/v1/catalog/webhook", headers=people["other"]).json == {"url": None, "key_id": None}
    assert set_url(client, people, "http://127.0.0.1:9/jxw", who="other").status_code == 200
    assert client.delete("/api/v1/catalog/webhook", headers=people["other"]).status_code == 204
    assert client.get("/api/v1/catalog/webhook", headers=people["system"]).json["url"] == department.url
    refused = client.get("/api/v1/catalog/webhook", headers=people["operator"])
    assert refused.status_code == 403
    actions = db.session.execute(sa.text("SELECT action, object_id FROM audit_log ORDER BY id")).all()
    assert [tuple(a) for a in actions] == [
        ("department.webhook_set", "gjj"),
        ("department.webhook_set", "jxw"),
        ("department.webhook_cleared", "jxw"),
    ]


@pytest.mark.parametrize(
    ("url", "local", "reason"),
    [
        ("ftp://127.0.0.1/x", True, "NOT_HTTPS"),
        ("http://127.0.0.1/x?token=1", True, "QUERY"),
        ("http://127.0.0.1:9/x", False, "NOT_HTTPS"),
        ("https://127.0.0.1/x", False, "INTERNAL_ADDRESS"),
    ],
)
def test_a_url_we_would_not_call_is_422_and_changes_nothing(client, people, monkeypatch, url, local, reason):
    set_url(client, people, "http://127.0.0.1:9/before")
    monkeypatch.setattr(webhooks, "local_endpoints_allowed", lambda: local)  # False: as in production
    refused = set_url(client, people, url)
    assert refused.status_code == 422
    error = refused.json["error"]
    assert (error["code"], error["details"]["reason"]) == ("INVALID_WEBHOOK_URL", reason)
    assert error["details"]["fields"]["url"] == [error["message"]]
    assert client.get("/api/v1/catalog/webhook", headers=people["system"]).json["url"] == "http://127.0.0.1:9/before"


def test_the_example_receiver_in_the_docs_accepts_our_webhooks_below_a_path_prefix(client, people):
    key = client.post("/api/v1/catalog/contract-keys", headers=people["system"]).json
    key_id, secret = key["key_id"], key["secret"]
    spec = importlib.util.spec_from_file_location("department_receiver", RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gateway = DispatcherMiddleware(Flask("root"), {"/city": module.create_app({key_id: secret})})
    with serving(gateway) as url:
        set_url(client, people, f"{url}/city/events")
        register(client, people)
        act(client, people, "submit", "clerk")
    assert [(row.status, row.last_error) for row in webhook_rows()] == [(DELIVERED, None)]


def due_now(*rows):
    """Time passes: the retries the outbox scheduled are due."""
    with unit_of_work() as s:
        s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows]))
            .values(next_attempt_at=sa.func.now())
        )


def test_the_documented_webhook_example_is_what_we_send():
    doc = (Path(__file__).resolve().parents[2] / "docs/department-contract.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 7. Status webhooks") :]
    raw = re.search(r"\n\n(\{\"action\".+\})\n```", section).group(1).encode()
    assert webhooks.body_of(json.loads(raw)) == raw, "the example body is in the order and spacing we send"
    headers = signing.sign(
        "demo-secret-change-me", "POST", "/city/events", raw, now=1790000000, nonce="7c1e5a9d3b2f4068"
    )
    assert f"X-City-Signature: {headers[signing.SIGNATURE_HEADER]}" in section
    assert hashlib.sha256(raw).hexdigest() in section
