"""Operators configure connectors and watch their health; departments see which operations they can bind.
Secrets go in and never come out."""

import pytest
import requests
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.connectors.models import ConnectorConfig
from app.extensions import db
from app.identity.tokens import Caller
from integrations.sandbox import keyring
from tests.catalog.test_catalog_api import token

SECRET = keyring.cloud_app_secret("environment")


@pytest.fixture
def staff(clouds):
    return {
        "operator": token(Caller("operator", "33333333-3333-3333-3333-333333333333", roles=frozenset({"operator"}))),
        "clerk": token(
            Caller("staff", "11111111-1111-1111-1111-111111111111", roles=frozenset({"clerk"}), department="hbj")
        ),
    }


def test_operators_see_state_error_rate_p95_and_last_error_but_no_secret(client, staff, via_connector, sandbox_url):
    from tests.inquiry.test_connector_query import AIR_FORM

    via_connector("air-now", "environment", "air_quality", AIR_FORM, "hbj", login_required=False)
    query = {"inputs": {"district": "370402"}}
    assert client.post("/api/v1/services/air-now/query", json=query).status_code == 200
    requests.put(f"{sandbox_url}/_control/faults/environment", json={"mode": "fail", "status": 500}, timeout=5)
    for district in ("370405", "999999", "370405", "999999", "370405"):
        client.post("/api/v1/services/air-now/query", json={"inputs": {"district": district}})

    listed = client.get("/api/v1/ops/connectors", headers=staff["operator"])
    assert listed.status_code == 200
    assert SECRET not in listed.text and keyring.cloud_app_secret("energy") not in listed.text
    environment = next(item for item in listed.json if item["name"] == "environment")
    assert environment["breaker"]["state"] == "open" and environment["breaker"]["retry_after"] > 0
    figures = environment["figures"]
    assert figures["calls"] == 6 and figures["outcomes"]["ok"] == 1 and figures["outcomes"]["unavailable"] == 5
    assert figures["error_rate"] == pytest.approx(5 / 6, abs=0.001)
    assert figures["p95_ms"] is not None and "HTTP 500" in figures["last_error"]["message"]
    assert environment["secrets_set"] == ["app_secret"] and "app_secret" not in environment["settings"]
    assert environment["department"] == "hbj" and environment["title"] == "智慧环保云"
    assert listed.headers["Cache-Control"] == "no-store"


def test_an_operator_reconfigures_a_connector_keeping_the_secret_left_out(client, staff, app, via_connector):
    from tests.inquiry.test_connector_query import AIR_FORM

    via_connector("air-now", "environment", "air_quality", AIR_FORM, "hbj", login_required=False)
    query = {"inputs": {"district": "370402"}}
    assert client.post("/api/v1/services/air-now/query", json=query).status_code == 200
    put = client.put(
        "/api/v1/ops/connectors/environment",
        json={
            "kind": "environment",
            "department": "hbj",
            "enabled": True,
            "settings": {
                "base_url": "http://127.0.0.1:9/environment",
                "app_key": "city-services-environment",
                "read_timeout": 2,
            },
        },
        headers=staff["operator"],
    )
    assert put.status_code == 200, put.json
    assert put.json["settings"]["base_url"] == "http://127.0.0.1:9/environment" and SECRET not in put.text
    moved = client.post("/api/v1/services/air-now/query", json={"inputs": {"district": "370405"}})
    assert moved.status_code == 503 and moved.json["error"]["code"] == "CLOUD_UNAVAILABLE"  # the new address, now
    with app.app_context():
        row = db.session.scalar(sa.select(ConnectorConfig).where(ConnectorConfig.name == "environment"))
        assert SECRET in row.secrets  # kept (and stored encrypted: see the raw column below)
        raw = db.session.execute(sa.text("SELECT secrets FROM connectors WHERE name = 'environment'")).scalar()
        assert SECRET not in raw
        entry = db.session.scalar(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "connector.configure", AuditEntry.object_id == "environment")
            .order_by(AuditEntry.id.desc())
        )
        assert entry.details["secrets_changed"] == [] and entry.actor_kind == "operator"
        assert entry.details["before"]["base_url"].endswith("/environment")
        assert entry.details["after"] == {
            "base_url": "http://127.0.0.1:9/environment",
            "department": "hbj",
            "enabled": True,
        }


def test_a_connector_switched_off_takes_its_services_out_at_once(client, staff, via_connector):
    from tests.inquiry.test_connector_query import AIR_FORM

    via_connector("air-now", "environment", "air_quality", AIR_FORM, "hbj", login_required=False)
    body = {
        "kind": "environment",
        "department": "hbj",
        "enabled": False,
        "settings": {"base_url": "http://127.0.0.1:9/environment", "app_key": "city-services-environment"},
    }
    assert client.put("/api/v1/ops/connectors/environment", json=body, headers=staff["operator"]).status_code == 200
    off = client.post("/api/v1/services/air-now/query", json={"inputs": {"district": "370405"}})
    assert off.status_code == 503 and off.json["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_department_and_enabled_must_be_said_so_a_default_never_opens_a_connector(client, staff, app):
    body = {"kind": "housing", "settings": {"base_url": "http://x/", "app_key": "k"}}
    answer = client.put("/api/v1/ops/connectors/housing", json=body, headers=staff["operator"])
    assert answer.status_code == 422 and set(answer.json["error"]["details"]["fields"]) == {"department", "enabled"}
    with app.app_context():
        row = db.session.scalar(sa.select(ConnectorConfig).where(ConnectorConfig.name == "housing"))
        assert row.department_code == "gjj"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "environment", "settings": {"base_url": "not a url", "app_key": "k"}}, "base_url"),
        (
            {"kind": "environment", "settings": {"base_url": "http://x.example/", "app_key": "k", "read_timeout": 99}},
            "read_timeout",
        ),
        (
            {"kind": "environment", "department": "nobody", "settings": {"base_url": "http://x/", "app_key": "k"}},
            "department",
        ),
    ],
)
def test_a_bad_configuration_is_refused_and_changes_nothing(client, staff, app, body, field):
    body = {"department": "hbj", "enabled": True} | body
    answer = client.put("/api/v1/ops/connectors/environment", json=body, headers=staff["operator"])
    assert answer.status_code == 422 and answer.json["error"]["code"] == "INVALID_CONFIG"
    assert field in answer.json["error"]["details"]["fields"]
    with app.app_context():
        row = db.session.scalar(sa.select(ConnectorConfig).where(ConnectorConfig.name == "environment"))
        assert row.settings["base_url"].endswith("/environment") and row.department_code == "hbj"


def test_an_unknown_kind_is_refused(client, staff):
    body = {"kind": "teleport", "department": None, "enabled": True, "settings": {}}
    answer = client.put("/api/v1/ops/connectors/x", json=body, headers=staff["operator"])
    assert answer.status_code == 422 and answer.json["error"]["code"] == "UNKNOWN_CONNECTOR_KIND"


def test_only_operators_configure_or_watch_connectors(client, staff):
    settings = {"base_url": "http://x.example/", "app_key": "k", "app_secret": "s" * 8}
    body = {"kind": "environment", "department": "hbj", "enabled": True, "settings": settings}
    assert client.put("/api/v1/ops/connectors/environment", json=body, headers=staff["clerk"]).status_code == 403
    assert client.get("/api/v1/ops/connectors", headers=staff["clerk"]).status_code == 403
    assert client.get("/api/v1/ops/connectors").status_code == 401


def test_departments_see_the_operations_they_can_bind_and_which_settings_are_secret(client, staff):
    kinds = client.get("/api/v1/connectors", headers=staff["clerk"])
    assert kinds.status_code == 200
    environment = next(kind for kind in kinds.json if kind["kind"] == "environment")
    assert set(environment["operations"]) == {"air_quality", "air_hourly"}
    assert environment["operations"]["air_quality"]["stale_seconds"] > 0
    assert environment["secret_fields"] == ["app_secret"]
    assert environment["config"]["properties"]["app_secret"]["x-secret"] is True
    for kind in kinds.json:  # verifying a bound account is the platform's, not a service's
        assert not any(name.startswith("verify_") for name in kind["operations"]), kind["kind"]
