"""Notifications that are not what they claim, or disagree with our record, move no order; fifty copies
of a genuine one and the closing job at the same moment pay an order exactly once."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clock import utcnow
from app.db import unit_of_work
from app.extensions import db
from app.payments import channels, jobs, ledger, states
from app.payments.models import Discrepancy, PaymentOrder, Transition
from integrations.wechatpay import sandbox as wechatpay_twin
from tests.payments.conftest import pay, payable, twin_pays

NOTIFY = "/api/v1/payments/notify/wechat"


@pytest.fixture
def paid_at_twin(client, wechat_citizen, sandbox_url, app):
    """An order the citizen has paid at WeChat Pay, whose notification has not reached us yet."""
    order = pay(client, wechat_citizen, [payable(client, wechat_citizen)[0]["bill_id"]]).json
    twin_pays(sandbox_url, "wechat", order["pay_params"]["package"].removeprefix("prepay_id="), notify=False)
    with app.app_context():
        return db.session.get(PaymentOrder, order["id"]).out_trade_no


def order_of(app, out_trade_no) -> PaymentOrder:
    with app.app_context():
        order = db.session.scalar(sa.select(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no))
        db.session.expunge(order)
        return order


def discrepancies(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.kind, row.out_trade_no) for row in db.session.scalars(sa.select(Discrepancy))]


def post(client, headers_and_body):
    headers, body = headers_and_body
    return client.post(NOTIFY, data=body, headers=headers)


@pytest.mark.parametrize("tamper", ["signature", "timestamp", "serial", "ciphertext"])
def test_a_forged_or_stale_notification_is_refused_and_moves_nothing(client, app, paid_at_twin, tamper):
    answer = post(client, wechatpay_twin.notification(paid_at_twin, tamper=tamper))
    assert answer.status_code == 401 and answer.json["code"] == "FAIL"
    assert order_of(app, paid_at_twin).state == states.PAYING


@pytest.mark.parametrize("tamper", ["appid", "mchid"])
def test_a_notification_for_another_app_or_merchant_is_refused(client, app, paid_at_twin, tamper):
    answer = post(client, wechatpay_twin.notification(paid_at_twin, tamper=tamper))
    assert answer.status_code == 400 and answer.json["code"] == "FAIL"
    assert order_of(app, paid_at_twin).state == states.PAYING


def test_a_wrong_amount_is_kept_as_a_discrepancy_and_the_order_not_paid(client, app, paid_at_twin):
    answer = post(client, wechatpay_twin.notification(paid_at_twin, tamper="amount"))
    assert answer.status_code == 204  # recorded: retrying for a day would record nothing more
    assert order_of(app, paid_at_twin).state == states.PAYING
    assert discrepancies(app) == [("amount_mismatch", paid_at_twin)]


def test_a_payment_for_an_order_we_never_made_is_kept_as_a_discrepancy(client, app, wechat_citizen):
    with app.app_context():
        stranger = "ZZ20261206000000" + "9" * 10
        openid = "o" + "x" * 27
        channels.wechat().prepay(stranger, 100, "not ours", openid, utcnow() + timedelta(minutes=15))
    wechatpay_twin.mark_paid(stranger)
    assert post(client, wechatpay_twin.notification(stranger)).status_code == 204
    assert discrepancies(app) == [("unknown_order", stranger)]


def test_a_replayed_notification_for_an_order_we_closed_is_a_discrepancy_not_a_payment(client, app, paid_at_twin):
    with app.app_context(), unit_of_work():
        order = ledger.locked_by_trade_no(paid_at_twin)
        ledger.move(order, states.CLOSED, "closed (test)")
    for _ in range(2):
        assert post(client, wechatpay_twin.notification(paid_at_twin)).status_code == 204
    assert order_of(app, paid_at_twin).state == states.CLOSED
    with app.app_context():
        row = db.session.scalar(sa.select(Discrepancy))
        assert (row.kind, row.seen) == ("paid_after_close", 2)


def test_fifty_copies_and_the_closing_job_at_once_make_one_paid_transition_and_one_write_off(app, paid_at_twin):
    with app.app_context(), unit_of_work():
        ledger.locked_by_trade_no(paid_at_twin).expires_at = utcnow() - timedelta(seconds=1)  # the job's turn
    copies = [wechatpay_twin.notification(paid_at_twin) for _ in range(50)]
    start, answers, errors = threading.Barrier(51), [], []

    def notify(copy):
        start.wait()
        answers.append(post(app.test_client(), copy).status_code)

    def closing_job():
        start.wait()
        try:
            with app.app_context():
                jobs.expire_due()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=notify, args=(copy,)) for copy in copies]
    threads.append(threading.Thread(target=closing_job))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(set(answers)) == [204] and len(answers) == 50
    order = order_of(app, paid_at_twin)
    assert order.state == states.SETTLED
    with app.app_context():
        moves = db.session.scalars(sa.select(Transition.to_state).where(Transition.order_id == order.id)).all()
    assert moves.count(states.PAID) == 1 and states.CLOSED not in moves


def test_a_paid_order_whose_notification_lied_about_the_amount_is_taken_by_the_expiry_job_not_closed(
    client, app, paid_at_twin
):
    post(client, wechatpay_twin.notification(paid_at_twin, tamper="amount"))
    with app.app_context(), unit_of_work():
        ledger.locked_by_trade_no(paid_at_twin).expires_at = utcnow() - timedelta(seconds=1)
    with app.app_context():
        jobs.expire_due()
    # WeChat has the money: the job asks it before closing and takes the payment at the amount it reports.
    assert order_of(app, paid_at_twin).state == states.SETTLED
    assert ("amount_mismatch", paid_at_twin) in discrepancies(app)


def test_a_timestamp_too_large_for_a_clock_is_refused_not_a_500(client, app, paid_at_twin):
    headers, body = wechatpay_twin.notification(paid_at_twin)
    answer = client.post(NOTIFY, data=body, headers={**headers, "Wechatpay-Timestamp": "1" * 400})
    assert answer.status_code == 401
