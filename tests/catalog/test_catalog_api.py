"""Registering and reviewing services over HTTP: a department system, its clerk, an operator."""

import pytest

from app.db import unit_of_work
from app.identity import sessions
from app.identity.tokens import Caller
from tests.catalog.test_lifecycle import LINK
from tests.factories import make_department
from tests.identity.helpers import bearer


def token(caller: Caller) -> dict:
    with unit_of_work():
        return bearer(sessions.start(caller).access_token)


@pytest.fixture
def callers(app_ctx):
    make_department("gjj")
    make_department("jxw", name="枣庄市工业和信息化局", clouds=("industry",))
    return {
        "system": token(Caller("client", "client-gjj", scopes=frozenset({"catalog:write"}), department="gjj")),
        "clerk": token(
            Caller("staff", "11111111-1111-1111-1111-111111111111", roles=frozenset({"clerk"}), department="gjj")
        ),
        "other": token(
            Caller("staff", "22222222-2222-2222-2222-222222222222", roles=frozenset({"clerk"}), department="jxw")
        ),
        "operator": token(Caller("operator", "33333333-3333-3333-3333-333333333333", roles=frozenset({"operator"}))),
    }


def test_a_department_system_registers_and_an_operator_approves(client, callers):
    created = client.post(
        "/api/v1/catalog/services",
        json={"code": "gjj-hall", "cloud": "housing", "kind": "link", "content": LINK},
        headers=callers["system"],
    )
    assert created.status_code == 201, created.json
    assert (created.json["status"], created.json["department"], created.json["number"]) == ("DRAFT", "gjj", 1)
    base = "/api/v1/catalog/services/gjj-hall/versions/1"
    assert client.post(f"{base}/submit", json={}, headers=callers["clerk"]).json["status"] == "SUBMITTED"
    queue = client.get("/api/v1/ops/catalog/review-queue", headers=callers["operator"]).json
    assert [(v["service"], v["number"]) for v in queue] == [("gjj-hall", 1)]
    approved = client.post(f"{base}/approve", json={"comment": "同意上线"}, headers=callers["operator"])
    assert approved.json["status"] == "APPROVED" and approved.json["review_comment"] == "同意上线"
    live = client.post(f"{base}/publish", json={}, headers=callers["system"])
    assert live.json["status"] == "LIVE" and live.json["live"] is True
    listed = client.get("/api/v1/catalog/services/gjj-hall/versions", headers=callers["clerk"]).json
    assert [v["status"] for v in listed] == ["LIVE"]


def test_errors_come_in_the_envelope_and_change_nothing(client, callers):
    bad = client.post(
        "/api/v1/catalog/services",
        json={"code": "gjj-hall", "cloud": "housing", "kind": "link", "content": {"name": {"zh": "x"}}},
        headers=callers["system"],
    )
    assert bad.status_code == 422 and bad.json["error"]["code"] == "INVALID_CONTENT"
    assert "name" in bad.json["error"]["details"]["fields"]
    client.post(
        "/api/v1/catalog/services",
        json={"code": "gjj-hall", "cloud": "housing", "kind": "link", "content": LINK},
        headers=callers["system"],
    )
    base = "/api/v1/catalog/services/gjj-hall/versions/1"
    illegal = client.post(f"{base}/publish", json={}, headers=callers["clerk"])
    assert illegal.status_code == 409 and illegal.json["error"]["code"] == "ILLEGAL_TRANSITION"
    unknown = client.post(f"{base}/launch", json={}, headers=callers["clerk"])
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "UNKNOWN_ACTION"
    hidden = client.get("/api/v1/catalog/services/gjj-hall/versions", headers=callers["other"])
    assert hidden.status_code == 404 and hidden.json["error"]["code"] == "SERVICE_NOT_FOUND"
    assert client.post(f"{base}/submit", json={}, headers=callers["other"]).status_code == 404
    taken = client.post(
        "/api/v1/catalog/services",
        json={"code": "gjj-hall", "cloud": "housing", "kind": "link", "content": LINK},
        headers=callers["clerk"],
    )
    assert taken.status_code == 409 and taken.json["error"]["code"] == "SERVICE_CODE_TAKEN"
