"""Real PostgreSQL (one database per test worker, built by the migrations) and real Redis.

Each test starts from empty tables, an empty Redis database and a reset sandbox.
"""

from __future__ import annotations

import atexit
import os

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.config import database_url
from app.extensions import db
from app.identity.tokens import Caller
from integrations.sandbox import create_sandbox_app
from scripts.check_services import DEFAULTS
from scripts.check_services import main as check_services
from tests.servers import serving

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
WORKER_INDEX = int(WORKER.removeprefix("gw") or 0)
ADMIN_DATABASE_URL = database_url(os.environ.get("TEST_DATABASE_URL", DEFAULTS["TEST_DATABASE_URL"]))
BASE_REDIS_URL = os.environ.get("TEST_REDIS_URL", DEFAULTS["TEST_REDIS_URL"])


def pytest_sessionstart(session):
    if check_services() != 0:
        pytest.exit("PostgreSQL or Redis is not reachable (see above)", returncode=3)


def recreate_database(name: str) -> str:
    """Drop and create `name` next to the admin database; return its URL."""
    admin = sa.create_engine(ADMIN_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def redis_url_for_worker() -> str:
    # One Redis database per worker (1..15), so parallel workers never flush each other. A second
    # run on the same machine (a helper's) sets TEST_REDIS_DB_OFFSET to stay out of the first one's.
    url = make_url(BASE_REDIS_URL.replace("redis://", "redis+x://", 1))
    index = WORKER_INDEX + int(os.environ.get("TEST_REDIS_DB_OFFSET", "0"))
    return f"redis://{url.host or '127.0.0.1'}:{url.port or 6379}/{1 + index % 15}"


def environ_for_tests(**overrides) -> dict:
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CELERY_EAGER": "1",
        "SANDBOX": "0",
        "RATELIMIT_DEFAULT": "10000 per minute",
        "OUTBOX_HTTP_TIMEOUT_SECONDS": "2",
        "DB_POOL_SIZE": "20",
        "LOG_LEVEL": "INFO",
        "USE_COUNT_BATCH_SECONDS": "0",  # counted at once: tests read the counts right after a run
        "RATELIMIT_BATCH_SECONDS": "0",  # exact: tests count to a limit; tests/app/test_batched_limits.py batches
        "CONNECTOR_LOCAL_CACHE_SECONDS": "0",  # tests change the twins' answers and the cache under them
    }
    env.update(overrides)
    return env


# The pid keeps two test runs on one machine (a developer and a helper) out of each other's database.
DATABASE_NAME = f"city_test_{WORKER}_{os.getpid()}"
DATABASE_URL = recreate_database(DATABASE_NAME)


@atexit.register
def _drop_database():
    admin = sa.create_engine(ADMIN_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)'))
    admin.dispose()


REDIS_URL = redis_url_for_worker()


@pytest.fixture(scope="session")
def sandbox_url():
    """The sandbox as a real HTTP server on a free loopback port."""
    with serving(create_sandbox_app()) as url:
        yield url


def twin_urls(sandbox_url: str) -> dict:
    return {
        "DEPARTMENT_SYSTEM_BASE_URL": f"{sandbox_url}/department",
        "CLOUDS_SANDBOX_BASE_URL": sandbox_url,
        "WECHAT_BASE_URL": f"{sandbox_url}/wechat/",
        "ALIPAY_GATEWAY_URL": f"{sandbox_url}/alipay/gateway.do",
        "SMS_BASE_URL": f"{sandbox_url}/sms",
        "SHARING_BASE_URL": f"{sandbox_url}/sharing",
        "WECHATPAY_BASE_URL": f"{sandbox_url}/wechatpay",
    }


@pytest.fixture(scope="session")
def app(sandbox_url):
    app = create_app(environ_for_tests(**twin_urls(sandbox_url)))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def clean_state(request, sandbox_url):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            db.session.remove()
            tables = [t.name for t in db.metadata.sorted_tables]
            with db.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL app.audit_maintenance = 'on'"))  # the audit log's trigger lets it
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis_lib.Redis.from_url(REDIS_URL).flushdb()
    from app.catalog.reads import forget_generation

    forget_generation()  # the catalog generation this process trusted is gone with Redis's data
    import requests

    requests.post(f"{sandbox_url}/_control/reset", timeout=5)


@pytest.fixture
def make_app(app, sandbox_url):
    """Build another app from the test environment plus `overrides`.

    Celery is one per process, so the session app's wiring is put back afterwards.
    """
    from app.jobs.celery_app import init_celery

    def build(**overrides):
        return create_app(environ_for_tests(**{**twin_urls(sandbox_url), **overrides}))

    yield build
    init_celery(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


def department_system(department: str) -> Caller:
    return Caller("client", f"client-{department}", "s9", scopes=frozenset({"catalog:write"}), department=department)


@pytest.fixture
def clouds(app, app_ctx):
    """The demo city's departments and a connector per cloud, pointed at the twins (as seed-demo does)."""
    from app.city.seed import load_demo_city, seed_city
    from app.connectors.demo import seed_connectors
    from tests.catalog.test_lifecycle import OPERATOR, acting

    seed_city(load_demo_city())
    with acting(app, OPERATOR):
        seed_connectors(OPERATOR)


@pytest.fixture
def via_connector(app, clouds):
    """put_live(code, connector, operation, form, department=..., **rules): a live inquiry bound to it."""
    from app.catalog import service
    from tests.catalog.test_lifecycle import OPERATOR, acting

    def put_live(code, connector, operation, form, department, allow_stale=False, **rules):
        stale = allow_stale
        system = department_system(department)
        content = {
            "name": {"zh": f"测试服务{code}"},
            "privacy_notice": "仅用于本次查询",
            "contact": "0632-12345",
            "form": form,
            "binding": {"type": "connector", "connector": connector, "operation": operation, "allow_stale": stale},
            **rules,
        }
        with acting(app, system):
            service.register(system, code, connector, "inquiry", content)
            service.transition(system, code, 1, "submit")
        with acting(app, OPERATOR):
            service.transition(OPERATOR, code, 1, "approve")
        with acting(app, system):
            service.transition(system, code, 1, "publish")

    return put_live
