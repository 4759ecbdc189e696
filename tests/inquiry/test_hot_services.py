"""Hot services: what most people ran this week comes first; the counts reach the service row."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app.catalog import usage
from app.catalog.models import Service
from app.extensions import db, redis
from tests.identity.helpers import bearer, login_wechat


def run(client, headers, code):
    return client.post(f"/api/v1/services/{code}/query", json={"inputs": {"account": "ZZ123456"}}, headers=headers)


def uses(code):
    db.session.rollback()
    return db.session.scalar(sa.select(Service.uses).where(Service.code == code))


def hot(client, query=""):
    return [(s["code"], s["recent_uses"]) for s in client.get(f"/api/v1/catalog/hot{query}").json]


@pytest.fixture
def people(client, sandbox_url):
    return {name: bearer(login_wechat(client, sandbox_url, name)["access_token"]) for name in ("alice", "bob", "carol")}


def test_what_most_people_ran_comes_first_and_repeats_do_not_count(client, go_live, people):
    for code in ("gjj-balance", "gjj-loan", "gjj-quiet"):
        go_live(code)
    assert hot(client) == []  # nothing used yet: no made-up ranking
    for name in ("alice", "bob"):
        assert run(client, people[name], "gjj-balance").status_code == 200
    for _ in range(10):  # one citizen (or a script) running a service again and again is one use a day
        assert run(client, people["alice"], "gjj-loan").status_code == 200
    assert hot(client, "?limit=5") == [("gjj-balance", 2), ("gjj-loan", 1)]
    for name in ("bob", "carol"):
        run(client, people[name], "gjj-loan")
    first = client.get("/api/v1/catalog/hot?limit=1")
    assert [s["code"] for s in first.json] == ["gjj-loan"] and first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/catalog/hot?limit=1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_failed_runs_are_not_uses(client, go_live, people):
    go_live()
    refused = client.post("/api/v1/services/gjj-balance/query", json={"inputs": {}}, headers=people["alice"])
    assert refused.status_code == 422
    assert hot(client) == []


def test_counts_reach_the_service_row_and_its_order_once_even_while_people_keep_running(app, client, go_live):
    go_live("gjj-balance")
    go_live("gjj-loan")
    assert [s["code"] for s in client.get("/api/v1/catalog/services").json] == ["gjj-balance", "gjj-loan"]
    with app.app_context():
        for n in range(3):
            usage.record_use("gjj-loan", f"citizen:{n}")
        assert usage.flush_uses() == 1
        assert uses("gjj-loan") == 3
        assert usage.flush_uses() == 0  # nothing new: nothing added twice
    # The catalog lists by uses: the flush is seen without waiting for the next publish.
    assert [s["code"] for s in client.get("/api/v1/catalog/services").json] == ["gjj-loan", "gjj-balance"]

    with app.app_context(), ThreadPoolExecutor(8) as pool:
        # Uses counted while a flush is under way land in the next one; flushes at once add nothing twice.
        runs = [pool.submit(_in_context, app, usage.record_use, "gjj-loan", f"citizen:x{n}") for n in range(20)]
        flushes = [pool.submit(_in_context, app, usage.flush_uses) for _ in range(6)]
        [future.result() for future in runs + flushes]
        usage.flush_uses()
        assert uses("gjj-loan") == 23


def _in_context(app, function, *args):
    with app.app_context():
        return function(*args)


def test_a_failed_database_write_keeps_the_counts_for_the_next_flush(app, go_live, monkeypatch):
    go_live()
    with app.app_context():
        usage.record_use("gjj-balance", "citizen:a")
        import app.catalog.usage as module

        def broken_unit_of_work():
            raise RuntimeError("database went away")

        monkeypatch.setattr(module, "unit_of_work", broken_unit_of_work)
        with pytest.raises(RuntimeError):
            usage.flush_uses()
        monkeypatch.undo()
        assert redis.exists(usage.FLUSHING_KEY) and not redis.exists(usage.FLUSH_LOCK_KEY)
        usage.record_use("gjj-balance", "citizen:b")
        usage.flush_uses()  # the stranded counts first
        usage.flush_uses()  # then the one counted meanwhile
        assert uses("gjj-balance") == 2


def test_a_worker_gathers_runs_and_counts_them_together_a_moment_later(app, client, go_live, people, monkeypatch):
    go_live("gjj-balance")
    monkeypatch.setitem(app.config, "USE_COUNT_BATCH_SECONDS", 0.2)
    for name in ("alice", "alice", "bob"):
        assert run(client, people[name], "gjj-balance").status_code == 200
    deadline = time.monotonic() + 5
    while hot(client) != [("gjj-balance", 2)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hot(client) == [("gjj-balance", 2)]  # once per person, as when counted at each run
    with app.app_context():
        assert usage.flush_uses() == 1
        assert uses("gjj-balance") == 2
