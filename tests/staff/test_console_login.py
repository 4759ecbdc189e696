"""Console login: passwords, first-login change, lockout, TOTP for operators, refresh and logout."""

import uuid

import pyotp
import pytest
import sqlalchemy as sa

from app.db import unit_of_work
from app.extensions import db
from app.identity import tokens
from app.identity.models import AuthSession
from app.staff import accounts
from app.staff.models import StaffAccount
from tests.factories import make_department
from tests.identity.helpers import bearer, login_wechat
from tests.staff.helpers import PASSWORD, make_account, totp_code


@pytest.fixture
def gjj(app_ctx):
    return make_department("gjj")


def op_step(op) -> int:
    """The TOTP time step of the code used at the account's first login."""
    return db.session.scalar(sa.select(StaffAccount.totp_last_step).where(StaffAccount.id == uuid.UUID(op["id"])))


def login(client, username, password, **extra):
    return client.post("/api/v1/console/login", json={"username": username, "password": password, **extra})


def test_first_login_must_choose_a_new_password_and_then_the_token_carries_roles(client, gjj):
    created = accounts.create("Clerk1", "Clerk One", "staff", ["clerk"], "gjj")
    refused = login(client, "clerk1", created.initial_password)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    weak = login(client, "clerk1", created.initial_password, new_password="short")
    assert weak.status_code == 422 and weak.json["error"]["code"] == "WEAK_PASSWORD"

    ok = login(client, "CLERK1 ", created.initial_password, new_password=PASSWORD)
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    caller = tokens.verify(ok.json["access_token"])
    assert (caller.kind, caller.roles, caller.department) == ("staff", frozenset({"clerk"}), "gjj")
    # The one-time password is spent; the new one works.
    assert login(client, "clerk1", created.initial_password).status_code == 401
    assert login(client, "clerk1", PASSWORD).status_code == 200
    me = client.get("/api/v1/console/me", headers=bearer(ok.json["access_token"]))
    assert me.json["username"] == "clerk1" and me.json["roles"] == ["clerk"]
    assert me.json["last_login_at"].endswith("+08:00")


def test_unknown_user_wrong_password_and_disabled_account_look_the_same(client, gjj):
    make_account(client, "clerk1")
    make_account(client, "clerk2")
    with unit_of_work() as s:
        s.execute(sa.update(StaffAccount).where(StaffAccount.username == "clerk2").values(status="disabled"))
    answers = [
        login(client, "nobody", PASSWORD),
        login(client, "clerk1", "wrong password!"),
        login(client, "clerk2", PASSWORD),
    ]
    assert {(r.status_code, r.json["error"]["code"], r.json["error"]["message"]) for r in answers} == {
        (401, "INVALID_CREDENTIALS", "用户名或密码错误")
    }


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, gjj):
    make_account(client, "clerk1")
    for _ in range(4):
        assert login(client, "clerk1", "wrong password!").json["error"]["code"] == "INVALID_CREDENTIALS"
    locked = login(client, "clerk1", "wrong password!")
    assert locked.status_code == 403 and locked.json["error"]["code"] == "ACCOUNT_LOCKED"
    assert 800 < int(locked.headers["Retry-After"]) <= 900
    still = login(client, "clerk1", PASSWORD)
    assert still.json["error"]["code"] == "ACCOUNT_LOCKED"
    # The lock runs out (moved into the past here) and the right password works again.
    with unit_of_work() as s:
        s.execute(sa.update(StaffAccount).values(locked_until=sa.func.now() - sa.text("interval '1 second'")))
    assert login(client, "clerk1", PASSWORD).status_code == 200


def test_a_success_resets_the_count_of_failures(client, gjj):
    make_account(client, "clerk1")
    for _ in range(4):
        login(client, "clerk1", "wrong password!")
    assert login(client, "clerk1", PASSWORD).status_code == 200
    for _ in range(4):
        assert login(client, "clerk1", "wrong password!").status_code == 401


def test_operators_need_a_fresh_totp_code_that_works_only_once(client, app_ctx):
    op = make_account(client, "op1", kind="operator", roles=("operator",))
    needs = login(client, "op1", PASSWORD)
    assert needs.status_code == 401 and needs.json["error"]["code"] == "TOTP_REQUIRED"
    wrong = login(client, "op1", PASSWORD, totp="000000" if totp_code(op["totp_secret"]) != "000000" else "111111")
    assert wrong.json["error"]["code"] == "INVALID_TOTP"
    # The code the helper used at first login cannot be replayed; the next step's code can be used once.
    replay = login(client, "op1", PASSWORD, totp=op["totp_used"])
    assert replay.json["error"]["code"] == "INVALID_TOTP"
    fresh = pyotp.TOTP(op["totp_secret"]).at((op_step(op) + 1) * 30)
    ok = login(client, "op1", PASSWORD, totp=fresh)
    assert ok.status_code == 200 and tokens.verify(ok.json["access_token"]).kind == "operator"
    assert login(client, "op1", PASSWORD, totp=fresh).json["error"]["code"] == "INVALID_TOTP"


def test_wrong_totp_codes_count_towards_the_lockout(client, app_ctx):
    op = make_account(client, "op1", kind="operator", roles=("operator",))
    wrong = "000000" if totp_code(op["totp_secret"], 1) != "000000" else "111111"
    codes = [login(client, "op1", PASSWORD, totp=wrong).json["error"]["code"] for _ in range(5)]
    assert codes == ["INVALID_TOTP"] * 4 + ["ACCOUNT_LOCKED"]


def test_refresh_rotates_and_reads_roles_afresh_logout_ends_the_session(client, gjj):
    staff = make_account(client, "admin1", roles=("dept_admin",))
    with unit_of_work() as s:
        s.execute(sa.update(StaffAccount).values(roles=["clerk"]))
    renewed = client.post("/api/v1/console/refresh", json={"refresh_token": staff["refresh_token"]})
    assert renewed.status_code == 200
    assert tokens.verify(renewed.json["access_token"]).roles == frozenset({"clerk"})

    out = client.post("/api/v1/console/logout", headers=bearer(renewed.json["access_token"]))
    assert out.status_code == 204
    after = client.get("/api/v1/console/me", headers=bearer(renewed.json["access_token"]))
    assert after.status_code == 401 and after.json["error"]["details"]["reason"] == "revoked"


def test_console_and_citizen_refresh_tokens_only_work_at_their_own_endpoint(client, gjj, sandbox_url):
    staff = make_account(client, "clerk1")
    citizen = login_wechat(client, sandbox_url)
    at_citizens = client.post("/api/v1/auth/refresh", json={"refresh_token": staff["refresh_token"]})
    at_console = client.post("/api/v1/console/refresh", json={"refresh_token": citizen["refresh_token"]})
    assert (at_citizens.status_code, at_citizens.json["error"]["code"]) == (401, "INVALID_REFRESH_TOKEN")
    assert (at_console.status_code, at_console.json["error"]["code"]) == (401, "INVALID_REFRESH_TOKEN")
    # Neither attempt spent the token: each still works where it belongs.
    assert client.post("/api/v1/console/refresh", json={"refresh_token": staff["refresh_token"]}).status_code == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": citizen["refresh_token"]}).status_code == 200


def test_a_console_session_ends_a_working_day_after_login_however_often_refreshed(client, gjj):
    staff = make_account(client, "clerk1")
    renewed = client.post("/api/v1/console/refresh", json={"refresh_token": staff["refresh_token"]}).json
    with unit_of_work() as s:
        s.execute(sa.update(AuthSession).values(created_at=sa.func.now() - sa.text("interval '13 hours'")))
    over = client.post("/api/v1/console/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert over.status_code == 401 and over.json["error"]["code"] == "INVALID_REFRESH_TOKEN"


def change_password(client, token, current, new):
    body = {"current_password": current, "new_password": new}
    return client.post("/api/v1/console/password", json=body, headers=bearer(token))


def test_changing_the_password_ends_the_other_sessions(client, gjj):
    first = make_account(client, "clerk1")
    second = login(client, "clerk1", PASSWORD).json
    new = "another long passphrase 42"
    wrong = change_password(client, second["access_token"], "not it at all", new)
    # The session is fine: 403 (not 401, which would send the console back to its login page).
    assert wrong.status_code == 403 and wrong.json["error"]["code"] == "CURRENT_PASSWORD_WRONG"
    assert change_password(client, second["access_token"], PASSWORD, new).status_code == 204
    assert client.get("/api/v1/console/me", headers=bearer(first["access_token"])).status_code == 401
    assert client.get("/api/v1/console/me", headers=bearer(second["access_token"])).status_code == 200
    assert login(client, "clerk1", new).status_code == 200


def test_guessing_the_current_password_from_a_session_locks_the_account(client, gjj):
    staff = make_account(client, "clerk1")
    codes = [
        change_password(client, staff["access_token"], f"guess number {i}", "another long passphrase 42").json["error"][
            "code"
        ]
        for i in range(5)
    ]
    assert codes == ["CURRENT_PASSWORD_WRONG"] * 4 + ["ACCOUNT_LOCKED"]
    assert login(client, "clerk1", PASSWORD).json["error"]["code"] == "ACCOUNT_LOCKED"


def test_unknown_names_lock_like_real_ones_so_a_lockout_reveals_nobody(client, gjj):
    make_account(client, "clerk1")
    real = [login(client, "clerk1", f"wrong password {i}").json["error"]["code"] for i in range(6)]
    unknown = [login(client, "nobody-here", f"wrong password {i}").json["error"]["code"] for i in range(6)]
    assert real == unknown == ["INVALID_CREDENTIALS"] * 4 + ["ACCOUNT_LOCKED"] * 2


def test_a_first_login_refused_for_a_weak_password_still_spends_the_totp_code(client, app_ctx):
    created = accounts.create("op2", "Op Two", "operator", ["operator"], None)
    code = pyotp.TOTP(created.account.totp_secret).now()
    body = {"username": "op2", "password": created.initial_password, "totp": code}
    assert login(client, **body, new_password="short").json["error"]["code"] == "WEAK_PASSWORD"
    again = login(client, **body, new_password=PASSWORD)
    assert again.json["error"]["code"] == "INVALID_TOTP"


def test_passwords_are_argon2_hashes_and_totp_secrets_are_encrypted(client, app_ctx):
    op = make_account(client, "op1", kind="operator", roles=("auditor",))
    row = db.session.execute(sa.text("SELECT password_hash, totp_secret FROM staff_accounts")).one()
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert op["totp_secret"] not in row.totp_secret
