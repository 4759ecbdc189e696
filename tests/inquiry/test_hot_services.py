"""Hot services: what citizens ran most this week comes first; the counts reach the service row."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app.catalog import usage
from app.catalog.models import Service
from app.extensions import db, redis


def run(client, headers, code):
    return client.post(f"/api/v1/services/{code}/query", json={"inputs": {"account": "ZZ123456"}}, headers=headers)


def uses(code):
    db.session.rollback()
    return db.session.scalar(sa.select(Service.uses).where(Service.code == code))


def test_the_most_run_services_come_first(client, go_live, citizen):
    for code in ("gjj-balance", "gjj-loan", "gjj-quiet"):
        go_live(code)
    assert client.get("/api/v1/catalog/hot").json == []  # nothing used yet: no made-up ranking
    for code, times in (("gjj-balance", 2), ("gjj-loan", 3)):
        for _ in range(times):
            assert run(client, citizen, code).status_code == 200
    assert run(client, citizen, "gjj-balance").status_code == 200  # a tie: the order stays stable (by code)
    hot = client.get("/api/v1/catalog/hot?limit=5")
    assert [(s["code"], s["recent_uses"]) for s in hot.json] == [("gjj-balance", 3), ("gjj-loan", 3)]
    assert hot.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/catalog/hot?limit=5", headers={"If-None-Match": hot.headers["ETag"]})
    assert again.status_code == 304
    run(client, citizen, "gjj-loan")
    assert client.get("/api/v1/catalog/hot?limit=1").json[0]["code"] == "gjj-loan"


def test_failed_runs_are_not_uses(client, go_live, citizen):
    go_live()
    assert client.post("/api/v1/services/gjj-balance/query", json={"inputs": {}}, headers=citizen).status_code == 422
    assert client.get("/api/v1/catalog/hot").json == []


def test_counts_reach_the_service_row_once_even_while_citizens_keep_running(app, client, go_live, citizen):
    go_live()
    for _ in range(3):
        run(client, citizen, "gjj-balance")
    with app.app_context():
        assert usage.flush_uses() == 1
        assert uses("gjj-balance") == 3
        assert usage.flush_uses() == 0  # nothing new: nothing added twice

        # Runs while a flush is under way land in the next one; two flushes at once add nothing twice.
        with ThreadPoolExecutor(8) as pool:
            runs = [pool.submit(run, app.test_client(), citizen, "gjj-balance") for _ in range(20)]
            flushes = [pool.submit(_flush_in_context, app) for _ in range(6)]
        assert all(r.result().status_code == 200 for r in runs)
        [f.result() for f in flushes]
        usage.flush_uses()
        assert uses("gjj-balance") == 23


def _flush_in_context(app):
    with app.app_context():
        return usage.flush_uses()


def test_a_failed_database_write_keeps_the_counts_for_the_next_flush(app, client, go_live, citizen, monkeypatch):
    go_live()
    run(client, citizen, "gjj-balance")
    with app.app_context():
        import app.catalog.usage as module

        def broken_unit_of_work():
            raise RuntimeError("database went away")

        monkeypatch.setattr(module, "unit_of_work", broken_unit_of_work)
        with pytest.raises(RuntimeError):
            usage.flush_uses()
        monkeypatch.undo()
        assert redis.exists(usage.FLUSHING_KEY) and not redis.exists(usage.FLUSH_LOCK_KEY)
        run(client, citizen, "gjj-balance")
        usage.flush_uses()  # the stranded counts first
        usage.flush_uses()  # then the one counted meanwhile
        assert uses("gjj-balance") == 2
