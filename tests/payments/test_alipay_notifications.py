"""Alipay's notifications: a forged or foreign one is answered `fail` and moves nothing; a genuine one with
another amount is a discrepancy; repeats of a genuine one pay once."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.payments import states
from app.payments.models import Discrepancy, PaymentOrder
from integrations.alipay import sandbox as alipay_twin
from tests.payments.conftest import pay, payable, twin_pays

NOTIFY = "/api/v1/payments/notify/alipay"


@pytest.fixture
def paid_at_alipay(client, alipay_citizen, sandbox_url, app):
    order = pay(client, alipay_citizen, [payable(client, alipay_citizen)[0]["bill_id"]], channel="alipay").json
    twin_pays(sandbox_url, "alipay", order["pay_params"]["tradeNO"], notify=False)
    with app.app_context():
        return db.session.get(PaymentOrder, order["id"]).out_trade_no


def state_of(app, out_trade_no) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(PaymentOrder.state).where(PaymentOrder.out_trade_no == out_trade_no))


@pytest.mark.parametrize(("tamper", "status"), [("signature", 401), ("app_id", 400), ("seller_id", 400)])
def test_a_forged_or_foreign_notification_gets_fail_and_moves_nothing(client, app, paid_at_alipay, tamper, status):
    answer = client.post(NOTIFY, data=alipay_twin.trade_notification(paid_at_alipay, tamper=tamper))
    assert (answer.status_code, answer.get_data(as_text=True)) == (status, "fail")
    assert state_of(app, paid_at_alipay) == states.PAYING


def test_another_amount_is_a_discrepancy_and_repeats_of_the_genuine_one_pay_once(client, app, paid_at_alipay):
    lied = client.post(NOTIFY, data=alipay_twin.trade_notification(paid_at_alipay, tamper="amount"))
    assert lied.get_data(as_text=True) == "success" and state_of(app, paid_at_alipay) == states.PAYING
    for _ in range(3):
        answer = client.post(NOTIFY, data=alipay_twin.trade_notification(paid_at_alipay))
        assert answer.get_data(as_text=True) == "success"
    assert state_of(app, paid_at_alipay) == states.SETTLED
    with app.app_context():
        assert [row.kind for row in db.session.scalars(sa.select(Discrepancy))] == ["amount_mismatch"]
