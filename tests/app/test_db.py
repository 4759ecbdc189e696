import pytest
import sqlalchemy as sa

from app.city.models import District
from app.clock import utcnow
from app.db import after_commit, unit_of_work
from app.extensions import db
from app.outbox.models import OutboxMessage
from tests.factories import make_district


def test_a_nested_unit_of_work_joins_the_outer_one(app_ctx):
    ran = []
    with pytest.raises(RuntimeError), unit_of_work() as session:
        session.add(District(code="370404", name="峄城区"))
        with unit_of_work() as inner:  # e.g. a service calling another service
            inner.add(District(code="370406", name="山亭区"))
            after_commit(lambda: ran.append("hook"))
        assert ran == [], "hooks wait for the outermost commit"
        raise RuntimeError("the outer work fails after the inner one finished")
    assert db.session.query(District).count() == 0
    assert ran == []


def test_hooks_run_once_after_the_outermost_commit(app_ctx):
    ran = []
    with unit_of_work():
        with unit_of_work():
            after_commit(lambda: ran.append("inner"))
        after_commit(lambda: ran.append("outer"))
    assert ran == ["inner", "outer"]


def test_times_come_back_in_utc_whatever_the_session_time_zone(app_ctx):
    from app.outbox.service import enqueue

    with unit_of_work():
        message_id = enqueue("nowhere", "http://127.0.0.1:9/", {}).id
    db.session.remove()
    db.session.execute(sa.text("SET TIME ZONE 'Asia/Shanghai'"))
    row = db.session.get(OutboxMessage, message_id)
    assert row.created_at.utcoffset().total_seconds() == 0
    assert abs((utcnow() - row.created_at).total_seconds()) < 60


def test_factories_write_through_the_unit_of_work(app_ctx):
    make_district("370481", "滕州市")
    db.session.remove()
    assert db.session.get(District, "370481").name == "滕州市"
