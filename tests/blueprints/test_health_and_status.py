import re

from tests.factories import make_district


def test_healthz_is_cheap_and_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_status_names_version_and_commit(client):
    body = client.get("/api/v1/status").json
    assert body["version"] == "0.1.0"
    assert re.fullmatch(r"[0-9a-f]{40}", body["commit"]), "the suite runs in a git checkout"
    assert body["environment"] == "test"
    assert body["time"].endswith("+08:00")


def test_metrics_count_requests_by_route_and_show_outbox_and_pool(client, app_ctx):
    make_district()
    client.get("/api/v1/districts")
    client.get("/api/v1/departments/nope")
    client.get("/totally/unknown")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/api/v1/districts",status="200"}' in text
    assert 'route="/api/v1/departments/<string:code>",status="404"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "db_pool_connections_in_use" in text and "db_pool_size" in text
    assert "outbox_backlog 0.0" in text and "outbox_dead_letters 0.0" in text


def test_odd_methods_share_one_metric_series(client):
    client.open("/api/v1/districts", method="FOO1")
    text = client.get("/metrics").get_data(as_text=True)
    assert "FOO1" not in text and 'method="OTHER"' in text


def test_metrics_survive_a_database_outage(make_app):
    own = make_app(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    response = own.test_client().get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "outbox_metrics_up 0.0" in text and "http_requests_total" in text
