"""`flask departments ...`: the secret is printed once, stored only hashed, and can be rotated or cut off."""

import re

import sqlalchemy as sa

from app.extensions import db
from app.identity import tokens
from app.oauth.service import secret_hash
from tests.oauth.conftest import ask_token


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["departments", *args])


def _created(output: str) -> tuple[str, str]:
    client_id = re.search(r"^client_id:\s+(\S+)$", output, re.M).group(1)
    secret = re.search(r"^client_secret:\s+(\S+)$", output, re.M).group(1)
    return client_id, secret


def _token_status(client, client_id, secret) -> int:
    from app.oauth.service import Credentials

    return ask_token(client, Credentials(client_id, secret)).status_code


def test_create_prints_the_secret_once_and_stores_only_its_hash(app, client, department, caplog, capfd):
    result = _run(app, "create-client", "gjj", "--name", "公积金业务系统", "--scope", "catalog:write")
    assert result.exit_code == 0, result.output
    client_id, secret = _created(result.output)
    assert result.output.count(secret) == 1
    assert len(secret) >= 43, "256 random bits"
    assert _token_status(client, client_id, secret) == 200
    with db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM department_clients")).mappings().one()
    assert not any(secret in str(value) for value in row.values()), "the table holds no clear secret"
    assert row["secret_hash"] == secret_hash(secret)
    listed = _run(app, "list-clients")
    assert listed.exit_code == 0 and client_id in listed.output and "catalog:write" in listed.output
    assert secret not in listed.output and row["secret_hash"] not in listed.output
    captured = capfd.readouterr()
    assert secret not in caplog.text and secret not in captured.err and secret not in captured.out


def test_rotate_prints_a_new_secret_and_the_old_one_and_its_tokens_stop_working(app, client, department):
    client_id, old = _created(_run(app, "create-client", "gjj", "--name", "x", "--scope", "bills:write").output)
    token = ask_token(client, _creds(client_id, old)).json["access_token"]
    result = _run(app, "rotate-secret", client_id)
    assert result.exit_code == 0, result.output
    _, new = _created(result.output)
    assert new != old and result.output.count(new) == 1
    assert _token_status(client, client_id, old) == 401
    assert _token_status(client, client_id, new) == 200
    assert _reason(token) == "revoked"


def test_disable_refuses_new_tokens_and_revokes_live_ones_at_once(app, client, department):
    client_id, secret = _created(_run(app, "create-client", "gjj", "--name", "x", "--scope", "bills:write").output)
    live = [ask_token(client, _creds(client_id, secret)).json["access_token"] for _ in range(2)]
    result = _run(app, "disable-client", client_id)
    assert result.exit_code == 0 and "2 live token(s) revoked" in result.output
    assert [_reason(token) for token in live] == ["revoked", "revoked"]
    assert _token_status(client, client_id, secret) == 401
    assert "disabled" in _run(app, "list-clients").output


def test_unknown_department_scope_or_client_is_a_clear_error(app, department):
    bad_department = _run(app, "create-client", "nope", "--name", "x", "--scope", "catalog:write")
    assert bad_department.exit_code != 0 and "DEPARTMENT_NOT_FOUND" in bad_department.output
    bad_scope = _run(app, "create-client", "gjj", "--name", "x", "--scope", "root")
    assert bad_scope.exit_code != 0 and "root" in bad_scope.output
    no_scope = _run(app, "create-client", "gjj", "--name", "x")
    assert no_scope.exit_code != 0
    for command in ("disable-client", "rotate-secret"):
        unknown = _run(app, command, "no-such-client")
        assert unknown.exit_code != 0 and "CLIENT_NOT_FOUND" in unknown.output
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM department_clients")).scalar() == 0


def _creds(client_id, secret):
    from app.oauth.service import Credentials

    return Credentials(client_id, secret)


def _reason(token):
    from app.errors import AppError

    try:
        tokens.verify(token)
    except AppError as error:
        return error.details["reason"]
    return None


def test_operator_actions_and_a_known_clients_failed_logins_are_audited(app, client, department):
    from app.audit.models import AuditEntry

    client_id, secret = _created(_run(app, "create-client", "gjj", "--name", "x", "--scope", "bills:write").output)
    assert _token_status(client, client_id, "wrong") == 401
    assert _token_status(client, "never-issued", "wrong") == 401  # noise, not recorded
    _run(app, "rotate-secret", client_id)
    _run(app, "disable-client", client_id)
    db.session.expire_all()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.object_id, e.outcome) for e in entries] == [
        ("department_client.create", client_id, "ok"),
        ("department_client.auth_failed", client_id, "failed"),
        ("department_client.rotate_secret", client_id, "ok"),
        ("department_client.disable", client_id, "ok"),
    ]
    assert entries[0].details == {"department": "gjj", "scopes": ["bills:write"]}
    assert all(secret not in str(e.details) for e in entries)
