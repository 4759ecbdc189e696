"""Bound accounts: a citizen binds a 户号 after the utility checks the holder's name, then queries with it
without typing the number again; nobody else can see or use it."""

import threading

import pytest
import sqlalchemy as sa

from app.catalog.demo import account, form
from app.extensions import db
from app.inquiry.models import BoundAccount
from tests.identity.helpers import bearer, login_wechat

WATER = {"kind": "water", "account_no": "10203041", "holder_name": "张伟"}
ACCOUNT_FORM = form(account_no=account("户号", 6, 12))


@pytest.fixture
def bills(via_connector):
    via_connector("water-bill", "energy", "water_bills", ACCOUNT_FORM, "jxw")
    via_connector("power-bill", "energy", "power_bills", ACCOUNT_FORM, "jxw")


@pytest.fixture
def bob(client, sandbox_url):
    return bearer(login_wechat(client, sandbox_url, user="bob")["access_token"])


def bind(client, who, body=WATER):
    return client.post("/api/v1/me/accounts", json=body, headers=who)


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(BoundAccount))


def test_binding_after_the_utility_checks_the_holder_and_seeing_it_masked(client, clouds, citizen, app):
    bound = bind(client, citizen)
    assert bound.status_code == 201, bound.json
    body = bound.json
    assert body["account_no"] == "****3041" and body["holder"] == "张*" and body["kind_name"] == "水费户号"
    assert body["bound_at"].endswith("+08:00")
    assert client.get("/api/v1/me/accounts", headers=citizen).json == [body]
    again = bind(client, citizen)  # a second tap binds nothing new
    assert again.status_code == 200 and again.json["id"] == body["id"] and stored(app) == 1
    with app.app_context():  # stored encrypted
        raw = db.session.execute(sa.text("SELECT number FROM bound_accounts")).scalar()
        assert "10203041" not in raw


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({**WATER, "holder_name": "王芳"}, 403, "CLOUD_REJECTED"),
        ({**WATER, "account_no": "10203040"}, 404, "CLOUD_REJECTED"),
        ({"kind": "water", "account_no": "10203041"}, 422, "VALIDATION_FAILED"),
        ({**WATER, "kind": "spaceship"}, 422, "VALIDATION_FAILED"),
        ({**WATER, "account_no": "1020 3041; drop"}, 422, "VALIDATION_FAILED"),
    ],
)
def test_what_the_utility_or_the_form_refuses_binds_nothing(client, clouds, citizen, app, body, status, code):
    refused = bind(client, citizen, body)
    assert refused.status_code == status and refused.json["error"]["code"] == code
    assert stored(app) == 0


def test_a_bound_account_answers_a_query_without_the_number_typed_and_history_masks_it(client, bills, citizen):
    account_id = bind(client, citizen).json["id"]
    answer = client.post("/api/v1/services/water-bill/query", json={"account": account_id}, headers=citizen)
    assert answer.status_code == 200, answer.json
    assert answer.json["result"]["account_no"] == "10203041" and answer.json["result"]["bills"]
    history = client.get("/api/v1/me/queries", headers=citizen).json["items"]
    assert history[0]["inputs"] == {"account_no": "****3041"}


def test_a_water_account_is_not_an_electricity_account(client, bills, citizen):
    account_id = bind(client, citizen).json["id"]
    wrong = client.post("/api/v1/services/power-bill/query", json={"account": account_id}, headers=citizen)
    assert wrong.status_code == 422 and wrong.json["error"]["code"] == "ACCOUNT_NOT_APPLICABLE"


def test_nobody_else_sees_uses_or_unbinds_my_account(client, bills, citizen, bob):
    account_id = bind(client, citizen).json["id"]
    assert client.get("/api/v1/me/accounts", headers=bob).json == []
    used = client.post("/api/v1/services/water-bill/query", json={"account": account_id}, headers=bob)
    assert used.status_code == 404 and used.json["error"]["code"] == "ACCOUNT_NOT_FOUND"
    assert client.delete(f"/api/v1/me/accounts/{account_id}", headers=bob).status_code == 404
    assert client.post("/api/v1/services/water-bill/query", json={"account": account_id}).status_code == 401
    assert client.delete(f"/api/v1/me/accounts/{account_id}", headers=citizen).status_code == 204
    assert client.get("/api/v1/me/accounts", headers=citizen).json == []
    assert client.delete(f"/api/v1/me/accounts/{account_id}", headers=citizen).status_code == 404


def test_a_double_tap_binds_one_account(client, clouds, citizen, app):
    results, barrier = [], threading.Barrier(6)

    def tap():
        with app.test_client() as own:
            barrier.wait()
            results.append(own.post("/api/v1/me/accounts", json=WATER, headers=citizen).status_code)

    threads = [threading.Thread(target=tap) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) in ([200, 201], [201]) and results.count(201) == 1
    assert stored(app) == 1
