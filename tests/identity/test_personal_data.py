"""Phone, real name, export and erasure, and personal data kept out of the tables and the logs."""

import logging

import requests
import sqlalchemy as sa

from app.extensions import db
from integrations.clouds.sharing.people import DEMO_CITIZENS
from integrations.sms import sandbox as sms_twin
from tests.identity.helpers import bearer, login_wechat, wechat_code

PHONE = "13800138000"
PERSON = DEMO_CITIZENS[0]  # 张伟, a demo citizen the population twin knows


def sms_codes(sandbox_url, phone=PHONE):
    # Read in-process, not through /outbox: that request's own log line would hold the phone number.
    return [item["params"]["code"] for item in sms_twin.sent_to(phone)]


def bind_phone_by_sms(client, sandbox_url, token, phone=PHONE):
    assert client.post("/api/v1/me/phone/sms-code", json={"phone": phone}, headers=bearer(token)).status_code == 202
    code = sms_codes(sandbox_url, phone)[-1]
    return client.put("/api/v1/me/phone", json={"phone": phone, "sms_code": code}, headers=bearer(token))


def test_phone_bound_by_sms_is_shown_masked(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    response = bind_phone_by_sms(client, sandbox_url, token)
    assert response.status_code == 200 and response.json["phone"] == "138****8000"
    assert client.get("/api/v1/me", headers=bearer(token)).json["phone"] == "138****8000"


def test_sms_codes_are_limited_per_phone_and_per_try(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    send = lambda: client.post("/api/v1/me/phone/sms-code", json={"phone": PHONE}, headers=bearer(token))  # noqa: E731
    assert send().status_code == 202
    again = send()
    assert (again.status_code, again.json["error"]["code"]) == (429, "SMS_TOO_SOON")
    assert again.headers["Retry-After"] == "60"
    for tries_left in (4, 3, 2, 1, 0):
        wrong = client.put("/api/v1/me/phone", json={"phone": PHONE, "sms_code": "000000"}, headers=bearer(token))
        assert wrong.json["error"]["code"] == "SMS_CODE_WRONG"
        assert wrong.json["error"]["details"]["tries_left"] == tries_left
    right = sms_codes(sandbox_url)[-1]
    locked = client.put("/api/v1/me/phone", json={"phone": PHONE, "sms_code": right}, headers=bearer(token))
    assert locked.json["error"]["code"] == "SMS_CODE_LOCKED", "five wrong tries burn the code"


def test_at_most_ten_codes_a_day_per_phone_and_five_an_hour_per_citizen(client, sandbox_url, app):
    from app.extensions import redis

    def send(token, phone="13900139000"):
        with app.app_context():
            for key in redis.scan_iter("sms:minute:*"):
                redis.delete(key)  # step past the one-a-minute limit
        return client.post("/api/v1/me/phone/sms-code", json={"phone": phone}, headers=bearer(token))

    alice, bob, carol = (login_wechat(client, sandbox_url, u)["access_token"] for u in ("alice", "bob", "carol"))
    assert [send(alice).status_code for _ in range(5)] == [202] * 5
    too_many = send(alice)
    assert (too_many.status_code, too_many.json["error"]["code"]) == (429, "SMS_HOURLY_LIMIT")
    assert [send(bob).status_code for _ in range(5)] == [202] * 5  # the phone's 10th text today
    eleventh = send(carol)
    assert (eleventh.status_code, eleventh.json["error"]["code"]) == (429, "SMS_DAILY_LIMIT")
    assert send(carol, "13700137000").status_code == 202, "other phones are not affected"


def ask_code(client, token, phone, address):
    body, where = {"phone": phone}, {"REMOTE_ADDR": address}
    return client.post("/api/v1/me/phone/sms-code", json=body, headers=bearer(token), environ_base=where)


def login_from(client, sandbox_url, user, address) -> str:
    """Logging in is limited per address too: each citizen logs in from home."""
    body = {"code": wechat_code(sandbox_url, user)}
    response = client.post("/api/v1/auth/wechat", json=body, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def route_limited(response) -> bool:
    """Refused by the route's own limit (the service's limits answer SMS_TOO_SOON and the like)."""
    return response.status_code == 429 and response.json["error"]["code"] == "RATE_LIMITED"


def test_citizens_behind_one_carrier_address_share_only_a_generous_cap(client, sandbox_url):
    nat = "100.64.0.1"  # a carrier's NAT: thousands of citizens, one address
    tokens = [login_from(client, sandbox_url, f"citizen{n}", f"10.2.{n}.1") for n in range(32)]
    answers = [ask_code(client, token, f"139{n:08d}", nat) for n, token in enumerate(tokens[:31]) for _ in range(10)]
    assert [a.status_code for a in answers[::10][:30]] == [202] * 30, "each citizen's first code is texted"
    assert not any(route_limited(a) for a in answers[:300]), "ten tries an hour each, three hundred per address"
    assert all(route_limited(a) for a in answers[300:])
    assert ask_code(client, tokens[31], "13700137000", "100.64.0.2").status_code == 202, "other addresses go on"


def test_one_citizen_gets_ten_tries_an_hour_from_any_address(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    answers = [ask_code(client, token, PHONE, f"10.1.0.{n}") for n in range(11)]
    assert answers[0].status_code == 202
    assert [route_limited(a) for a in answers] == [False] * 10 + [True]
    assert answers[-1].headers["Retry-After"]


def test_concurrent_guesses_cannot_beat_the_five_tries(client, sandbox_url, app):
    from concurrent.futures import ThreadPoolExecutor

    token = login_wechat(client, sandbox_url)["access_token"]
    client.post("/api/v1/me/phone/sms-code", json={"phone": PHONE}, headers=bearer(token))
    right = sms_codes(sandbox_url)[-1]
    guesses = [f"{n:06d}" for n in range(30) if f"{n:06d}" != right][:20]

    def guess(code):
        body = {"phone": PHONE, "sms_code": code}
        return app.test_client().put("/api/v1/me/phone", json=body, headers=bearer(token)).json["error"]["code"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(guess, guesses))
    assert outcomes.count("SMS_CODE_WRONG") == 5 and outcomes.count("SMS_CODE_LOCKED") == 15


def test_phone_checks_take_ascii_digits_only(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    for phone in ("1380013800\u0660", "13800138000\n"):
        response = client.post("/api/v1/me/phone/sms-code", json={"phone": phone}, headers=bearer(token))
        assert response.status_code == 422, phone


def test_a_phone_belongs_to_one_account(client, sandbox_url):
    alice = login_wechat(client, sandbox_url, "alice")["access_token"]
    bob = login_wechat(client, sandbox_url, "bob")["access_token"]
    assert bind_phone_by_sms(client, sandbox_url, alice).status_code == 200
    code = requests.post(f"{sandbox_url}/wechat/phone-code", json={"user": "bob", "phone": PHONE}, timeout=5)
    taken = client.put("/api/v1/me/phone", json={"wechat_code": code.json()["code"]}, headers=bearer(bob))
    assert (taken.status_code, taken.json["error"]["code"]) == (409, "PHONE_IN_USE")


def test_phone_from_the_wechat_button(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    code = requests.post(
        f"{sandbox_url}/wechat/phone-code", json={"user": "alice", "phone": "13700137000"}, timeout=5
    ).json()["code"]
    response = client.put("/api/v1/me/phone", json={"wechat_code": code}, headers=bearer(token))
    assert response.status_code == 200 and response.json["phone"] == "137****7000"


def test_real_name_verified_by_the_population_database(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    bad = client.put(
        "/api/v1/me/real-name", json={"name": PERSON["name"], "id_number": "370402198506120313"}, headers=bearer(token)
    )
    assert bad.status_code == 422 and bad.json["error"]["details"]["reason"] == "checksum"
    wrong = client.put(
        "/api/v1/me/real-name", json={"name": "王五", "id_number": PERSON["id_number"]}, headers=bearer(token)
    )
    assert wrong.json["error"]["code"] == "REAL_NAME_MISMATCH"
    ok = client.put("/api/v1/me/real-name", json=PERSON, headers=bearer(token))
    assert ok.status_code == 200
    assert ok.json["real_name"] == PERSON["name"][0] + "*" and ok.json["real_name_verified"] is True
    assert ok.json["id_number"] == PERSON["id_number"][:4] + "*" * 10 + PERSON["id_number"][-4:]


def test_population_database_down_is_503(client, sandbox_url):
    token = login_wechat(client, sandbox_url)["access_token"]
    requests.put(f"{sandbox_url}/_control/faults/sharing", json={"mode": "fail"}, timeout=5)
    response = client.put("/api/v1/me/real-name", json=PERSON, headers=bearer(token))
    assert (response.status_code, response.json["error"]["code"]) == (503, "POPULATION_UNAVAILABLE")


def test_export_has_everything_unmasked_and_erasure_removes_it(client, sandbox_url, app):
    login = login_wechat(client, sandbox_url)
    token = login["access_token"]
    bind_phone_by_sms(client, sandbox_url, token)
    client.put("/api/v1/me/real-name", json=PERSON, headers=bearer(token))
    export = client.get("/api/v1/me/export", headers=bearer(token)).json
    assert export["profile"]["phone"] == PHONE and export["profile"]["id_number"] == PERSON["id_number"]
    assert export["logins"][0]["provider"] == "wechat" and export["sessions"]

    assert client.delete("/api/v1/me", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401, "every device logged out"
    with app.app_context():
        row = db.session.execute(sa.text("SELECT * FROM citizens")).mappings().one()
    assert row["status"] == "erased" and row["phone"] is None and row["id_number_hash"] is None
    again = login_wechat(client, sandbox_url)
    assert again["citizen"]["id"] != login["citizen"]["id"], "a new login starts a new, empty account"


def test_no_raw_phone_or_id_number_in_any_table_or_log(client, sandbox_url, app, caplog):
    caplog.set_level(logging.DEBUG)
    access = logging.getLogger("app.access")  # it does not propagate to the root, where caplog listens
    access.addHandler(caplog.handler)
    token = login_wechat(client, sandbox_url)["access_token"]
    bind_phone_by_sms(client, sandbox_url, token)
    client.put("/api/v1/me/real-name", json=PERSON, headers=bearer(token))
    client.put(
        "/api/v1/me/real-name", json={"name": PERSON["name"], "id_number": "37040219850612031X"}, headers=bearer(token)
    )  # an error path too
    with app.app_context():
        dump = ""
        for table in db.metadata.sorted_tables:
            dump += repr(db.session.execute(sa.select(sa.text("*")).select_from(table)).all())
    access.removeHandler(caplog.handler)
    logs = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert any(r.name == "app.access" for r in caplog.records), "the access lines were read too"
    for secret in (PHONE, PERSON["id_number"], PERSON["name"]):
        assert secret not in dump, f"{secret} stored in clear"
        assert secret not in logs, f"{secret} logged"
    assert "138****8000" not in dump, "not even masked: tables hold ciphertext and keyed hashes"
