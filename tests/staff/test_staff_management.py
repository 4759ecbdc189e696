"""Department admins manage their own department's staff; operators any department's; nobody else."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.staff.models import StaffAccount
from tests.factories import make_department
from tests.identity.helpers import bearer
from tests.staff.helpers import PASSWORD, make_account


@pytest.fixture
def departments(app_ctx):
    make_department("gjj")
    make_department("jxw", name="枣庄市工业和信息化局", clouds=("industry",))


def add_staff(client, token, username, roles=("clerk",), department=None):
    body = {"username": username, "display_name": username, "roles": list(roles)}
    if department:
        body["department"] = department
    return client.post("/api/v1/console/staff", json=body, headers=bearer(token))


def test_an_admin_adds_a_clerk_to_their_own_department_who_then_logs_in(client, departments):
    admin = make_account(client, "admin1", roles=("dept_admin",), department="gjj")
    created = add_staff(client, admin["access_token"], "clerk9", department="jxw")  # ignored: own department
    assert created.status_code == 201
    assert created.json["account"]["department_code"] == "gjj" and created.json["account"]["roles"] == ["clerk"]
    first = client.post(
        "/api/v1/console/login",
        json={"username": "clerk9", "password": created.json["initial_password"], "new_password": PASSWORD},
    )
    assert first.status_code == 200
    listed = client.get("/api/v1/console/staff", headers=bearer(admin["access_token"])).json
    assert sorted(a["username"] for a in listed) == ["admin1", "clerk9"]


def test_an_admin_cannot_see_or_touch_another_departments_staff(client, departments):
    admin = make_account(client, "admin1", roles=("dept_admin",), department="gjj")
    other = make_account(client, "clerk-x", department="jxw")
    listed = client.get("/api/v1/console/staff", headers=bearer(admin["access_token"])).json
    assert [a["username"] for a in listed] == ["admin1"]
    for action in ("disable", "unlock", "reset-password"):
        response = client.post(f"/api/v1/console/staff/{other['id']}/{action}", headers=bearer(admin["access_token"]))
        assert response.status_code == 404, action
    assert db.session.scalar(sa.select(StaffAccount.status).where(StaffAccount.username == "clerk-x")) == "active"
    assert client.get("/api/v1/console/me", headers=bearer(other["access_token"])).status_code == 200


def test_a_clerk_cannot_manage_staff(client, departments):
    clerk = make_account(client, "clerk1")
    assert add_staff(client, clerk["access_token"], "clerk2").status_code == 403
    assert client.get("/api/v1/console/staff", headers=bearer(clerk["access_token"])).status_code == 403


def test_disabling_ends_the_sessions_at_once_and_unlock_lifts_a_lockout(client, departments):
    admin = make_account(client, "admin1", roles=("dept_admin",))
    clerk = make_account(client, "clerk1")
    for _ in range(5):
        client.post("/api/v1/console/login", json={"username": "clerk1", "password": "wrong password!"})
    locked = client.post("/api/v1/console/login", json={"username": "clerk1", "password": PASSWORD})
    assert locked.json["error"]["code"] == "ACCOUNT_LOCKED"
    listed = client.get("/api/v1/console/staff", headers=bearer(admin["access_token"])).json
    assert {a["username"]: a["locked"] for a in listed} == {"admin1": False, "clerk1": True}
    unlocked = client.post(f"/api/v1/console/staff/{clerk['id']}/unlock", headers=bearer(admin["access_token"]))
    assert unlocked.status_code == 200 and unlocked.json["locked"] is False
    assert client.post("/api/v1/console/login", json={"username": "clerk1", "password": PASSWORD}).status_code == 200

    disabled = client.post(f"/api/v1/console/staff/{clerk['id']}/disable", headers=bearer(admin["access_token"]))
    assert disabled.status_code == 200 and disabled.json["status"] == "disabled"
    assert client.get("/api/v1/console/me", headers=bearer(clerk["access_token"])).status_code == 401
    refused = client.post("/api/v1/console/login", json={"username": "clerk1", "password": PASSWORD})
    assert refused.json["error"]["code"] == "INVALID_CREDENTIALS"
    renewed = client.post("/api/v1/console/refresh", json={"refresh_token": clerk["refresh_token"]})
    assert renewed.status_code == 401


def test_an_admin_can_manage_neither_themselves_nor_a_fellow_admin(client, departments):
    admin = make_account(client, "admin1", roles=("dept_admin",))
    fellow = make_account(client, "admin2", roles=("dept_admin",))
    for target in (admin["id"], admin["id"].upper(), fellow["id"]):
        for action in ("disable", "unlock", "reset-password"):
            answer = client.post(f"/api/v1/console/staff/{target}/{action}", headers=bearer(admin["access_token"]))
            assert answer.status_code == 404, (target, action)
    assert client.get("/api/v1/console/me", headers=bearer(fellow["access_token"])).status_code == 200


def test_two_admins_adding_one_name_at_once_get_one_account_and_a_409(client, departments):
    from concurrent.futures import ThreadPoolExecutor

    admins = [make_account(client, f"admin{i}", roles=("dept_admin",)) for i in range(2)]
    app = client.application

    def add(admin):
        with app.app_context():
            return add_staff(app.test_client(), admin["access_token"], "newclerk").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(add, admins * 4))
    assert statuses == [201] + [409] * 7
    assert db.session.scalar(sa.select(sa.func.count()).where(StaffAccount.username == "newclerk")) == 1


def test_an_operator_manages_any_departments_staff_but_must_name_the_department(client, departments):
    op = make_account(client, "op1", kind="operator", roles=("operator",))
    missing = add_staff(client, op["access_token"], "admin-jxw", roles=("dept_admin",))
    assert missing.status_code == 422 and missing.json["error"]["code"] == "DEPARTMENT_REQUIRED"
    unknown = add_staff(client, op["access_token"], "admin-x", roles=("dept_admin",), department="nope")
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "UNKNOWN_DEPARTMENT"
    made = add_staff(client, op["access_token"], "admin-jxw", roles=("dept_admin",), department="jxw")
    assert made.status_code == 201 and made.json["account"]["department_code"] == "jxw"
    again = add_staff(client, op["access_token"], "ADMIN-jxw", roles=("clerk",), department="jxw")
    assert again.status_code == 409 and again.json["error"]["code"] == "USERNAME_TAKEN"
    reset = client.post(
        f"/api/v1/console/staff/{made.json['account']['id']}/reset-password", headers=bearer(op["access_token"])
    )
    assert reset.status_code == 200 and reset.json["initial_password"] != made.json["initial_password"]


def test_the_cli_creates_an_operator_and_prints_the_secrets_once(app, app_ctx):
    runner = app.test_cli_runner()
    args = ["staff", "create", "root-op", "--name", "Root", "--kind", "operator", "--role", "operator"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "one-time password:" in result.output and "otpauth://totp/" in result.output
    listed = runner.invoke(args=["staff", "list"])
    assert "root-op" in listed.output and "otpauth" not in listed.output
    bad = runner.invoke(args=["staff", "create", "x1", "--name", "X", "--kind", "staff", "--role", "operator"])
    assert bad.exit_code != 0 and "UNKNOWN_ROLE" in bad.output


def test_console_actions_are_in_the_audit_log_with_who_and_from_where(client, departments):
    admin = make_account(client, "admin1", roles=("dept_admin",))
    clerk = make_account(client, "clerk1")
    client.post("/api/v1/console/login", json={"username": "clerk1", "password": "my password typed wrong"})
    client.post("/api/v1/console/login", json={"username": "no-such-user", "password": "whatever it is"})
    client.post(
        f"/api/v1/console/staff/{clerk['id']}/disable",
        headers={**bearer(admin["access_token"]), "X-Request-ID": "req-disable-1"},
    )
    rows = db.session.execute(
        sa.text("SELECT action, actor_kind, actor_id, object_id, outcome, ip, request_id, details FROM audit_log")
    ).all()
    failed = [r for r in rows if r.action == "staff.login_failed"]
    assert {(r.object_id, r.outcome, r.details["code"]) for r in failed} == {
        (clerk["id"], "failed", "INVALID_CREDENTIALS"),
        (None, "failed", "INVALID_CREDENTIALS"),
    }
    assert all("no-such-user" not in str(r) and "typed wrong" not in str(r) for r in rows)
    disabled = next(r for r in rows if r.action == "staff.disable")
    assert (disabled.actor_kind, disabled.actor_id, disabled.object_id) == ("staff", admin["id"], clerk["id"])
    assert disabled.request_id == "req-disable-1" and disabled.ip == "127.0.0.1"
    logins = [r for r in rows if r.action == "staff.login" and r.outcome == "ok"]
    assert {r.actor_id for r in logins} == {admin["id"], clerk["id"]}
