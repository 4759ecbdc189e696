"""The audit log: what gets in, that nothing gets out or changes, and how auditors read it."""

import os
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.audit import service as audit
from app.audit.models import AuditEntry, AuditLogIsAppendOnly
from app.city.models import District
from app.db import unit_of_work
from app.extensions import db
from app.identity.tokens import Caller
from tests.audit.conftest import AUDITOR, CLERK, OPERATOR, entries, headers_for
from tests.factories import make_district

CITIZEN = Caller("citizen", "c0ffee00-0000-4000-8000-000000000001")
CLIENT = Caller("client", "client-y", scopes=frozenset({"catalog:write"}), department="gjj")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def history(app_ctx, monkeypatch):
    """Six recorded actions on known days, by different callers, with different outcomes."""
    rows = [
        (at(1), OPERATOR, "outbox.retry", "outbox_message", "m-1", "ok"),
        (at(2), OPERATOR, "outbox.retry", "outbox_message", "m-2", "failed"),
        (at(3), CLERK, "citizen.read_personal_data", "citizen", "c-1", "ok"),
        (at(4), CLERK, "service.update", "service", "gjj-balance", "ok"),
        (at(5), CLIENT, "service.update", "service", "gjj-balance", "denied"),
        (at(6), None, "outbox.bury", "outbox_message", "m-3", "ok"),
    ]
    for moment, caller, action, object_type, object_id, outcome in rows:
        monkeypatch.setattr(audit, "utcnow", lambda moment=moment: moment)
        audit.record(action, object_type, object_id, outcome=outcome, caller=caller)
    monkeypatch.undo()
    return rows


def search(client, headers, **params):
    response = client.get("/api/v1/ops/audit", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def found(client, headers, **params) -> list[tuple[str, str]]:
    """(action, object_id) of the entries found, leaving out the auditor's own reads."""
    items = search(client, headers, **params)["items"]
    return [(e["action"], e["object_id"]) for e in items if e["actor_id"] != AUDITOR.subject]


def test_auditor_filters_by_each_field(client, history, as_auditor):
    assert found(client, as_auditor, actor_id="staff-x") == [
        ("service.update", "gjj-balance"),
        ("citizen.read_personal_data", "c-1"),
    ]
    assert found(client, as_auditor, actor_kind="system") == [("outbox.bury", "m-3")]
    assert found(client, as_auditor, actor_kind="client") == [("service.update", "gjj-balance")]
    assert found(client, as_auditor, action="outbox.retry") == [("outbox.retry", "m-2"), ("outbox.retry", "m-1")]
    assert found(client, as_auditor, action="outbox.") == [
        ("outbox.bury", "m-3"),
        ("outbox.retry", "m-2"),
        ("outbox.retry", "m-1"),
    ]
    assert found(client, as_auditor, action="outbox") == [], "without the dot it is an exact action"
    assert found(client, as_auditor, object_type="service", object_id="gjj-balance") == [
        ("service.update", "gjj-balance"),
        ("service.update", "gjj-balance"),
    ]
    assert found(client, as_auditor, outcome="denied") == [("service.update", "gjj-balance")]
    assert found(client, as_auditor, outcome="failed") == [("outbox.retry", "m-2")]
    # since is inclusive, until exclusive; any offset is understood (Shanghai noon = 04:00 UTC).
    assert found(client, as_auditor, since="2026-03-02T12:00:00Z", until="2026-03-04T20:00:00+08:00") == [
        ("citizen.read_personal_data", "c-1"),
        ("outbox.retry", "m-2"),
    ]


def test_an_entry_says_who_what_which_and_when(client, history, as_auditor):
    [entry] = search(client, as_auditor, outcome="denied")["items"]
    assert entry["actor_kind"] == "client" and entry["actor_department"] == "gjj"
    assert entry["at"] == "2026-03-05T20:00:00+08:00", "shown in Asia/Shanghai with its offset"
    assert entry["details"] == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-01T12:00:00"}, "since"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until"),
        ({"outcome": "maybe"}, "outcome"),
        ({"limit": 201}, "limit"),
        ({"cursor": 0}, "cursor"),
        ({"object_id": "a\x00b"}, "object_id"),
        ({"actor": "staff-x"}, "actor"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(client, app_ctx, as_auditor, params, field):
    response = client.get("/api/v1/ops/audit", query_string=params, headers=as_auditor)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]


def test_paging_with_the_cursor_has_no_gaps_or_repeats(client, app_ctx, as_auditor):
    for n in range(23):
        audit.record("service.update", "service", f"s-{n}", caller=CLERK)
    everything = [e.id for e in reversed(entries())]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = search(client, as_auditor, **params)
        seen += [e["id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything, "newest first, each entry once, none left out"
    assert pages == 5
    # Every page read is on the record, newest first and after what it read.
    reads = entries(action="audit.read")
    assert len(reads) == 5 and all(r.id > everything[0] for r in reads)
    assert reads[1].details == {"filters": {}, "cursor": everything[4], "returned": 5}


def test_only_auditors_read_the_log_and_refusals_are_recorded(client, app_ctx, as_auditor):
    clerk = client.get("/api/v1/ops/audit", headers=headers_for(CLERK))
    operator = client.get("/api/v1/ops/audit", headers=headers_for(OPERATOR))
    citizen = client.get("/api/v1/ops/audit", headers=headers_for(CITIZEN))
    anonymous = client.get("/api/v1/ops/audit")
    assert [r.status_code for r in (clerk, operator, citizen, anonymous)] == [403, 403, 403, 401]
    assert {r.json["error"]["code"] for r in (clerk, operator, citizen)} == {"FORBIDDEN"}
    denied = entries(outcome="denied")
    assert [(d.actor_id, d.action) for d in denied] == [("staff-x", "audit.read"), ("op-1", "audit.read")]
    assert denied[0].actor_roles == ["clerk"] and denied[0].details == {"needs_role": ["auditor"]}
    assert entries(actor_kind="citizen") == [], "a citizen's own doings are not the audit's business"


def test_entries_carry_the_callers_address_and_request_id(client, app_ctx, as_operator):
    response = client.post(
        f"/api/v1/ops/outbox/{'0' * 8}-0000-4000-8000-{'0' * 12}/retry",
        headers=as_operator | {"X-Request-ID": "req-audit-42"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 404
    [entry] = entries()
    assert (entry.ip, entry.request_id) == ("203.0.113.7", "req-audit-42")
    assert (entry.actor_kind, entry.actor_id, entry.actor_roles) == ("operator", "op-1", ["operator"])
    assert (entry.action, entry.outcome, entry.details) == (
        "outbox.retry",
        "failed",
        {"code": "OUTBOX_MESSAGE_NOT_FOUND"},
    )


def test_rolled_back_work_leaves_no_entry_but_record_now_stays(app_ctx):
    make_district("370403", "薛城区")
    with pytest.raises(RuntimeError), unit_of_work() as session:
        session.get(District, "370403").name = "改名"
        audit.record("district.rename", "district", "370403", caller=OPERATOR)
        audit.record_now("district.rename", "district", "370403", caller=OPERATOR)
        raise RuntimeError("the write failed after it was recorded")
    assert db.session.get(District, "370403").name == "薛城区"
    [kept] = entries()
    assert (kept.action, kept.outcome, kept.actor_kind) == ("district.rename", "failed", "operator")


def test_committed_work_and_its_entry_commit_together(app_ctx):
    make_district("370403", "薛城区")
    with unit_of_work() as session:
        session.get(District, "370403").name = "薛城"
        audit.record("district.rename", "district", "370403", caller=OPERATOR, details={"fields": ["name"]})
    [entry] = entries()
    assert (entry.object_type, entry.object_id, entry.details) == ("district", "370403", {"fields": ["name"]})
    assert entry.ip is None and entry.request_id is None, "no request, no address"


def test_who_gets_recorded(app_ctx):
    assert audit.record("profile.update", "citizen", CITIZEN.subject, caller=CITIZEN) is None
    assert audit.record_personal_data_read("citizen", CITIZEN.subject, ["phone"], caller=CITIZEN) is None
    audit.record_personal_data_read("citizen", CITIZEN.subject, ["real_name", "phone", "phone"], caller=CLERK)
    audit.record("outbox.bury", "outbox_message", None)
    read, bury = entries()
    assert (read.action, read.actor_id, read.actor_department) == ("citizen.read_personal_data", "staff-x", "jxw")
    assert read.details == {"fields": ["phone", "real_name"]}
    assert (bury.actor_kind, bury.actor_id) == ("system", None), "no caller outside a request: the system"
    with pytest.raises(ValueError, match="dotted"):
        audit.record("Retry", "outbox_message", "m-1", caller=OPERATOR)


def test_personal_data_never_lands_in_details(app_ctx):
    audit.record(
        "citizen.update", "citizen", "c-1", caller=CLERK, details={"phone": "13800138000", "id": "370402199001011234"}
    )
    [entry] = entries()
    assert entry.details == {"phone": audit.REDACTED, "id": audit.REDACTED}


def test_personal_data_as_numbers_keys_or_nested_is_kept_out_too(app_ctx, caplog):
    details = {
        "phone": 13800138000,
        "id_number": 370402199001011234,
        "weight": 13800138000.0,
        "13900139000": "contacted",
        "counts": {"370402198506120312": 2, "ok": 3},
        "batches": [[{"to": 13700137000}], (15000000000, "gjj-balance")],
        "ids": [7, 42, True, None, 1.5],
    }
    audit.record("citizen.update", "citizen", "c-1", caller=CLERK, details=details)
    [entry] = entries()
    redacted = audit.REDACTED
    assert entry.details == {
        "phone": redacted,
        "id_number": redacted,
        "weight": redacted,
        redacted: "contacted",
        "counts": {redacted: 2, "ok": 3},
        "batches": [[{"to": redacted}], [redacted, "gjj-balance"]],
        "ids": [7, 42, True, None, 1.5],
    }
    stored = repr(entry.details)
    for secret in ("13800138000", "370402199001011234", "13900139000", "370402198506120312", "13700137000"):
        assert secret not in stored and secret not in caplog.text


def test_two_redacted_keys_do_not_overwrite_each_other(app_ctx):
    details = {"13800138000": "a", "13900139000": "b", "note": {"13700137000": 1}}
    audit.record("citizen.update", "citizen", "c-1", caller=CLERK, details=details)
    [entry] = entries()
    assert sorted(entry.details.values(), key=str) == ["a", "b", {audit.REDACTED: 1}]
    assert set(entry.details) == {audit.REDACTED, f"{audit.REDACTED}#2", "note"}


def test_raw_update_delete_and_truncate_fail_on_postgresql(app_ctx):
    audit.record("service.update", "service", "gjj-balance", caller=CLERK)
    for statement in (
        "UPDATE audit_log SET action = 'nothing.happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert [e.action for e in entries()] == ["service.update"]


def test_only_the_tables_owner_may_step_past_the_trigger(app_ctx):
    """The app's database role (not the owner) cannot switch the guard off with the setting."""
    audit.record("service.update", "service", "gjj-balance", caller=CLERK)
    role = f"audit_probe_{os.getpid()}"
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} NOLOGIN"))
        conn.execute(sa.text(f"GRANT SELECT, UPDATE, DELETE ON audit_log TO {role}"))
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(f"SET LOCAL ROLE {role}"))
            conn.execute(sa.text("SET LOCAL app.audit_maintenance = 'on'"))
            conn.execute(sa.text("DELETE FROM audit_log"))
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP OWNED BY {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))
    assert len(entries()) == 1


def test_the_orm_refuses_to_change_or_delete_an_entry_even_on_sqlite(make_app, tmp_path):
    """SQLite (the embedded default) has no trigger: the session guard is all there is."""
    sqlite_app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'city.db'}")
    with sqlite_app.app_context():
        upgrade()
        entry = audit.record("service.update", "service", "gjj-balance", caller=CLERK)
        with pytest.raises(AuditLogIsAppendOnly), unit_of_work():
            entry.action = "nothing.happened"
        with pytest.raises(AuditLogIsAppendOnly), unit_of_work() as session:
            session.delete(session.get(AuditEntry, entry.id))
        with pytest.raises(AuditLogIsAppendOnly), unit_of_work() as session:
            session.execute(sa.delete(AuditEntry))
        with pytest.raises(AuditLogIsAppendOnly), unit_of_work() as session:
            session.execute(sa.update(AuditEntry.__table__).values(outcome="denied"))
        db.session.expire_all()
        assert [(e.action, e.outcome) for e in db.session.query(AuditEntry)] == [("service.update", "ok")]
        db.session.remove()
