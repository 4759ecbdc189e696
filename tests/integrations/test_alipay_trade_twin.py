"""The Alipay gateway twin's trades, driven by the real SDK over HTTP: create, query, close, refund, the
async notification (signed with Alipay's key, checked with the SDK's verify) and the daily trade bill."""

import io
import zipfile
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from alipay import AliPay
from alipay.exceptions import AliPayException
from flask import Flask, request

from integrations.alipay import sandbox
from integrations.alipay.client import BEIJING
from integrations.sandbox import keyring
from tests.servers import serving, serving_twin

APP_ID = "2021000000000001"
BUYER = "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"  # an open_id, as mini-programs get since 2023


@pytest.fixture(scope="module")
def keys():
    return keyring.alipay_keys()


@pytest.fixture(scope="module")
def twin_url():
    with serving_twin(sandbox, "alipay") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_twin(keys):
    sandbox.reset()
    sandbox.configure(keys["app_public"], keys["alipay_private"])
    yield
    sandbox.reset()


@pytest.fixture
def sdk(keys, twin_url):
    client = AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=keys["app_private"],
        alipay_public_key_string=keys["alipay_public"],
        sign_type="RSA2",
    )
    client._gateway = f"{twin_url}/gateway.do"
    return client


@pytest.fixture
def receiver():
    """Our side of the notification: records each form and answers what `answer` says."""
    seen = SimpleNamespace(forms=[], content_types=[], answer="success")
    app = Flask("notify-receiver")

    @app.post("/payments/alipay/notify")
    def notified():
        seen.forms.append(request.form.to_dict())
        seen.content_types.append(request.headers.get("Content-Type", ""))
        return seen.answer

    with serving(app) as url:
        seen.url = f"{url}/payments/alipay/notify"
        yield seen


def create(sdk, out_trade_no, amount="10.00", *, buyer=BUYER, notify_url=None, **extra):
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": amount,
        "subject": "户籍证明工本费",
        "buyer_open_id": buyer,
        "product_code": "JSAPI_PAY",
        "op_app_id": APP_ID,
        **extra,
    }
    return sdk.server_api("alipay.trade.create", biz_content=biz, notify_url=notify_url)


def call(sdk, method, **biz):
    return sdk.server_api(method, biz_content=biz)


def pay(twin_url, trade_no, **body):
    return requests.post(f"{twin_url}/pay", json={"trade_no": trade_no, **body}, timeout=10)


def verifies(sdk, form) -> bool:
    data = {k: v for k, v in form.items() if k not in ("sign", "sign_type")}
    return sdk.verify(data, form["sign"])


def test_create_answers_the_same_trade_no_for_the_same_order_and_refuses_another(sdk):
    first = create(sdk, "PAY_1", notify_url="https://city.example/notify")
    assert first["code"] == "10000" and first["msg"] == "Success" and first["out_trade_no"] == "PAY_1"
    assert len(first["trade_no"]) == 28 and first["trade_no"].isdigit()
    assert create(sdk, "PAY_1", "10.00")["trade_no"] == first["trade_no"]

    other = create(sdk, "PAY_1", "12.00")
    assert (other["code"], other["msg"], other["sub_code"]) == ("40004", "Business Failed", "ACQ.CONTEXT_INCONSISTENT")
    assert create(sdk, "PAY_1", buyer="0" + "9" * 46)["sub_code"] == "ACQ.TRADE_BUYER_NOT_MATCH"

    kept = sandbox.trade("PAY_1")
    assert kept["notify_url"] == "https://city.example/notify" and kept["app_id"] == APP_ID
    assert kept["buyer_open_id"] == BUYER and kept["trade_status"] == "WAIT_BUYER_PAY"


@pytest.mark.parametrize("amount", ["0.00", "1.234", "-1.00", "ten", ""])
def test_create_refuses_a_bad_amount(sdk, amount):
    assert create(sdk, "PAY_BAD", amount)["sub_code"] == "ACQ.INVALID_PARAMETER"
    assert sandbox.trade("PAY_BAD") is None


def test_create_refuses_more_than_the_limit_and_other_products(sdk):
    assert create(sdk, "PAY_BIG", "100000000.01")["sub_code"] == "ACQ.TOTAL_FEE_EXCEED"
    assert create(sdk, "PAY_F2F", product_code="FACE_TO_FACE_PAYMENT")["sub_code"] == "ACQ.ACCESS_FORBIDDEN"


def test_query_reads_wait_buyer_pay_then_trade_success(sdk, twin_url):
    trade_no = create(sdk, "PAY_Q")["trade_no"]
    waiting = call(sdk, "alipay.trade.query", out_trade_no="PAY_Q")
    assert waiting["code"] == "10000" and waiting["trade_status"] == "WAIT_BUYER_PAY"
    assert waiting["trade_no"] == trade_no and waiting["total_amount"] == "10.00"
    assert waiting["buyer_pay_amount"] == "0.00" and "send_pay_date" not in waiting
    assert "****" in waiting["buyer_logon_id"] and waiting["buyer_open_id"] == BUYER

    answer = pay(twin_url, trade_no, notify=False)
    assert answer.status_code == 200
    assert answer.json() == {"out_trade_no": "PAY_Q", "trade_no": trade_no, "notified": None, "answer": None}

    paid = call(sdk, "alipay.trade.query", trade_no=trade_no)
    assert paid["trade_status"] == "TRADE_SUCCESS" and paid["out_trade_no"] == "PAY_Q"
    assert paid["receipt_amount"] == paid["buyer_pay_amount"] == "10.00"
    assert paid["send_pay_date"] == sandbox.trade("PAY_Q")["gmt_payment"]
    assert pay(twin_url, trade_no).status_code == 409
    assert pay(twin_url, "2026010122001000000000000000").status_code == 404
    assert call(sdk, "alipay.trade.query", out_trade_no="NEVER")["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    assert create(sdk, "PAY_Q")["sub_code"] == "ACQ.TRADE_HAS_SUCCESS"


def test_an_unpaid_trade_closes_at_its_timeout(sdk, twin_url):
    trade_no = create(sdk, "PAY_T", timeout_express="5m")["trade_no"]
    sandbox.shift_clock(timedelta(minutes=6))
    assert call(sdk, "alipay.trade.query", out_trade_no="PAY_T")["trade_status"] == "TRADE_CLOSED"
    assert pay(twin_url, trade_no).status_code == 409


def test_the_notification_verifies_with_the_sdk_and_a_tampered_one_does_not(sdk):
    create(sdk, "PAY_N", notify_url="https://city.example/notify")
    sandbox.mark_paid("PAY_N")
    form = sandbox.trade_notification("PAY_N")
    assert form["notify_type"] == "trade_status_sync" and form["sign_type"] == "RSA2"
    assert form["trade_status"] == "TRADE_SUCCESS" and form["total_amount"] == "10.00"
    assert form["app_id"] == APP_ID and form["seller_id"] == keyring.ALIPAY_SELLER_ID
    assert form["buyer_open_id"] == BUYER and form["gmt_payment"] == sandbox.trade("PAY_N")["gmt_payment"]
    assert verifies(sdk, form)
    assert not verifies(sdk, {**form, "total_amount": "0.01"})  # altered after signing
    assert sandbox.trade_notification("PAY_N")["notify_id"] != form["notify_id"]

    assert not verifies(sdk, sandbox.trade_notification("PAY_N", tamper="signature"))
    # The other tampers are signed by Alipay's key: only our own checks can catch them.
    wrong = {tamper: sandbox.trade_notification("PAY_N", tamper=tamper) for tamper in ("amount", "app_id", "seller_id")}
    assert all(verifies(sdk, tampered) for tampered in wrong.values())
    assert wrong["amount"]["total_amount"] == "10.01"
    assert wrong["app_id"]["app_id"] != APP_ID and wrong["seller_id"]["seller_id"] != keyring.ALIPAY_SELLER_ID
    status = sandbox.trade_notification("PAY_N", tamper="status")
    assert verifies(sdk, status) and status["trade_status"] == "WAIT_BUYER_PAY" and "gmt_payment" not in status


def test_close(sdk, twin_url):
    trade_no = create(sdk, "PAY_C")["trade_no"]
    closed = call(sdk, "alipay.trade.close", out_trade_no="PAY_C")
    assert closed == {"code": "10000", "msg": "Success", "trade_no": trade_no, "out_trade_no": "PAY_C"}
    assert call(sdk, "alipay.trade.query", out_trade_no="PAY_C")["trade_status"] == "TRADE_CLOSED"
    assert pay(twin_url, trade_no).status_code == 409
    assert create(sdk, "PAY_C")["sub_code"] == "ACQ.TRADE_HAS_CLOSE"
    assert call(sdk, "alipay.trade.close", out_trade_no="PAY_C")["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert call(sdk, "alipay.trade.close", out_trade_no="NEVER")["sub_code"] == "ACQ.TRADE_NOT_EXIST"

    create(sdk, "PAY_C2")
    sandbox.mark_paid("PAY_C2")
    assert call(sdk, "alipay.trade.close", out_trade_no="PAY_C2")["sub_code"] == "ACQ.TRADE_STATUS_ERROR"


def refund(sdk, amount, out_request_no, out_trade_no="PAY_R"):
    return call(
        sdk, "alipay.trade.refund", out_trade_no=out_trade_no, refund_amount=amount, out_request_no=out_request_no
    )


def test_refunds_add_up_to_the_total_at_most(sdk):
    trade_no = create(sdk, "PAY_R")["trade_no"]
    assert refund(sdk, "1.00", "R0")["sub_code"] == "ACQ.TRADE_STATUS_ERROR"  # not paid yet
    sandbox.mark_paid("PAY_R")

    first = refund(sdk, "3.00", "R1")
    assert first["code"] == "10000" and first["fund_change"] == "Y" and first["refund_fee"] == "3.00"
    assert first["trade_no"] == trade_no and "****" in first["buyer_logon_id"] and first["gmt_refund_pay"]
    again = refund(sdk, "3.00", "R1")
    assert again["fund_change"] == "N" and again["refund_fee"] == "3.00"  # the same refund, not a second one
    assert again["gmt_refund_pay"] == first["gmt_refund_pay"]
    assert refund(sdk, "4.00", "R1")["sub_code"] == "ACQ.DISCORDANT_REPEAT_REQUEST"
    assert refund(sdk, "7.01", "R2")["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert call(sdk, "alipay.trade.query", out_trade_no="PAY_R")["trade_status"] == "TRADE_SUCCESS"

    last = refund(sdk, "7.00", "R2")
    assert last["fund_change"] == "Y" and last["refund_fee"] == "10.00"
    assert call(sdk, "alipay.trade.query", out_trade_no="PAY_R")["trade_status"] == "TRADE_CLOSED"
    assert refund(sdk, "0.01", "R3")["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert sandbox.trade("PAY_R")["refund_fee"] == "10.00"

    found = call(sdk, "alipay.trade.fastpay.refund.query", out_trade_no="PAY_R", out_request_no="R1")
    assert found["refund_status"] == "REFUND_SUCCESS" and found["out_request_no"] == "R1"
    assert (found["refund_amount"], found["total_amount"]) == ("3.00", "10.00")
    missing = call(sdk, "alipay.trade.fastpay.refund.query", out_trade_no="PAY_R", out_request_no="R9")
    assert missing["code"] == "10000" and "refund_status" not in missing and "refund_amount" not in missing


def test_pay_posts_the_signed_notification_to_the_notify_url(sdk, twin_url, receiver):
    trade_no = create(sdk, "PAY_D", "25.50", notify_url=receiver.url)["trade_no"]
    answer = pay(twin_url, trade_no).json()
    assert answer["notified"] == 200 and answer["answer"] == "success"
    assert (answer["out_trade_no"], answer["trade_no"]) == ("PAY_D", trade_no)

    (form,) = receiver.forms
    assert receiver.content_types[0] == "application/x-www-form-urlencoded; charset=utf-8"
    assert verifies(sdk, form) and form["notify_id"] == answer["notify_id"]
    assert (form["out_trade_no"], form["total_amount"], form["trade_status"]) == ("PAY_D", "25.50", "TRADE_SUCCESS")
    assert form["subject"] == "户籍证明工本费"  # UTF-8 on the wire

    receiver.answer = "fail"
    resent = requests.post(
        f"{twin_url}/notify", json={"out_trade_no": "PAY_D", "copies": 2, "tamper": "amount"}, timeout=20
    ).json()
    assert [d["notified"] for d in resent["deliveries"]] == [200, 200]
    assert [d["answer"] for d in resent["deliveries"]] == ["fail", "fail"]  # reported; Alipay would retry
    assert [f["total_amount"] for f in receiver.forms[1:]] == ["25.51", "25.51"]
    assert receiver.forms[1]["notify_id"] != receiver.forms[2]["notify_id"]

    retried = requests.post(
        f"{twin_url}/notify", json={"out_trade_no": "PAY_D", "copies": 2, "retry": True}, timeout=20
    )
    assert len({d["notify_id"] for d in retried.json()["deliveries"]}) == 1
    assert requests.post(f"{twin_url}/notify", json={"out_trade_no": "NEVER"}, timeout=5).status_code == 404
    assert (
        requests.post(f"{twin_url}/notify", json={"out_trade_no": "PAY_D", "tamper": "x"}, timeout=5).status_code == 400
    )


def test_the_bill_lists_the_days_payments_and_refunds(sdk, twin_url, keys):
    sandbox.shift_clock(timedelta(days=-1))  # Alipay makes day D's bill on D+1: trade "yesterday"
    create(sdk, "PAY_B1", "10.00")
    create(sdk, "PAY_B2", "20.00")
    create(sdk, "PAY_B3", "5.00")  # never paid: not in the bill
    sandbox.mark_paid("PAY_B1")
    sandbox.mark_paid("PAY_B2")
    refund(sdk, "4.00", "RB1", out_trade_no="PAY_B2")
    sandbox.shift_clock(timedelta(0))
    bill_date = sandbox.trade("PAY_B1")["gmt_payment"][:10]

    reply = call(sdk, "alipay.data.dataservice.bill.downloadurl.query", bill_type="trade", bill_date=bill_date)
    assert reply["code"] == "10000" and reply["bill_download_url"].startswith(f"{twin_url}/bill/download?")
    download = requests.get(reply["bill_download_url"], timeout=5)  # plain GET, unsigned
    assert download.status_code == 200

    with zipfile.ZipFile(io.BytesIO(download.content), metadata_encoding="gbk") as archive:
        names = archive.namelist()
        account, compact = f"{keyring.ALIPAY_SELLER_ID}0156", bill_date.replace("-", "")
        assert names == [f"{account}_{compact}_业务明细.csv", f"{account}_{compact}_业务明细(汇总).csv"]
        lines = archive.read(names[0]).decode("gbk").splitlines()
    assert lines[0] == "#支付宝业务明细查询" and lines[1] == f"#账号：[{account}]"
    assert lines[4] == sandbox.DETAIL_HEADER
    rows = [[cell.strip() for cell in line.split(",")] for line in lines if not line.startswith("#")][1:]
    assert all(len(row) == 25 for row in rows)
    assert sorted((row[1], row[2], row[11], row[12], row[21]) for row in rows) == [
        ("PAY_B1", "交易", "10.00", "10.00", ""),
        ("PAY_B2", "交易", "20.00", "20.00", ""),
        ("PAY_B2", "退款", "-4.00", "-4.00", "RB1"),
    ]
    assert "#交易合计：2笔，商家实收共30.00元，商家优惠共0.00元" in lines
    assert "#退款合计：1笔，商家实收退款共-4.00元，商家优惠退款共0.00元" in lines


@pytest.mark.parametrize("days", [0, 1])
def test_todays_bill_does_not_exist_yet(sdk, days):
    day = (datetime.now(BEIJING) + timedelta(days=days)).strftime("%Y-%m-%d")
    reply = call(sdk, "alipay.data.dataservice.bill.downloadurl.query", bill_type="trade", bill_date=day)
    assert (reply["code"], reply["sub_code"]) == ("40004", "isp.bill_not_exist")


def test_unknown_methods_keep_their_refusal(sdk):
    with pytest.raises(AliPayException) as refused:
        call(sdk, "alipay.trade.precreate", out_trade_no="PAY_X")
    assert "isv.invalid-method" in str(refused.value)
