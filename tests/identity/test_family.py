"""Family members: real-name verified through the population twin, at most 5, masked, the owner's only."""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.errors import AppError
from app.extensions import db
from app.identity import family
from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from tests.identity.helpers import bearer, login_wechat, table_dump, verify_real_name

ME = DEMO_CITIZENS[0]  # 张伟
SPOUSE, CHILD = DEMO_RELATIVES[0], DEMO_RELATIVES[1]  # 赵丽, 张子涵
PEOPLE = [p for p in (*DEMO_CITIZENS, *DEMO_RELATIVES) if p != ME]  # eleven others the twin knows


def masked_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def member(person: dict, relation: str = "child") -> dict:
    return {"relation": relation, "name": person["name"], "id_number": person["id_number"]}


def add(client, token, body):
    return client.post("/api/v1/me/family", json=body, headers=bearer(token))


def family_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM family_members"))


@pytest.fixture
def token(client, sandbox_url):
    """张伟, logged in from WeChat and real-name verified."""
    token = login_wechat(client, sandbox_url, "zhangwei")["access_token"]
    verify_real_name(client, token, ME)
    return token


def test_a_citizen_without_a_real_name_cannot_add_family(client, sandbox_url, app):
    token = login_wechat(client, sandbox_url, "newcomer")["access_token"]
    response = add(client, token, member(CHILD))
    assert (response.status_code, response.json["error"]["code"]) == (403, "REAL_NAME_REQUIRED")
    assert family_rows(app) == 0


def test_members_are_added_listed_masked_and_removed(client, token):
    added = add(client, token, member(SPOUSE, "spouse"))
    assert added.status_code == 201, added.json
    assert added.json["name"] == "赵*" and added.json["id_number"] == masked_id(SPOUSE["id_number"])
    assert added.json["relation"] == "spouse" and added.json["verified_at"].endswith("+08:00")
    assert add(client, token, member(CHILD)).status_code == 201

    listed = client.get("/api/v1/me/family", headers=bearer(token))
    assert listed.status_code == 200 and listed.json["max"] == 5
    assert [m["name"] for m in listed.json["items"]] == ["赵*", "张**"]
    for secret in (SPOUSE["name"], SPOUSE["id_number"], CHILD["name"], CHILD["id_number"]):
        assert secret not in listed.text

    gone = client.delete(f"/api/v1/me/family/{added.json['id']}", headers=bearer(token))
    assert gone.status_code == 204
    assert [m["name"] for m in client.get("/api/v1/me/family", headers=bearer(token)).json["items"]] == ["张**"]
    again = client.delete(f"/api/v1/me/family/{added.json['id']}", headers=bearer(token))
    assert (again.status_code, again.json["error"]["code"]) == (404, "FAMILY_MEMBER_NOT_FOUND")


def test_a_bad_number_a_mismatch_or_an_outage_stores_nothing(client, sandbox_url, token, app):
    bad = add(client, token, member({"name": CHILD["name"], "id_number": CHILD["id_number"][:-1] + "9"}))
    assert bad.status_code == 422 and bad.json["error"]["details"]["reason"] == "checksum"
    wrong = add(client, token, member({"name": "王五", "id_number": CHILD["id_number"]}))
    assert (wrong.status_code, wrong.json["error"]["code"]) == (422, "FAMILY_MEMBER_MISMATCH")
    unknown_relation = add(client, token, {**member(CHILD), "relation": "cousin"})
    assert unknown_relation.status_code == 422 and "relation" in unknown_relation.json["error"]["details"]["fields"]

    requests.put(f"{sandbox_url}/_control/faults/sharing", json={"mode": "fail"}, timeout=5)
    down = add(client, token, member(CHILD))
    assert (down.status_code, down.json["error"]["code"]) == (503, "POPULATION_UNAVAILABLE")
    assert down.headers["Retry-After"]
    assert family_rows(app) == 0


def test_oneself_and_the_same_person_twice_are_refused(client, token, app):
    myself = add(client, token, member(ME, "other"))
    assert (myself.status_code, myself.json["error"]["code"]) == (422, "FAMILY_MEMBER_IS_SELF")
    assert add(client, token, member(CHILD)).status_code == 201
    twice = add(client, token, member(CHILD, "other"))
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "FAMILY_MEMBER_EXISTS")
    assert family_rows(app) == 1


def test_the_same_person_may_be_in_two_families(client, sandbox_url, token):
    other = login_wechat(client, sandbox_url, "zhaoli")["access_token"]
    verify_real_name(client, other, SPOUSE)
    assert add(client, token, member(CHILD)).status_code == 201
    assert add(client, other, member(CHILD)).status_code == 201


def test_at_most_five_members_even_when_ten_are_added_at_once(app, sandbox_url, token):
    bodies = [member(person) for person in PEOPLE[:10]]
    # A slow population database lines the ten up: all pass the early check, then race for the row lock.
    requests.put(f"{sandbox_url}/_control/faults/sharing", json={"mode": "slow", "delay_ms": 300}, timeout=5)

    def add_one(body):
        response = app.test_client().post("/api/v1/me/family", json=body, headers=bearer(token))
        return response.status_code, response.json.get("error", {}).get("code")

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(add_one, bodies))
    assert sorted(outcomes, key=str) == sorted([(201, None)] * 5 + [(409, "FAMILY_LIMIT")] * 5, key=str)
    assert family_rows(app) == 5
    sixth = app.test_client().post("/api/v1/me/family", json=member(PEOPLE[10]), headers=bearer(token))
    assert sixth.json["error"]["code"] == "FAMILY_LIMIT"


def test_another_citizens_members_are_out_of_reach(client, sandbox_url, token, app):
    mine = add(client, token, member(CHILD)).json["id"]
    stranger = login_wechat(client, sandbox_url, "stranger")["access_token"]
    assert client.get("/api/v1/me/family", headers=bearer(stranger)).json["items"] == []
    taken = client.delete(f"/api/v1/me/family/{mine}", headers=bearer(stranger))
    assert (taken.status_code, taken.json["error"]["code"]) == (404, "FAMILY_MEMBER_NOT_FOUND")
    assert family_rows(app) == 1


def test_member_for_gives_bookings_the_verified_person_of_the_owner_only(client, sandbox_url, token, app):
    added = add(client, token, member(CHILD)).json
    owner = client.get("/api/v1/me", headers=bearer(token)).json["id"]
    stranger = login_wechat(client, sandbox_url, "stranger")["citizen"]["id"]
    with app.app_context():
        person = family.member_for(owner, added["id"])
        assert (person.name, person.id_number, person.relation) == (CHILD["name"], CHILD["id_number"], "child")
        assert person.verified_at is not None and len(person.id_number_hash) == 64
        for citizen_id, member_id in ((stranger, added["id"]), (owner, str(uuid.uuid4())), (owner, "nonsense")):
            with pytest.raises(AppError) as caught:
                family.member_for(citizen_id, member_id)
            assert caught.value.status == 404


def test_real_name_checks_are_capped_per_citizen_per_day(client, token):
    # The own real name used one check; nineteen failed guesses use up the rest.
    for _ in range(19):
        assert add(client, token, member({"name": "王五", "id_number": CHILD["id_number"]})).status_code == 422
    capped = add(client, token, member(CHILD))
    assert (capped.status_code, capped.json["error"]["code"]) == (429, "REAL_NAME_DAILY_LIMIT")
    assert capped.headers["Retry-After"]


def test_no_real_name_check_while_the_daily_cap_cannot_be_counted(client, token, app, monkeypatch):
    """Redis down: the cap cannot count and the route limits (same Redis) fail open, so nothing is asked."""
    from redis.exceptions import ConnectionError as RedisDown

    from app.identity import real_name

    class Down:
        def __getattr__(self, name):
            raise RedisDown("Redis is down")

    monkeypatch.setattr(real_name, "redis", Down())
    for _ in range(3):
        refused = add(client, token, member(CHILD))
        assert (refused.status_code, refused.json["error"]["code"]) == (503, "REAL_NAME_UNAVAILABLE")
        assert refused.headers["Retry-After"]
    assert family_rows(app) == 0
    monkeypatch.undo()
    assert add(client, token, member(CHILD)).status_code == 201, "back once Redis is"


def test_polling_the_list_does_not_use_up_the_limit_on_adding(client, token):
    listed = [client.get("/api/v1/me/family", headers=bearer(token)).status_code for _ in range(70)]
    assert listed == [200] * 70
    # Adding keeps its own limit (a body the schema refuses still counts).
    answers = [add(client, token, {**member(CHILD), "relation": "cousin"}) for _ in range(61)]
    assert [a.status_code for a in answers] == [422] * 60 + [429]
    assert answers[-1].json["error"]["code"] == "RATE_LIMITED"
    assert client.get("/api/v1/me/family", headers=bearer(token)).status_code == 200


def test_export_has_the_family_unmasked_and_erasure_deletes_it(client, token, app):
    add(client, token, member(SPOUSE, "spouse"))
    export = client.get("/api/v1/me/export", headers=bearer(token)).json
    assert [(m["name"], m["id_number"], m["relation"]) for m in export["family"]] == [
        (SPOUSE["name"], SPOUSE["id_number"], "spouse")
    ]
    assert client.delete("/api/v1/me", headers=bearer(token)).status_code == 204
    assert family_rows(app) == 0


def test_no_member_name_or_number_in_any_table_or_log(client, token, app, caplog):
    caplog.set_level(logging.DEBUG)
    access = logging.getLogger("app.access")  # it does not propagate to the root, where caplog listens
    access.addHandler(caplog.handler)
    try:
        add(client, token, member(SPOUSE, "spouse"))
        add(client, token, member({"name": CHILD["name"], "id_number": SPOUSE["id_number"]}))  # a mismatch too
        client.get("/api/v1/me/family", headers=bearer(token))
    finally:
        access.removeHandler(caplog.handler)
    dump = table_dump(app)
    logs = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert any(r.name == "app.access" for r in caplog.records), "the access lines were read too"
    assert family_rows(app) == 1
    for secret in (SPOUSE["name"], SPOUSE["id_number"], CHILD["name"]):
        assert secret not in dump, "stored in clear"
        assert secret not in logs, "logged"
    assert masked_id(SPOUSE["id_number"]) not in dump and "赵*" not in dump
