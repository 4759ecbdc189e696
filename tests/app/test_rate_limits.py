import time

from flask import Flask
from flask.views import MethodView

from app.errors import register_error_handlers
from app.extensions import redis
from app.rate_limits import init_rate_limits, rate_limit
from tests.conftest import REDIS_URL


class Codes(MethodView):
    rate_limits = ("2 per minute",)

    def post(self):
        return {"sent": True}


class Items(MethodView):
    def get(self):
        return {"items": []}

    @rate_limit("2 per minute")
    def post(self):
        return {"added": True}


def with_redis(app: Flask) -> None:
    """Our Redis client: the default limit is counted with it (app/identity/gate.py)."""
    app.config.update(REDIS_URL=REDIS_URL, REDIS_TIMEOUT_SECONDS=1)
    redis.init_app(app)


def build_app() -> Flask:
    app = Flask("limits")
    app.config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_DEFAULT="100 per minute")
    with_redis(app)
    register_error_handlers(app)

    @app.get("/strict")
    @rate_limit("2 per minute")
    def strict():
        return {"ok": True}

    @app.get("/loose")
    def loose():
        return {"ok": True}

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    app.add_url_rule("/codes", view_func=Codes.as_view("codes"))
    app.add_url_rule("/items", view_func=Items.as_view("items"))
    init_rate_limits(app)
    return app


def test_a_declared_limit_applies_to_functions_and_method_views(app):
    client = build_app().test_client()
    for path, method in (("/strict", client.get), ("/codes", client.post)):
        assert [method(path).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/loose").status_code for _ in range(5)] == [200] * 5


def test_a_limit_on_one_method_leaves_the_others_alone(app):
    client = build_app().test_client()
    assert [client.post("/items").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/items").status_code for _ in range(5)] == [200] * 5


def test_probes_are_never_limited(app):
    client = build_app().test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(150))


def build_keyed_app(app) -> Flask:
    """A small app that knows our signing keys, with one limit per caller and one per IP."""
    keyed = Flask("keyed")
    keyed.config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_DEFAULT="100 per minute")
    with_redis(keyed)
    keyed.extensions["signing_keys"] = app.extensions["signing_keys"]
    register_error_handlers(keyed)

    @keyed.get("/per-caller")
    @rate_limit("2 per minute")
    def per_caller():
        return {"ok": True}

    @keyed.get("/per-ip")
    @rate_limit("2 per minute", per="ip")
    def per_ip():
        return {"ok": True}

    init_rate_limits(keyed)
    return keyed


def token_for(app, subject: str) -> dict:
    from app.identity.tokens import Caller, issue

    with app.app_context():
        return {"Authorization": f"Bearer {issue(Caller('citizen', subject, 'sid-' + subject))[0]}"}


def test_citizens_behind_one_address_are_counted_apart_and_one_citizen_everywhere_together(app):
    client = build_keyed_app(app).test_client()
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    same_nat = {"REMOTE_ADDR": "10.0.0.1"}
    statuses = [client.get("/per-caller", headers=h, environ_base=same_nat).status_code for h in (alice, alice, bob)]
    assert statuses == [200, 200, 200]
    # Alice moving to another network keeps her counter; a forged token falls back to the address.
    assert client.get("/per-caller", headers=alice, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 429
    forged = {"Authorization": alice["Authorization"][:-4] + "AAAA"}
    assert client.get("/per-caller", headers=forged, environ_base=same_nat).status_code == 200


def test_a_per_ip_limit_counts_the_address_whoever_calls(app):
    client = build_keyed_app(app).test_client()
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    first = {"REMOTE_ADDR": "10.0.0.1"}
    assert [client.get("/per-ip", headers=h, environ_base=first).status_code for h in (alice, bob, {})] == [
        200,
        200,
        429,
    ]
    assert client.get("/per-ip", headers=alice, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200


def test_over_two_limits_the_wait_is_the_longer_one(app):
    twice = Flask("twice")
    twice.config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_DEFAULT="100 per minute")
    with_redis(twice)
    register_error_handlers(twice)

    @twice.get("/both")
    @rate_limit("1 per minute", "1 per hour")
    def both():
        return {"ok": True}

    init_rate_limits(twice)
    client = twice.test_client()
    assert client.get("/both").status_code == 200
    refused = client.get("/both")
    now = time.time()
    longer = max(60 - now % 60, 3600 - now % 3600)  # the minute's window or the hour's, whichever ends later
    assert refused.status_code == 429 and abs(int(refused.headers["Retry-After"]) - longer) <= 2
