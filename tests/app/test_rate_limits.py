from flask import Flask
from flask.views import MethodView

from app.errors import register_error_handlers
from app.rate_limits import init_rate_limits, rate_limit
from tests.conftest import REDIS_URL


class Codes(MethodView):
    rate_limits = ("2 per minute",)

    def post(self):
        return {"sent": True}


def build_app() -> Flask:
    app = Flask("limits")
    app.config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_DEFAULT="100 per minute")
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
    init_rate_limits(app)
    return app


def test_a_declared_limit_applies_to_functions_and_method_views(app):
    client = build_app().test_client()
    for path, method in (("/strict", client.get), ("/codes", client.post)):
        assert [method(path).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/loose").status_code for _ in range(5)] == [200] * 5


def test_probes_are_never_limited(app):
    client = build_app().test_client()
    assert all(client.get("/healthz").status_code == 200 for _ in range(150))
