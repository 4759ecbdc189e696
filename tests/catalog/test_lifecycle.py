"""The lifecycle table: every legal move audited, every illegal one a 409 that changes nothing."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import g

from app.catalog import lifecycle, service
from app.catalog.models import STATUSES, Service, ServiceVersion
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from tests.factories import make_department

CLERK = Caller("staff", "clerk-gjj", "s1", frozenset({"clerk"}), department="gjj")
SYSTEM = Caller("client", "client-gjj", "s2", scopes=frozenset({"catalog:write"}), department="gjj")
OTHER = Caller("staff", "clerk-jxw", "s3", frozenset({"clerk"}), department="jxw")
OPERATOR = Caller("operator", "op-1", "s4", frozenset({"operator"}))
AUDITOR = Caller("operator", "audit-1", "s5", frozenset({"auditor"}))
LINK = {
    "name": {"zh": "公积金网上办事大厅"},
    "privacy_notice": "仅用于跳转，不收集个人信息",
    "contact": "0632-12329",
    "binding": {"type": "link", "url": "https://gjj.example.gov.cn/"},
}


@contextmanager
def acting(app, caller):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.7"}):
        g.caller = caller
        yield


@pytest.fixture
def departments(app_ctx):
    make_department("gjj")
    make_department("jxw", name="枣庄市工业和信息化局", clouds=("industry",))


def register(app, caller=CLERK, code="gjj-hall", content=LINK):
    with acting(app, caller):
        return service.register(caller, code, "housing", "link", content)


def move(app, caller, action, number=1, comment=None, code="gjj-hall"):
    with acting(app, caller):
        return service.transition(caller, code, number, action, comment)


def status(number=1):
    return db.session.scalar(sa.select(ServiceVersion.status).where(ServiceVersion.number == number))


def audit_actions():
    return db.session.scalars(sa.text("SELECT action FROM audit_log ORDER BY id")).all()


def test_draft_to_live_each_move_audited_with_who_did_it(app, departments):
    register(app, SYSTEM)
    move(app, CLERK, "submit")
    move(app, OPERATOR, "approve", comment="同意")
    move(app, SYSTEM, "publish")
    assert status() == "LIVE"
    live = db.session.scalar(sa.select(Service.live_version_id))
    assert live == db.session.scalar(sa.select(ServiceVersion.id))
    rows = db.session.execute(sa.text("SELECT action, actor_kind, details, ip FROM audit_log ORDER BY id")).all()
    assert [(r.action, r.actor_kind) for r in rows] == [
        ("service.draft", "client"),
        ("service.submit", "staff"),
        ("service.approve", "operator"),
        ("service.publish", "client"),
    ]
    assert rows[2].details["from"] == "SUBMITTED" and rows[2].details["to"] == "APPROVED"
    assert {r.ip for r in rows} == {"10.0.0.7"}


def put_in(status_name: str) -> None:
    with unit_of_work() as s:
        s.execute(sa.update(ServiceVersion).values(status=status_name))


@pytest.mark.parametrize("status_name", STATUSES)
def test_every_move_the_table_does_not_allow_is_a_409_that_changes_nothing(app, departments, status_name):
    register(app)
    put_in(status_name)
    before = len(audit_actions())
    allowed = {m.action for m in lifecycle.TRANSITIONS if m.source == status_name}
    for action in set(lifecycle.ACTIONS) - allowed:
        with pytest.raises(AppError) as refused:
            move(app, OPERATOR, action, comment="x")
        assert (refused.value.status, refused.value.code) == (409, "ILLEGAL_TRANSITION"), action
        assert refused.value.details["allowed"] == sorted(allowed)
        assert status() == status_name
    assert len(audit_actions()) == before


def test_only_the_right_side_may_make_a_move(app, departments):
    register(app)
    with pytest.raises(AppError) as hidden:
        move(app, OTHER, "submit")
    assert hidden.value.status == 404, "another department's service is not found"
    move(app, CLERK, "submit")
    with pytest.raises(AppError) as refused:
        move(app, CLERK, "approve")
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(AppError) as auditor:
        move(app, AUDITOR, "approve")
    assert auditor.value.status == 404
    assert status() == "SUBMITTED"


def test_a_rejection_needs_comments_and_the_department_reopens_and_edits(app, departments):
    register(app)
    move(app, CLERK, "submit")
    with pytest.raises(AppError) as bare:
        move(app, OPERATOR, "reject")
    assert bare.value.code == "COMMENT_REQUIRED"
    move(app, OPERATOR, "reject", comment="请补充办理时间")
    assert db.session.scalar(sa.select(ServiceVersion.review_comment)) == "请补充办理时间"
    with acting(app, CLERK), pytest.raises(AppError) as frozen:
        service.edit_draft(CLERK, "gjj-hall", 1, {**LINK, "contact": "12329"})
    assert frozen.value.code == "VERSION_NOT_EDITABLE"
    move(app, CLERK, "reopen")
    with acting(app, CLERK):
        service.edit_draft(CLERK, "gjj-hall", 1, {**LINK, "contact": "12329"})
    move(app, CLERK, "submit")
    assert status() == "SUBMITTED"


def test_the_checklist_stops_a_submission_with_what_is_missing(app, departments):
    register(app, content={**LINK, "privacy_notice": None, "contact": " "})
    with pytest.raises(AppError) as refused:
        move(app, CLERK, "submit")
    assert refused.value.code == "CHECKLIST_FAILED"
    assert [p.split(":")[0] for p in refused.value.details["problems"]] == ["privacy_notice", "contact"]
    assert status() == "DRAFT"


def test_publishing_a_new_version_retires_the_old_one_in_the_same_step(app, departments):
    register(app)
    for caller, action in ((CLERK, "submit"), (OPERATOR, "approve"), (CLERK, "publish")):
        move(app, caller, action)
    with acting(app, CLERK), pytest.raises(AppError) as busy:
        service.new_draft(CLERK, "gjj-hall")
        service.new_draft(CLERK, "gjj-hall")
    assert busy.value.code == "DRAFT_EXISTS"
    for caller, action in ((CLERK, "submit"), (OPERATOR, "approve")):
        move(app, caller, action, number=2)
    assert status(1) == "LIVE", "the old version stays live until the new one is published"
    move(app, CLERK, "publish", number=2)
    assert (status(1), status(2)) == ("RETIRED", "LIVE")
    live = db.session.scalar(sa.select(Service.live_version_id))
    assert live == db.session.scalar(sa.select(ServiceVersion.id).where(ServiceVersion.number == 2))
    assert audit_actions()[-2:] == ["service.publish", "service.supersede"]


def test_a_suspension_by_the_platform_is_lifted_only_by_the_platform(app, departments):
    register(app)
    for caller, action in ((CLERK, "submit"), (OPERATOR, "approve"), (CLERK, "publish"), (OPERATOR, "suspend")):
        move(app, caller, action)
    with pytest.raises(AppError) as refused:
        move(app, CLERK, "resume")
    assert refused.value.code == "SUSPENDED_BY_OPERATOR"
    move(app, OPERATOR, "resume")
    move(app, CLERK, "suspend")
    move(app, CLERK, "resume")
    assert status() == "LIVE"


def test_eight_operators_approving_at_once_make_one_move(app, departments):
    register(app)
    move(app, CLERK, "submit")

    def approve(_):
        with app.app_context():
            try:
                move(app, OPERATOR, "approve")
                return "ok"
            except AppError as error:
                return error.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(approve, range(8)))
    assert outcomes == ["ILLEGAL_TRANSITION"] * 7 + ["ok"]
    assert audit_actions().count("service.approve") == 1
