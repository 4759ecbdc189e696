"""Linking a WeChat and an Alipay account through a phone: proved by one, asked by it, confirmed by the other."""

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.identity import linking
from app.identity.models import Citizen, LinkRequest
from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.sms import sandbox as sms_twin
from tests.identity.helpers import (
    bearer,
    bind_phone_by_sms,
    login_alipay,
    login_wechat,
    table_dump,
    verify_real_name,
    wechat_phone_code,
)

PHONE = "13800138000"
PERSON, OTHER_PERSON = DEMO_CITIZENS[0], DEMO_CITIZENS[1]


def get(client, token, path):
    return client.get(f"/api/v1{path}", headers=bearer(token))


def post(client, token, path, body=None):
    return client.post(f"/api/v1{path}", json=body or {}, headers=bearer(token))


@pytest.fixture
def pair(client, sandbox_url):
    """Alice's WeChat account holds the phone; her Alipay account proves it and is offered a link."""
    holder = login_wechat(client, sandbox_url, "alice")
    assert bind_phone_by_sms(client, holder["access_token"], PHONE).status_code == 200
    requester = login_alipay(client, sandbox_url, "alice")
    offer = bind_phone_by_sms(client, requester["access_token"], PHONE)
    assert (offer.status_code, offer.json["error"]["code"]) == (409, "PHONE_IN_USE")
    assert offer.json["error"]["details"]["link_available"] is True
    return {
        "holder": holder["access_token"],
        "holder_id": holder["citizen"]["id"],
        "requester": requester["access_token"],
        "requester_id": requester["citizen"]["id"],
        "proof": offer.json["error"]["details"]["link_proof"],
    }


def ask(client, pair):
    response = post(client, pair["requester"], "/me/links", {"link_proof": pair["proof"]})
    assert response.status_code == 201, response.json
    return response.json


def confirm_code(client, holder, link_id, phone=PHONE) -> str:
    """The holder asks for a code to its bound phone; the code as the phone's owner reads it."""
    from app.extensions import redis

    with client.application.app_context():
        for key in redis.scan_iter("sms:minute:*"):
            redis.delete(key)  # these tests text one phone from several accounts within a minute
    sent = post(client, holder, f"/me/links/{link_id}/confirm-code")
    assert sent.status_code == 202, sent.json
    assert sent.json["phone"] == phone[:3] + "****" + phone[-4:]
    return sms_twin.sent_to(phone)[-1]["params"]["code"]


def confirm(client, holder, link_id):
    """Confirm the way the holder does: a fresh code to its bound phone, then the code."""
    code = confirm_code(client, holder, link_id)
    return post(client, holder, f"/me/links/{link_id}/confirm", {"sms_code": code})


def test_wechat_and_alipay_become_one_account_and_either_login_finds_it(client, sandbox_url, pair, app):
    verify_real_name(client, pair["requester"], PERSON)  # only the Alipay side is real-named: it moves over
    asked = ask(client, pair)
    assert (asked["direction"], asked["status"], asked["other_logins"]) == ("outgoing", "pending", ["wechat"])
    assert asked["phone"] == "138****8000"
    again = post(client, pair["requester"], "/me/links", {"link_proof": pair["proof"]})
    assert again.status_code == 200 and again.json["id"] == asked["id"], "the same proof, the same request"

    incoming = get(client, pair["holder"], "/me/links").json["items"]
    assert [(i["id"], i["direction"], i["other_logins"]) for i in incoming] == [(asked["id"], "incoming", ["alipay"])]
    assert PHONE not in get(client, pair["holder"], "/me/links").text

    confirmed = confirm(client, pair["holder"], asked["id"])
    assert confirmed.status_code == 200 and confirmed.json["status"] == "merged"
    gone = get(client, pair["requester"], "/me")
    assert (gone.status_code, gone.json["error"]["code"]) == (401, "INVALID_TOKEN"), "the Alipay side was logged out"

    me = get(client, pair["holder"], "/me").json
    assert me["logins"] == ["alipay", "wechat"] and me["real_name"] == "张*" and me["phone"] == "138****8000"
    assert login_wechat(client, sandbox_url, "alice")["citizen"]["id"] == pair["holder_id"]
    by_alipay = login_alipay(client, sandbox_url, "alice")
    assert by_alipay["citizen"]["id"] == pair["holder_id"] and by_alipay["citizen"]["logins"] == ["alipay", "wechat"]

    with app.app_context():
        shell = db.session.get(Citizen, uuid.UUID(pair["requester_id"]))
        assert (shell.status, str(shell.merged_into)) == ("merged", pair["holder_id"])
        assert shell.phone_hash is None and shell.id_number_hash is None and shell.identities == []


def test_the_old_owner_of_a_recycled_number_sees_who_asks_and_cannot_confirm_without_the_phone(client, sandbox_url):
    # V has held the number for years; the carrier has since given it to M.
    victim = login_wechat(client, sandbox_url, "victim")["access_token"]
    assert bind_phone_by_sms(client, victim, PHONE).status_code == 200
    verify_real_name(client, victim, PERSON)
    client.patch("/api/v1/me", json={"nickname": "老王"}, headers=bearer(victim))
    newcomer = login_alipay(client, sandbox_url, "mallory")
    client.patch("/api/v1/me", json={"nickname": "小米"}, headers=bearer(newcomer["access_token"]))
    offer = bind_phone_by_sms(client, newcomer["access_token"], PHONE)  # M owns the number now: M gets the text
    proof = offer.json["error"]["details"]["link_proof"]
    asked = post(client, newcomer["access_token"], "/me/links", {"link_proof": proof}).json

    [incoming] = get(client, victim, "/me/links").json["items"]
    assert incoming["requester"]["nickname"] == "小米" and incoming["requester"]["logins"] == ["alipay"]
    assert incoming["requester"]["real_name"] is None
    assert incoming["requester"]["created_at"] == newcomer["citizen"]["created_at"]
    outgoing = get(client, newcomer["access_token"], "/me/links")
    assert outgoing.json["items"][0]["requester"] is None
    assert "老王" not in outgoing.text and "张*" not in outgoing.text, "the asker learns nothing of the holder"

    blind = post(client, victim, f"/me/links/{asked['id']}/confirm")
    assert (blind.status_code, blind.json["error"]["code"]) == (422, "VALIDATION_FAILED")
    confirm_code(client, victim, asked["id"])  # texted to the number, which M holds: V never reads it
    for _ in range(2):
        guessed = post(client, victim, f"/me/links/{asked['id']}/confirm", {"sms_code": "000000"})
        assert (guessed.status_code, guessed.json["error"]["code"]) == (422, "SMS_CODE_WRONG")
    assert get(client, newcomer["access_token"], "/me").status_code == 200, "nothing merged"
    assert get(client, victim, "/me").json["logins"] == ["wechat"]
    assert get(client, victim, "/me/links").json["items"][0]["status"] == "pending"


def test_a_real_named_asker_shows_its_masked_name(client, pair):
    verify_real_name(client, pair["requester"], PERSON)
    asked = ask(client, pair)
    [incoming] = get(client, pair["holder"], "/me/links").json["items"]
    assert incoming["id"] == asked["id"] and incoming["requester"]["real_name"] == "张*"
    assert PERSON["name"] not in get(client, pair["holder"], "/me/links").text


def test_the_holder_confirms_in_one_step_with_the_wechat_phone_button(client, sandbox_url, pair):
    asked = ask(client, pair)
    other_phone = wechat_phone_code(sandbox_url, "alice", "13900139000")
    wrong = post(client, pair["holder"], f"/me/links/{asked['id']}/confirm", {"wechat_code": other_phone})
    assert (wrong.status_code, wrong.json["error"]["code"]) == (422, "LINK_PHONE_MISMATCH")
    assert get(client, pair["requester"], "/me").status_code == 200, "nothing merged"
    right = post(
        client,
        pair["holder"],
        f"/me/links/{asked['id']}/confirm",
        {"wechat_code": wechat_phone_code(sandbox_url, "alice", PHONE)},
    )
    assert right.status_code == 200 and right.json["status"] == "merged"
    assert get(client, pair["holder"], "/me").json["logins"] == ["alipay", "wechat"]


def test_the_wechat_phone_button_proves_the_phone_too(client, sandbox_url):
    holder = login_alipay(client, sandbox_url, "bob")["access_token"]
    assert bind_phone_by_sms(client, holder, PHONE).status_code == 200
    requester = login_wechat(client, sandbox_url, "bob")["access_token"]
    code = wechat_phone_code(sandbox_url, "bob", PHONE)
    offer = client.put("/api/v1/me/phone", json={"wechat_code": code}, headers=bearer(requester))
    assert offer.status_code == 409 and offer.json["error"]["details"]["link_available"] is True
    asked = post(client, requester, "/me/links", {"link_proof": offer.json["error"]["details"]["link_proof"]})
    assert asked.status_code == 201
    assert confirm(client, holder, asked.json["id"]).json["status"] == "merged"
    assert get(client, holder, "/me").json["logins"] == ["alipay", "wechat"]


def test_two_accounts_of_one_provider_are_not_offered_a_link(client, sandbox_url):
    holder = login_wechat(client, sandbox_url, "alice")["access_token"]
    assert bind_phone_by_sms(client, holder, PHONE).status_code == 200
    other = login_wechat(client, sandbox_url, "bob")["access_token"]
    code = wechat_phone_code(sandbox_url, "bob", PHONE)
    taken = client.put("/api/v1/me/phone", json={"wechat_code": code}, headers=bearer(other))
    assert (taken.status_code, taken.json["error"]["code"]) == (409, "PHONE_IN_USE")
    assert taken.json["error"]["details"] == {"link_available": False, "reason": "LINK_SAME_PROVIDER"}
    forged = post(client, other, "/me/links", {"link_proof": "made-up"})
    assert (forged.status_code, forged.json["error"]["code"]) == (422, "LINK_PROOF_INVALID")


def test_two_real_names_are_two_people_and_never_merge(client, pair, app):
    asked = ask(client, pair)
    verify_real_name(client, pair["holder"], PERSON)
    verify_real_name(client, pair["requester"], OTHER_PERSON)  # after asking: the confirm still checks
    refused = confirm(client, pair["holder"], asked["id"])
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "LINK_REAL_NAME_CONFLICT")
    assert get(client, pair["requester"], "/me").status_code == 200, "nothing merged"
    assert get(client, pair["holder"], "/me/links").json["items"][0]["status"] == "pending"
    offer = bind_phone_by_sms(client, pair["requester"], PHONE)
    assert offer.json["error"]["details"] == {"link_available": False, "reason": "LINK_REAL_NAME_CONFLICT"}


def test_only_the_two_accounts_see_a_request_and_only_the_holder_confirms(client, sandbox_url, pair):
    asked = ask(client, pair)
    stranger = login_alipay(client, sandbox_url, "mallory")["access_token"]
    assert get(client, stranger, "/me/links").json["items"] == []
    code = {"sms_code": "123456"}
    for action, body in (("confirm-code", None), ("confirm", code), ("decline", None)):
        response = post(client, stranger, f"/me/links/{asked['id']}/{action}", body)
        assert (response.status_code, response.json["error"]["code"]) == (404, "LINK_NOT_FOUND")
    stolen = post(client, stranger, "/me/links", {"link_proof": pair["proof"]})
    assert (stolen.status_code, stolen.json["error"]["code"]) == (422, "LINK_PROOF_INVALID")
    for action, body in (("confirm-code", None), ("confirm", code)):
        own = post(client, pair["requester"], f"/me/links/{asked['id']}/{action}", body)
        assert (own.status_code, own.json["error"]["code"]) == (403, "LINK_CONFIRM_BY_HOLDER")
    unknown = post(client, pair["holder"], f"/me/links/{uuid.uuid4()}/confirm", code)
    assert unknown.status_code == 404
    assert get(client, pair["holder"], "/me").json["logins"] == ["wechat"]


def test_declined_withdrawn_and_expired_requests_merge_nothing(client, pair, app):
    asked = ask(client, pair)
    declined = post(client, pair["holder"], f"/me/links/{asked['id']}/decline")
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert post(client, pair["holder"], f"/me/links/{asked['id']}/decline").json["status"] == "declined"
    late = post(client, pair["holder"], f"/me/links/{asked['id']}/confirm", {"sms_code": "123456"})
    assert (late.status_code, late.json["error"]["code"]) == (409, "LINK_NOT_PENDING")
    no_code = post(client, pair["holder"], f"/me/links/{asked['id']}/confirm-code")
    assert (no_code.status_code, no_code.json["error"]["code"]) == (409, "LINK_NOT_PENDING")
    reused = post(client, pair["requester"], "/me/links", {"link_proof": pair["proof"]})
    assert reused.status_code == 200 and reused.json["status"] == "declined", "one proof asks once"

    expired_id = stored_request(app, pair, age=timedelta(minutes=20))
    withdrawn_id = stored_request(app, pair, age=timedelta(0))
    expired = post(client, pair["holder"], f"/me/links/{expired_id}/confirm", {"sms_code": "123456"})
    assert (expired.status_code, expired.json["error"]["code"]) == (409, "LINK_EXPIRED")
    cancelled = post(client, pair["requester"], f"/me/links/{withdrawn_id}/decline")
    assert cancelled.json["status"] == "cancelled", "the requester withdraws its own"
    statuses = {i["id"]: i["status"] for i in get(client, pair["holder"], "/me/links").json["items"]}
    assert statuses == {asked["id"]: "declined", str(expired_id): "expired", str(withdrawn_id): "cancelled"}
    assert get(client, pair["requester"], "/me").status_code == 200


def stored_request(app, pair, age: timedelta) -> uuid.UUID:
    """A pending request made `age` ago (it lives 15 minutes)."""
    with app.app_context():
        holder = db.session.get(Citizen, uuid.UUID(pair["holder_id"]))
        link = LinkRequest(
            id=uuid.uuid4(),
            requester_id=uuid.UUID(pair["requester_id"]),
            holder_id=holder.id,
            phone_hash=holder.phone_hash,
            status="pending",
            created_at=utcnow() - age,
            expires_at=utcnow() - age + timedelta(seconds=linking.REQUEST_SECONDS),
        )
        db.session.add(link)
        db.session.commit()
        return link.id


def test_two_confirms_at_once_merge_once(app, client, pair, monkeypatch):
    asked = ask(client, pair)
    code = confirm_code(client, pair["holder"], asked["id"])
    merges = []

    def slow_hook(source, target):
        merges.append((source, target))
        time.sleep(0.3)  # a long merge: every other confirm arrives while it is under way

    monkeypatch.setattr(linking, "_MERGE_HOOKS", [slow_hook])

    def confirm(_):
        path, body = f"/api/v1/me/links/{asked['id']}/confirm", {"sms_code": code}
        response = app.test_client().post(path, json=body, headers=bearer(pair["holder"]))
        return response.status_code, response.json.get("status")

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(confirm, range(8)))
    assert outcomes == [(200, "merged")] * 8
    assert merges == [(uuid.UUID(pair["requester_id"]), uuid.UUID(pair["holder_id"]))]
    with app.app_context():
        logins = db.session.execute(sa.text("SELECT citizen_id FROM citizen_identities")).scalars().all()
    assert {str(c) for c in logins} == {pair["holder_id"]} and len(logins) == 2


def test_export_shows_the_links_and_erasure_deletes_them(client, pair, app):
    asked = ask(client, pair)
    export = get(client, pair["holder"], "/me/export").json
    assert [(i["id"], i["direction"], i["status"]) for i in export["links"]] == [(asked["id"], "incoming", "pending")]
    assert client.delete("/api/v1/me", headers=bearer(pair["holder"])).status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM link_requests")) == 0
    after = post(client, pair["requester"], "/me/links", {"link_proof": pair["proof"]})
    assert (after.status_code, after.json["error"]["code"]) == (409, "LINK_HOLDER_GONE")
    assert get(client, pair["requester"], "/me").json["logins"] == ["alipay"]


def test_a_family_moves_with_the_real_name(client, pair, app):
    verify_real_name(client, pair["requester"], PERSON)
    body = {"relation": "spouse", "name": DEMO_RELATIVES[0]["name"], "id_number": DEMO_RELATIVES[0]["id_number"]}
    assert post(client, pair["requester"], "/me/family", body).status_code == 201
    asked = ask(client, pair)
    assert confirm(client, pair["holder"], asked["id"]).status_code == 200
    moved = get(client, pair["holder"], "/me/family").json["items"]
    assert [(m["name"], m["relation"]) for m in moved] == [("赵*", "spouse")]


def test_no_raw_phone_in_any_table_or_log(client, sandbox_url, app, caplog):
    caplog.set_level(logging.DEBUG)
    access = logging.getLogger("app.access")  # it does not propagate to the root, where caplog listens
    access.addHandler(caplog.handler)
    try:
        holder = login_wechat(client, sandbox_url, "alice")["access_token"]
        bind_phone_by_sms(client, holder, PHONE)
        requester = login_alipay(client, sandbox_url, "alice")["access_token"]
        proof = bind_phone_by_sms(client, requester, PHONE).json["error"]["details"]["link_proof"]
        link_id = post(client, requester, "/me/links", {"link_proof": proof}).json["id"]
        get(client, holder, "/me/links")
        post(client, holder, f"/me/links/{link_id}/confirm", {"sms_code": "000000"})  # wrong first
        assert confirm(client, holder, link_id).json["status"] == "merged"
    finally:
        access.removeHandler(caplog.handler)
    dump = table_dump(app)
    logs = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert any(r.name == "app.access" for r in caplog.records), "the access lines were read too"
    assert link_id in dump, "the request is stored"
    assert PHONE not in dump and "138****8000" not in dump
    assert PHONE not in logs and proof not in logs


def test_polling_the_requests_does_not_use_up_the_limit_on_asking(client, sandbox_url):
    token = login_alipay(client, sandbox_url, "alice")["access_token"]
    assert [get(client, token, "/me/links").status_code for _ in range(70)] == [200] * 70
    answers = [post(client, token, "/me/links", {"link_proof": "made-up"}) for _ in range(61)]
    assert [a.json["error"]["code"] for a in answers] == ["LINK_PROOF_INVALID"] * 60 + ["RATE_LIMITED"]
    assert get(client, token, "/me/links").status_code == 200
