"""What citizens see: only live services, by category, district, audience and search; cached, with
ETags that spare a weak signal the download, and changes seen at once after a publish."""

import pytest

from tests.catalog.test_lifecycle import CLERK, LINK, OPERATOR, move, register
from tests.factories import make_department


@pytest.fixture
def live_catalog(app, app_ctx):
    make_department("gjj")
    register(app, code="gjj-hall", content={**LINK, "keywords": ["公积金"], "districts": ["370402"]})
    register(app, code="gjj-news", content={**LINK, "name": {"zh": "公积金政策解读"}, "audience": ["tourist"]})
    for code in ("gjj-hall", "gjj-news"):
        for caller, action in ((CLERK, "submit"), (OPERATOR, "approve"), (CLERK, "publish")):
            move(app, caller, action, code=code)
    register(app, code="gjj-draft", content={**LINK, "name": {"zh": "公积金草稿服务"}})


def codes(response):
    return [s["code"] for s in response.json]


def test_only_live_services_are_listed_and_filtered(client, live_catalog):
    listed = client.get("/api/v1/catalog/services")
    assert listed.status_code == 200 and sorted(codes(listed)) == ["gjj-hall", "gjj-news"]
    assert listed.json[0]["category"] == "housing_fund"
    assert codes(client.get("/api/v1/catalog/services?audience=tourist")) == ["gjj-news"]
    assert sorted(codes(client.get("/api/v1/catalog/services?district=370481"))) == ["gjj-news"], "gjj-news: all"
    assert codes(client.get("/api/v1/catalog/services?q=gjjzc")) == ["gjj-news"]
    assert client.get("/api/v1/catalog/services/gjj-draft").status_code == 404
    detail = client.get("/api/v1/catalog/services/gjj-hall").json
    assert detail["contact"] == LINK["contact"] and detail["version"] == 1


def test_an_etag_answers_304_until_something_is_published(app, client, live_catalog):
    first = client.get("/api/v1/catalog/services")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.get("/api/v1/catalog/services", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    move(app, OPERATOR, "suspend", code="gjj-news")
    after = client.get("/api/v1/catalog/services", headers={"If-None-Match": etag})
    assert after.status_code == 200 and codes(after) == ["gjj-hall"]
    assert after.headers["ETag"] != etag


def test_categories_cover_every_cloud(client):
    from app.city.clouds import PLATFORMS

    categories = client.get("/api/v1/catalog/categories").json
    covered = {cloud for c in categories for cloud in c["clouds"]}
    assert covered == set(PLATFORMS)


def test_a_redis_that_lost_its_data_never_brings_an_old_list_back(app, client, live_catalog):
    """Every process keeps finished answers per generation: a restarted count would collide with old ones."""
    from app.extensions import redis

    assert len(client.get("/api/v1/catalog/services").json) == 2
    redis.flushdb()  # Redis restarted without its data
    move(app, OPERATOR, "suspend", code="gjj-news")
    assert codes(client.get("/api/v1/catalog/services")) == ["gjj-hall"]
    redis.flushdb()
    move(app, OPERATOR, "resume", code="gjj-news")
    assert sorted(codes(client.get("/api/v1/catalog/services"))) == ["gjj-hall", "gjj-news"]


def test_the_list_is_read_from_the_database_while_redis_is_down(app, client, live_catalog, monkeypatch):
    from app.catalog import reads

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(reads.redis, "get", down)
    listed = client.get("/api/v1/catalog/services")
    assert listed.status_code == 200 and sorted(codes(listed)) == ["gjj-hall", "gjj-news"]
    move(app, OPERATOR, "suspend", code="gjj-news")
    assert codes(client.get("/api/v1/catalog/services")) == ["gjj-hall"]


def test_a_phone_that_accepts_gzip_downloads_the_list_compressed(client, live_catalog):
    import gzip
    import json

    plain = client.get("/api/v1/catalog/services")
    zipped = client.get("/api/v1/catalog/services", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    assert zipped.headers["ETag"] == plain.headers["ETag"]
    again = client.get("/api/v1/catalog/services", headers={"If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


def test_kept_answers_never_skip_checking_the_arguments_nor_outlive_a_change(app, client, live_catalog):
    for _ in range(2):
        bad = client.get("/api/v1/catalog/services?district=abc")
        assert bad.status_code == 422 and bad.json["error"]["code"] == "VALIDATION_FAILED"
    assert client.get("/api/v1/catalog/services/gjj-news").status_code == 200
    move(app, OPERATOR, "suspend", code="gjj-news")
    assert client.get("/api/v1/catalog/services/gjj-news").status_code == 404
    move(app, OPERATOR, "resume", code="gjj-news")
    assert client.get("/api/v1/catalog/services/gjj-news").json["name"]["zh"] == "公积金政策解读"
