"""A citizen runs a live inquiry service bound to a department's own endpoint: the service's rules first,
then the department's answer or a clear error, and never a call the department should not get."""

import threading

import pytest
import sqlalchemy as sa

from app.catalog import service
from app.catalog.models import ContractKey
from app.clock import utcnow
from app.db import unit_of_work
from app.identity.tokens import Caller
from tests.catalog.test_lifecycle import OPERATOR, acting
from tests.identity.helpers import verify_real_name
from tests.inquiry.conftest import PERSON


def run(client, headers=None, code="gjj-balance", **inputs):
    return client.post(f"/api/v1/services/{code}/query", json={"inputs": inputs}, headers=headers or {})


def test_the_department_answers_a_signed_in_citizen(client, go_live, department, citizen):
    go_live()
    answer = run(client, citizen, account="ZZ 123456")
    assert answer.status_code == 200, answer.json
    assert answer.json["result"] == {"account": "ZZ123456", "balance_fen": 1234500}
    assert answer.json["as_of"] == "2026-11-21T08:00:00+08:00"  # no offset given: the city's clock
    (asked,) = department.received
    assert asked["operation"] == "query" and asked["service"] == "gjj-balance"
    assert asked["citizen"]["real_name_verified"] is False and len(asked["citizen"]["id"]) == 36
    again = run(client, {**citizen, "X-Request-Id": answer.headers["X-Request-Id"]}, account="ZZ123456")
    assert again.status_code == 200
    # Unique per call, whatever request id the caller sends: a department may do a write once per id.
    assert len({body["request_id"] for body in department.received}) == 2


def test_the_departments_no_reaches_the_citizen_in_its_words(client, go_live, citizen):
    go_live()
    answer = run(client, citizen, account="ZZ123450")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "NOT_FOUND"
    assert answer.json["error"]["message"] == "未查询到该公积金账号"


def test_bad_answers_to_the_form_never_reach_the_department(client, go_live, department, citizen):
    go_live()
    answer = run(client, citizen, account="12")
    assert answer.status_code == 422
    assert answer.json["error"]["details"]["fields"] == {"account": ["应为 6–12 位字母或数字"]}
    assert run(client, citizen).json["error"]["details"]["fields"] == {"account": ["请填写此项"]}
    assert department.received == []


def test_login_and_real_name_rules_are_the_services(client, go_live, department, citizen):
    go_live()
    guest = run(client, account="ZZ123456")
    assert guest.status_code == 401 and guest.headers["WWW-Authenticate"] == "Bearer"

    go_live("gjj-real", real_name_required=True)
    refused = run(client, citizen, code="gjj-real", account="ZZ123456")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "REAL_NAME_REQUIRED"
    assert department.received == []
    verify_real_name(client, citizen["Authorization"].split()[1], PERSON)
    answer = run(client, citizen, code="gjj-real", account="ZZ123456")
    assert answer.status_code == 200
    assert department.received[-1]["citizen"]["real_name_verified"] is True


def test_a_guest_may_run_a_service_that_needs_no_login_and_is_no_one_to_the_department(client, go_live, department):
    go_live(login_required=False)
    answer = run(client, account="ZZ123456")
    assert answer.status_code == 200, answer.json
    assert "citizen" not in department.received[0]


def test_staff_and_department_systems_do_not_run_citizens_services(client, go_live, department):
    from tests.catalog.test_catalog_api import token

    go_live(login_required=False)
    answer = run(client, token(Caller("client", "client-gjj", scopes=frozenset({"catalog:write"}), department="gjj")))
    assert answer.status_code == 403
    assert department.received == []


def test_only_live_inquiry_services_run(client, go_live, citizen, app):
    assert run(client, citizen, code="nothing-here", account="ZZ123456").status_code == 404
    go_live("gjj-hall", kind="link")
    link = run(client, citizen, code="gjj-hall")
    assert link.status_code == 409 and link.json["error"]["code"] == "NOT_AN_INQUIRY"
    go_live()
    with acting(app, OPERATOR):
        service.transition(OPERATOR, "gjj-balance", 1, "suspend", "接口维护")
    suspended = run(client, citizen, account="ZZ123456")
    assert suspended.status_code == 404 and suspended.json["error"]["code"] == "SERVICE_NOT_FOUND"


@pytest.fixture
def live_with_timeout(go_live, department):
    def put_live():
        binding = {"type": "contract", "url": department.url, "key_id": department.key_id, "timeout_seconds": 0.5}
        go_live(binding=binding)

    return put_live


def test_failures_of_the_department_are_clear_errors(client, live_with_timeout, department, citizen, app):
    live_with_timeout()
    department.down = True
    down = run(client, citizen, account="ZZ123456")
    assert down.status_code == 503 and down.json["error"]["code"] == "DEPARTMENT_UNAVAILABLE"
    assert down.headers["Retry-After"] == "30"

    department.down, department.delay = False, 1.0
    slow = run(client, citizen, account="ZZ123456")
    assert slow.status_code == 504 and slow.json["error"]["code"] == "DEPARTMENT_TIMEOUT"

    department.delay = 0
    with app.app_context(), unit_of_work() as session:
        session.scalar(sa.select(ContractKey).where(ContractKey.key_id == department.key_id)).retired_at = utcnow()
    retired = run(client, citizen, account="ZZ123456")
    assert retired.status_code == 503 and retired.json["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_slow_departments_do_not_hold_database_connections(live_with_timeout, department, citizen, make_app):
    """More citizens wait on a slow department at once than the pool has connections."""
    live_with_timeout()
    department.delay = 0.4
    small = make_app(DB_POOL_SIZE="2", DB_MAX_OVERFLOW="0")
    answers = []

    def one():
        answers.append(run(small.test_client(), citizen, account="ZZ123456").status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8
    assert department.peak > 2  # with a connection held per call, the department would never see more than 2


def test_a_service_may_ask_for_the_verified_identity_so_citizens_see_only_their_own(
    client, go_live, department, sandbox_url
):
    from tests.identity.helpers import login_wechat

    binding = {"type": "contract", "url": department.url, "key_id": department.key_id, "identity": "verified"}
    go_live(real_name_required=True, binding=binding)
    token = login_wechat(client, sandbox_url)["access_token"]
    verify_real_name(client, token, PERSON)
    assert run(client, {"Authorization": f"Bearer {token}"}, account="ZZ123456").status_code == 200
    sent = department.received[-1]["citizen"]
    assert (sent["name"], sent["id_number"]) == (PERSON["name"], PERSON["id_number"])


def test_only_services_that_require_a_real_name_may_send_it(app, go_live, department):
    from app.errors import AppError

    binding = {"type": "contract", "url": department.url, "key_id": department.key_id, "identity": "verified"}
    with pytest.raises(AppError) as refused:
        go_live(binding=binding)
    assert refused.value.code == "INVALID_CONTENT"
    assert "identity" in refused.value.details["fields"]["binding"]


def test_an_inquiry_bound_to_a_connector_nobody_configured_cannot_go_live(app, go_live):
    from app.errors import AppError

    with pytest.raises(AppError) as refused:
        go_live(binding={"type": "connector", "connector": "housing_fund", "operation": "balance"})
    assert refused.value.code == "CHECKLIST_FAILED"
    assert refused.value.details["problems"] == ["binding.connector: 没有这个已启用的连接器"]
