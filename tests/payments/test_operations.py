"""Operators and departments: refunds guarded by the refundable amount they saw, a payment's trail,
discrepancies listed and resolved; the citizen's printable receipt."""

import pytest

from app.db import unit_of_work
from app.identity import sessions
from app.identity.tokens import Caller
from tests.identity.helpers import bearer, login_wechat
from tests.payments.conftest import headers_of, pay, payable, twin_pays, until_state

OPERATOR = Caller("operator", "op-1", roles=frozenset({"operator"}))
AUDITOR = Caller("operator", "audit-1", roles=frozenset({"auditor"}))
WATER_CLERK = Caller("staff", "clerk-jxw", roles=frozenset({"clerk"}), department="jxw")  # energy is jxw's
OTHER_CLERK = Caller("staff", "clerk-gjj", roles=frozenset({"clerk"}), department="gjj")


def token(app, caller) -> dict:
    with app.app_context(), unit_of_work():
        return bearer(sessions.start(caller).access_token)


@pytest.fixture
def settled(client, wechat_citizen, served, sandbox_url):
    bills = payable(client, wechat_citizen)
    order = pay(client, wechat_citizen, [bill["bill_id"] for bill in bills[:2]]).json
    twin_pays(sandbox_url, "wechat", order["pay_params"]["package"].removeprefix("prepay_id="))
    return client.get(f"/api/v1/payments/{order['id']}", headers=headers_of(wechat_citizen)).json


def refund(client, who, order, **body):
    return client.post(f"/api/v1/ops/payments/{order['id']}/refunds", json={"reason": "测试退款", **body}, headers=who)


def test_partial_refunds_guarded_by_the_refundable_amount_never_exceed_the_payment(
    client, app, settled, wechat_citizen
):
    assert settled["state"] == "SETTLED" and settled["refundable_fen"] == settled["amount_fen"]
    operator, total = token(app, OPERATOR), settled["amount_fen"]
    first = refund(client, operator, settled, refundable_fen=total, amount_fen=100)
    assert first.status_code == 201 and first.json["state"] == "PROCESSING", first.json
    partly = until_state(client, wechat_citizen, settled["id"], "PARTIALLY_REFUNDED")
    assert partly["refunded_fen"] == 100 and partly["refundable_fen"] == total - 100
    stale = refund(client, operator, settled, refundable_fen=total, amount_fen=100)  # what it saw before
    assert stale.status_code == 412 and stale.json["error"]["details"]["refundable_fen"] == total - 100
    too_much = refund(client, operator, settled, refundable_fen=total - 100, amount_fen=total)
    assert too_much.status_code == 422 and too_much.json["error"]["code"] == "REFUND_TOO_LARGE"
    rest = refund(client, operator, settled, refundable_fen=total - 100)
    assert rest.status_code == 201 and rest.json["amount_fen"] == total - 100
    done = until_state(client, wechat_citizen, settled["id"], "REFUNDED")
    assert done["refunded_fen"] == total and done["refundable_fen"] == 0
    again = refund(client, operator, settled, refundable_fen=0, amount_fen=1)
    assert again.status_code == 409 and again.json["error"]["code"] == "NOT_REFUNDABLE"
    trail = client.get(f"/api/v1/ops/payments/{settled['id']}", headers=operator).json
    assert [move["to"] for move in trail["transitions"]] == [
        "CREATED", "PAYING", "PAID", "SETTLED", "REFUNDING", "PARTIALLY_REFUNDED", "REFUNDING", "REFUNDED"
    ]  # fmt: skip
    assert [r["state"] for r in trail["refunds"]] == ["SUCCEEDED", "SUCCEEDED"] and trail["write_off_receipt"]


def test_a_department_refunds_only_payments_of_its_own_bills(client, app, settled):
    other = refund(client, token(app, OTHER_CLERK), settled, refundable_fen=settled["amount_fen"])
    assert other.status_code == 404  # not even its existence
    own = refund(client, token(app, WATER_CLERK), settled, refundable_fen=settled["amount_fen"])
    assert own.status_code == 201


def test_discrepancies_are_listed_for_operators_and_auditors_and_resolved_once(client, app, settled, sandbox_url):
    from integrations.wechatpay import sandbox as wechatpay_twin

    out_trade_no = client.get(f"/api/v1/ops/payments/{settled['id']}", headers=token(app, OPERATOR)).json[
        "out_trade_no"
    ]
    headers, body = wechatpay_twin.notification(out_trade_no, tamper="amount")
    assert client.post("/api/v1/payments/notify/wechat", data=body, headers=headers).status_code == 204
    listed = client.get("/api/v1/ops/payments/discrepancies", headers=token(app, AUDITOR))
    assert listed.status_code == 200 and [(d["kind"], d["payment_id"]) for d in listed.json] == [
        ("amount_mismatch", settled["id"])
    ]
    operator = token(app, OPERATOR)
    item = listed.json[0]["id"]
    done = client.post(
        f"/api/v1/ops/payments/discrepancies/{item}/resolve", json={"resolution": "核实为渠道测试"}, headers=operator
    )
    assert done.status_code == 200 and done.json["resolved_at"]
    twice = client.post(
        f"/api/v1/ops/payments/discrepancies/{item}/resolve", json={"resolution": "x1"}, headers=operator
    )
    assert twice.status_code == 409
    assert client.get("/api/v1/ops/payments/discrepancies", headers=operator).json == []


def test_the_receipt_is_a_printable_page_of_the_payment_for_its_citizen_only(
    client, settled, wechat_citizen, sandbox_url
):
    page = client.get(f"/api/v1/payments/{settled['id']}/receipt", headers=headers_of(wechat_citizen))
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    yuan = f"{settled['amount_fen'] // 100}.{settled['amount_fen'] % 100:02d}"
    assert settled["transaction_id"] in text and settled["issuer"] in text and yuan in text and "****3041" in text
    assert "<th>缴费账户</th><td>****3041</td>" in text, "the account number masked"
    bob = bearer(login_wechat(client, sandbox_url, user="bob")["access_token"])
    assert client.get(f"/api/v1/payments/{settled['id']}/receipt", headers=bob).status_code == 404


def test_an_unpaid_payment_has_no_receipt(client, wechat_citizen):
    order = pay(client, wechat_citizen, [payable(client, wechat_citizen)[0]["bill_id"]]).json
    answer = client.get(f"/api/v1/payments/{order['id']}/receipt", headers=headers_of(wechat_citizen))
    assert answer.status_code == 409 and answer.json["error"]["code"] == "NOT_PAID"


def test_no_partial_refund_before_the_issuer_wrote_the_bills_off(client, app, wechat_citizen, served, sandbox_url):
    import requests

    order = pay(client, wechat_citizen, [payable(client, wechat_citizen)[0]["bill_id"]]).json
    requests.put(f"{sandbox_url}/_control/faults/energy", json={"mode": "fail", "status": 503}, timeout=5)
    try:
        twin_pays(sandbox_url, "wechat", order["pay_params"]["package"].removeprefix("prepay_id="))
    finally:
        requests.delete(f"{sandbox_url}/_control/faults/energy", timeout=5)
    paid = client.get(f"/api/v1/payments/{order['id']}", headers=headers_of(wechat_citizen)).json
    assert paid["state"] == "PAID", "the write-off waits for the issuer"
    partial = refund(client, token(app, OPERATOR), paid, refundable_fen=paid["amount_fen"], amount_fen=1)
    assert partial.status_code == 409 and partial.json["error"]["code"] == "WRITE_OFF_PENDING"


def test_a_resolved_discrepancy_seen_again_is_open_again(client, app, settled):
    from integrations.wechatpay import sandbox as wechatpay_twin

    operator = token(app, OPERATOR)
    out_trade_no = client.get(f"/api/v1/ops/payments/{settled['id']}", headers=operator).json["out_trade_no"]
    for _ in range(2):
        headers, body = wechatpay_twin.notification(out_trade_no, tamper="amount")
        client.post("/api/v1/payments/notify/wechat", data=body, headers=headers)
        [item] = client.get("/api/v1/ops/payments/discrepancies", headers=operator).json
        resolved = client.post(
            f"/api/v1/ops/payments/discrepancies/{item['id']}/resolve", json={"resolution": "已核实"}, headers=operator
        )
        assert resolved.status_code == 200
    assert item["seen"] == 2
