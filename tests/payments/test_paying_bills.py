"""Bind → bills → pay through a channel's twin → notification → PAID → write-off → SETTLED; and a
department that refuses the write-off ends REFUNDED with the citizen told why."""

import requests

from tests.payments.conftest import WATER, headers_of, pay, payable, twin_pays, until_state


def prepay_id(order) -> str:
    return order["pay_params"]["package"].removeprefix("prepay_id=")


def test_paying_water_bills_through_wechat_ends_settled_and_the_bills_read_paid(
    client, wechat_citizen, served, sandbox_url
):
    bills = payable(client, wechat_citizen)
    assert bills, "the demo account owes something"
    assert all(bill["issuer"] and bill["account"]["account_no"] == "****3041" for bill in bills)
    chosen = [bill["bill_id"] for bill in bills]
    created = pay(client, wechat_citizen, chosen)
    assert created.status_code == 201, created.json
    order = created.json
    assert order["state"] == "PAYING" and order["finished"] is False
    assert order["amount_fen"] == sum(bill["total_fen"] for bill in bills)
    params = order["pay_params"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=")

    paid = twin_pays(sandbox_url, "wechat", prepay_id(order))
    assert paid["notified"] == 204, paid

    after = client.get(f"/api/v1/payments/{order['id']}", headers=headers_of(wechat_citizen)).json
    assert after["state"] == "SETTLED" and after["finished"] is True
    assert after["transaction_id"] == paid["transaction_id"] and after["paid_at"] and after["settled_at"]
    assert after["pay_params"] is None
    listed = client.get("/api/v1/bills", headers=headers_of(wechat_citizen)).json["bills"]
    mine = {bill["bill_id"]: bill for bill in listed}
    assert all(mine[bill_id]["status"] == "paid" and not mine[bill_id]["payable"] for bill_id in chosen)


def test_paying_through_alipay_ends_settled(client, alipay_citizen, served, sandbox_url):
    bills = payable(client, alipay_citizen)
    order = pay(client, alipay_citizen, [bills[0]["bill_id"]], channel="alipay").json
    assert order["state"] == "PAYING" and order["pay_params"]["tradeNO"]
    paid = twin_pays(sandbox_url, "alipay", order["pay_params"]["tradeNO"])
    assert paid["notified"] == 200 and paid["answer"] == "success", paid
    after = client.get(f"/api/v1/payments/{order['id']}", headers=headers_of(alipay_citizen)).json
    assert after["state"] == "SETTLED" and after["amount_fen"] == bills[0]["total_fen"]


def test_a_bill_paid_at_the_counter_meanwhile_is_refunded_and_the_citizen_told_why(
    client, wechat_citizen, served, sandbox_url
):
    bill = payable(client, wechat_citizen)[0]
    order = pay(client, wechat_citizen, [bill["bill_id"]]).json
    counter = requests.post(
        f"{sandbox_url}/energy/_control/paid-elsewhere",
        json={"account_no": WATER["account_no"], "bill_id": bill["bill_id"]},
        timeout=5,
    )
    assert counter.status_code < 300, counter.text
    twin_pays(sandbox_url, "wechat", prepay_id(order))
    after = until_state(client, wechat_citizen, order["id"], "REFUNDED")
    assert after["refunded_fen"] == after["amount_fen"] and after["refundable_fen"] == 0
    assert after["notice"] and "退" in after["notice"]
