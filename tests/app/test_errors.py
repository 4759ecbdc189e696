"""Every error, whoever raises it, is the one envelope with the request id."""

import io
import json
import logging

import marshmallow as ma
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

from app import create_app
from app.jobs.celery_app import init_celery
from app.observability.logging import RequestIdFilter, json_formatter
from tests.conftest import environ_for_tests


def assert_envelope(response, status, code):
    assert response.status_code == status
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


class ParcelSchema(ma.Schema):
    name = ma.fields.String(required=True)
    weight = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))


@pytest.fixture(scope="module")
def probe_app(app):
    """Our app plus two probe routes: one that validates a body, one that breaks."""
    probe = create_app(environ_for_tests(MAX_CONTENT_LENGTH="1024", RATELIMIT_DEFAULT="3 per minute"))
    blp = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @blp.route("/parcels")
    class Parcels(MethodView):
        @blp.arguments(ParcelSchema)
        @blp.response(201, ParcelSchema)
        def post(self, parcel):
            return parcel

    @blp.route("/broken")
    class Broken(MethodView):
        def get(self):
            raise RuntimeError("the printer is on fire")

    probe.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(blp)
    yield probe
    init_celery(app)  # Celery is one per process: give it back to the session app


def test_unknown_route_is_a_404_envelope(client):
    response = client.get("/api/v1/no-such-thing")
    assert_envelope(response, 404, "NOT_FOUND")


def test_wrong_method_is_a_405_envelope_with_allow(client):
    response = client.delete("/api/v1/districts")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_validation_names_each_field(probe_app):
    response = probe_app.test_client().post("/api/v1/probe/parcels", json={"weight": 0})
    error = assert_envelope(response, 422, "VALIDATION_FAILED")
    assert set(error["details"]["fields"]) == {"name", "weight"}
    assert error["details"]["location"] == "json"


def test_query_validation_names_the_parameter(client):
    response = client.get("/api/v1/departments?cloud=moon")
    error = assert_envelope(response, 422, "VALIDATION_FAILED")
    assert list(error["details"]["fields"]) == ["cloud"]


def test_body_that_is_not_json_is_415(probe_app):
    response = probe_app.test_client().post(
        "/api/v1/probe/parcels", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_malformed_json_is_400(probe_app):
    response = probe_app.test_client().post("/api/v1/probe/parcels", data="{not json", content_type="application/json")
    assert_envelope(response, 400, "BAD_REQUEST")


def test_body_over_the_limit_is_413(probe_app):
    response = probe_app.test_client().post("/api/v1/probe/parcels", json={"name": "x" * 5000, "weight": 1})
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_too_many_requests_is_429_with_retry_after(probe_app):
    client = probe_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [client.get("/api/v1/districts").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    response = client.get("/api/v1/districts")
    assert_envelope(response, 429, "RATE_LIMITED")
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_unhandled_exception_is_500_envelope_and_logged_with_the_request_id(probe_app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logging.getLogger("app.errors").addHandler(handler)
    try:
        response = probe_app.test_client().get("/api/v1/probe/broken", headers={"X-Request-ID": "trace-42"})
    finally:
        logging.getLogger("app.errors").removeHandler(handler)
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert error["request_id"] == "trace-42"
    assert "printer" not in response.get_data(as_text=True), "internals must not reach the caller"
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert logged[0]["request_id"] == "trace-42"
    assert "RuntimeError: the printer is on fire" in logged[0]["exc_info"]


def test_request_id_is_echoed_or_made_up(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    forged = client.get("/healthz", headers={"X-Request-ID": "<script> fake log line"})
    assert forged.headers["X-Request-ID"] != "<script> fake log line"
    assert len(forged.headers["X-Request-ID"]) == 32


def test_a_request_id_with_a_trailing_newline_is_replaced(app):
    from app.request_context import assign_request_id

    with app.test_request_context(environ_overrides={"HTTP_X_REQUEST_ID": "abc\n"}):
        assert assign_request_id() != "abc\n"


def test_a_form_post_to_a_get_only_route_is_405_not_415(client):
    response = client.post("/api/v1/districts", data="a=1", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
