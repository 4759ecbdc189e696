"""Creating orders: idempotent by key and by bill, the amount the issuer's, another person's order unseen."""

import threading
import uuid

import sqlalchemy as sa

from app.extensions import db
from app.payments.models import PaymentOrder
from tests.payments.conftest import headers_of, pay, payable


def test_same_key_same_body_is_the_same_order_and_another_body_is_409(client, wechat_citizen):
    bills = payable(client, wechat_citizen)
    key = uuid.uuid4().hex
    first = pay(client, wechat_citizen, [bills[0]["bill_id"]], key=key)
    again = pay(client, wechat_citizen, [bills[0]["bill_id"]], key=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert (
        again.json["id"] == first.json["id"]
        and again.json["pay_params"]["package"] == first.json["pay_params"]["package"]
    )
    other = pay(client, wechat_citizen, [bill["bill_id"] for bill in bills], key=key)
    assert other.status_code == 409 and other.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_double_tap_with_fresh_keys_from_many_threads_makes_one_payable_order(app, wechat_citizen):
    bill = payable(app.test_client(), wechat_citizen)[0]["bill_id"]
    start, answers = threading.Barrier(12), []

    def tap(key):
        start.wait()
        answer = pay(app.test_client(), wechat_citizen, [bill], key=key)
        answers.append((answer.status_code, answer.json.get("id")))

    keys = [uuid.uuid4().hex for _ in range(6)] + ["same-key-" + "x" * 8] * 6
    threads = [threading.Thread(target=tap, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 12 and {status for status, _ in answers} <= {200, 201}, answers
    assert len({order_id for _, order_id in answers}) == 1, "every tap got the one order"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentOrder)) == 1


def test_a_cancelled_order_frees_its_bill_and_a_channel_not_logged_into_is_named(client, wechat_citizen):
    bill = payable(client, wechat_citizen)[0]["bill_id"]
    first = pay(client, wechat_citizen, [bill]).json
    alipay = pay(client, wechat_citizen, [bill], channel="alipay")  # this citizen has no Alipay login
    assert alipay.status_code == 422 and alipay.json["error"]["code"] == "CHANNEL_NOT_LINKED"
    cancelled = client.post(f"/api/v1/payments/{first['id']}/cancel", headers=headers_of(wechat_citizen))
    assert cancelled.status_code == 200 and cancelled.json["state"] == "CLOSED" and cancelled.json["finished"]
    again = pay(client, wechat_citizen, [bill])
    assert again.status_code == 201 and again.json["id"] != first["id"]


def test_nobody_else_sees_or_cancels_my_payment(client, wechat_citizen, sandbox_url):
    from tests.identity.helpers import bearer, login_wechat

    order = pay(client, wechat_citizen, [payable(client, wechat_citizen)[0]["bill_id"]]).json
    bob = bearer(login_wechat(client, sandbox_url, user="bob")["access_token"])
    assert client.get(f"/api/v1/payments/{order['id']}", headers=bob).status_code == 404
    assert client.post(f"/api/v1/payments/{order['id']}/cancel", headers=bob).status_code == 404
    assert client.get("/api/v1/payments", headers=bob).json == []


def test_a_bill_the_issuer_does_not_have_or_an_account_not_mine_is_refused(client, wechat_citizen):
    unknown = pay(client, wechat_citizen, ["NO-SUCH-BILL"])
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "BILL_NOT_FOUND"
    body = {"account_id": str(uuid.uuid4()), "bill_ids": ["x"], "channel": "wechat"}
    headers = {**headers_of(wechat_citizen), "Idempotency-Key": uuid.uuid4().hex}
    stranger = client.post("/api/v1/payments", json=body, headers=headers)
    assert stranger.status_code == 404 and stranger.json["error"]["code"] == "ACCOUNT_NOT_FOUND"
    no_key = client.post("/api/v1/payments", json=body, headers=headers_of(wechat_citizen))
    assert no_key.status_code == 422
