"""/readyz says whether this process can serve, and why not."""

import socket
import subprocess
import time

import sqlalchemy as sa

from app.extensions import db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")


def test_ready_when_database_redis_and_migrations_are(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_not_ready_while_redis_is_down_and_ready_again_when_it_returns(make_app):
    """A Redis of its own, so stopping it does not disturb the rest of the suite."""
    port = free_port()
    redis_process = start_redis(port)
    own = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    client = own.test_client()
    try:
        assert client.get("/readyz").status_code == 200

        redis_process.terminate()
        redis_process.wait(5)
        response = client.get("/readyz")
        assert response.status_code == 503
        error = response.json["error"]
        assert error["code"] == "NOT_READY"
        assert error["details"]["checks"]["redis"].startswith("redis:")
        assert error["details"]["checks"]["database"] == "ok"
        assert response.headers["Retry-After"]

        redis_process = start_redis(port)
        assert client.get("/readyz").status_code == 200
    finally:
        redis_process.kill()


def test_not_ready_when_the_schema_is_behind_the_code(client, app):
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001_city'"))
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "migrations" in response.json["error"]["details"]["checks"]["database"]
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": _head()})


def _head():
    from app.readiness import migration_heads

    (head,) = migration_heads()
    return head


def test_not_ready_when_the_database_is_unreachable(make_app):
    own = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    response = own.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["error"]["details"]["checks"]["database"].startswith("database:")
