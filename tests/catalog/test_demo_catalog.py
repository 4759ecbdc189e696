"""`flask seed-demo` takes a live catalog through the real lifecycle: every cloud and the sharing platform,
drafted and published by the departments, approved by the demo operator, answered by the clouds' twins
through their connectors, or by the department twin under the contract."""

import json

import pytest
import requests
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.catalog.contract_keys import secret_for
from app.catalog.demo import demo_services
from app.catalog.demo_seed import DEMO_OPERATOR
from app.catalog.form_inputs import check_inputs
from app.catalog.models import ContractKey, Service, ServiceVersion
from app.city.clouds import PLATFORMS
from app.city.models import Department
from app.connectors.models import ConnectorConfig
from app.extensions import db
from app.staff.models import StaffAccount
from integrations.department_contract import DepartmentRejected, call, health_check
from integrations.department_contract.signing import KEY_ID_HEADER, sign
from integrations.sandbox import keyring

NOBODY = "http://127.0.0.1:9"  # nothing listens here
JSON = "application/json; charset=utf-8"
DEMO = demo_services()
ON_THE_TWIN = [item for item in DEMO if item.bound_to_twin]
BY_CONTRACT = [item for item in DEMO if item.by_contract]
LINKS = [item for item in DEMO if not item.bound_to_twin]


def seed(app, expect_exit=0):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == expect_exit, result.output
    return result.output


def live_services():
    rows = db.session.execute(
        sa.select(Service, ServiceVersion).join(ServiceVersion, ServiceVersion.id == Service.live_version_id)
    ).all()
    return {service.code: (service, version) for service, version in rows if version.status == "LIVE"}


def counts():
    tables = (Service, ServiceVersion, AuditEntry, ContractKey, StaffAccount, ConnectorConfig)
    return {t.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables}


@pytest.fixture
def embedded(make_app):
    """As under `make run`: the twin at the app's own /_sandbox, which no server serves while seeding."""
    return make_app(SANDBOX="1", PUBLIC_BASE_URL=NOBODY, DEPARTMENT_SYSTEM_BASE_URL="", CLOUDS_SANDBOX_BASE_URL="")


def test_every_cloud_gets_live_services_drafted_by_departments_and_approved_by_the_demo_operator(embedded):
    assert f"demo catalog: {len(DEMO)} services added and live" in seed(embedded)
    with embedded.app_context():
        live = live_services()
        assert set(live) == {item.code for item in DEMO}
        assert {service.cloud for service, _ in live.values()} == set(PLATFORMS)  # 16 clouds and sharing
        assert {service.kind for service, _ in live.values()} == {"inquiry", "link"}

        operator = db.session.scalar(sa.select(StaffAccount).where(StaffAccount.username == DEMO_OPERATOR))
        assert (operator.kind, operator.roles, operator.last_login_at) == ("operator", ["operator"], None)
        for service, version in live.values():
            assert version.created_by == f"client:demo-{service.department_code}"
            assert version.decided_by == f"operator:{operator.id}"

        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("service.%"))).all()
        by_action = {}
        for entry in entries:
            by_action.setdefault(entry.action, []).append(entry)
        steps = ("service.draft", "service.submit", "service.approve", "service.publish")
        assert {action: len(done) for action, done in by_action.items()} == dict.fromkeys(steps, len(DEMO))
        assert {(e.actor_kind, e.actor_id) for e in by_action["service.approve"]} == {("operator", str(operator.id))}
        for action in ("service.draft", "service.submit", "service.publish"):
            assert all(
                e.actor_kind == "client" and e.actor_id == f"demo-{e.actor_department}" for e in by_action[action]
            )
        assert len({e.request_id for e in entries}) == 1  # one run, findable together

        # The department twin was served in process while seeding, and only then.
        filing = live["house-filing"][1].content["binding"]
        assert filing["url"] == f"{NOBODY}/_sandbox/department/zjj/contract"
        assert not health_check(filing["url"], filing["key_id"], keyring.department_contract_secret("zjj")).ok
        # A connector per cloud and the sharing platform, pointed at the clouds' twins.
        connectors = {row.name: row for row in db.session.scalars(sa.select(ConnectorConfig))}
        assert set(connectors) == set(PLATFORMS)
        assert connectors["energy"].settings["base_url"] == f"{NOBODY}/_sandbox/energy"
        assert connectors["energy"].department_code == "jxw" and connectors["sharing"].department_code is None
        gjj = live["gjj-balance"][1].content["binding"]
        assert (gjj["type"], gjj["connector"], gjj["operation"], gjj["allow_stale"]) == (
            "connector",
            "housing",
            "fund_account",
            True,
        )

    citizen = embedded.test_client()
    listed = citizen.get("/api/v1/catalog/services").json
    assert {s["code"] for s in listed} == {item.code for item in DEMO}
    assert citizen.get("/api/v1/catalog/services", query_string={"q": "gjj"}).json[0]["code"] == "gjj-balance"
    assert citizen.get("/api/v1/catalog/services", query_string={"q": "水费"}).json[0]["code"] == "water-bill"


def test_seeding_again_changes_nothing(embedded):
    seed(embedded)
    with embedded.app_context():
        before = counts()
    assert f"0 services added and live, {len(DEMO)} there already" in seed(embedded)
    with embedded.app_context():
        assert counts() == before


def test_every_live_inquiry_answers_a_citizens_phone_through_its_twin(make_app, sandbox_url):
    """The smoke test `scripts/smoke_inquiries.py` runs against `make run`, here against a served app."""
    from scripts.smoke_inquiries import smoke
    from tests.servers import serving

    app = make_app(SANDBOX="1")
    seed(app)
    lines = []
    with serving(app) as base:
        assert smoke(base, sandbox_url, out=lines.append) == []
    asked = {line.split()[0] for line in lines}
    assert asked == {item.code for item in ON_THE_TWIN}
    assert len(lines) == len(ON_THE_TWIN) + sum(1 for item in ON_THE_TWIN if item.missing is not None)


def test_each_contract_inquiry_answers_through_the_department_twin_and_says_not_found_when_told(make_app):
    app = make_app(SANDBOX="1")  # the department twin at the test sandbox server, over HTTP
    seed(app)
    with app.app_context():
        live = live_services()
        for item in BY_CONTRACT:
            version = live[item.code][1]
            binding, form = version.content["binding"], version.content["form"]
            secret = secret_for(item.department, binding["key_id"])  # the key stored for the department
            assert health_check(binding["url"], binding["key_id"], secret).ok, item.code

            citizen = {"id": "c-demo", "real_name_verified": True}
            inputs = check_inputs(form, item.example)  # what the mini-program would send
            answer = call(binding["url"], binding["key_id"], secret, "query", item.code, inputs, citizen)
            assert answer.result and answer.as_of.utcoffset().total_seconds() == 8 * 3600, item.code
            again = call(binding["url"], binding["key_id"], secret, "query", item.code, inputs, citizen)
            assert again.result == answer.result, item.code  # the same inputs, the same answer
            if item.missing is not None:
                missing = check_inputs(form, item.missing)
                with pytest.raises(DepartmentRejected) as refused:
                    call(binding["url"], binding["key_id"], secret, "query", item.code, missing, citizen)
                assert refused.value.department_code == "NOT_FOUND", item.code


def test_the_twin_refuses_a_request_not_signed_with_the_departments_sandbox_key(sandbox_url):
    path = "/department/gjj/contract/"
    body = json.dumps(
        {
            "contract": "city-services/1",
            "operation": "query",
            "service": "gjj-balance",
            "request_id": "r1",
            "inputs": {"account_no": "371010012345"},
            "citizen": {"id": "c-demo"},
        }
    ).encode()

    def post(key_id, secret, headers=None):
        signed = headers or {KEY_ID_HEADER: key_id, **sign(secret, "POST", path, body), "Content-Type": JSON}
        return requests.post(f"{sandbox_url}{path}", data=body, headers=signed, timeout=5), signed

    good, headers = post("gjj-sandbox", keyring.department_contract_secret("gjj"))
    assert good.status_code == 200 and good.json()["ok"] is True
    replayed, _ = post(None, None, headers)
    wrong_secret, _ = post("gjj-sandbox", "not-the-secret")
    other_department, _ = post("rsj-sandbox", keyring.department_contract_secret("rsj"))
    for refused in (replayed, wrong_secret, other_department):
        assert refused.status_code == 401
        assert refused.json()["code"] == "BAD_SIGNATURE" and refused.json()["ok"] is False
    assert requests.get(f"{sandbox_url}/department/gjj/contract/health", timeout=5).status_code == 401


def test_with_the_sandbox_off_only_the_link_services_are_seeded(make_app):
    app = make_app()  # SANDBOX=0: no sandbox keys may be stored
    output = seed(app)
    assert "SANDBOX is off" in output and f"{len(ON_THE_TWIN)} services answered by" in output
    with app.app_context():
        assert set(live_services()) == {item.code for item in LINKS}
        assert counts()["contract_keys"] == 0 and counts()["connectors"] == 0


def test_production_gets_the_city_but_no_demo_services_and_no_demo_operator(make_app):
    app = make_app()
    app.config["APP_ENV"] = "production"  # the rest of a production configuration is not needed here
    output = seed(app)
    assert "not seeded in production" in output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Department)) == 16
        assert live_services() == {}
        assert counts()["contract_keys"] == 0 and counts()["connectors"] == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffAccount)) == 0


def test_a_run_that_could_not_reach_the_twin_fails_loudly_and_the_next_one_finishes(make_app):
    unreachable = make_app(SANDBOX="1", DEPARTMENT_SYSTEM_BASE_URL=f"{NOBODY}/department")
    output = seed(unreachable, expect_exit=1)
    assert "CHECKLIST_FAILED" in output and f"{len(BY_CONTRACT)} demo services could not be taken live" in output
    with unreachable.app_context():
        assert set(live_services()) == {item.code for item in DEMO if not item.by_contract}

    reachable = make_app(SANDBOX="1")
    there = len(DEMO) - len(BY_CONTRACT)
    assert f"{len(BY_CONTRACT)} services added and live, {there} there already" in seed(reachable)
    with reachable.app_context():
        live = live_services()
        assert set(live) == {item.code for item in DEMO}
        assert all(version.number == 1 for _, version in live.values())
