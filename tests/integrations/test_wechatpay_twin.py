"""The WeChat Pay twin driven by the real wechatpayv3 client over HTTP: signatures both ways, orders, refunds,
notifications to a receiving server, and the day's statement."""

import base64
import gzip
import hashlib
import json
import socket
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask
from flask import request as flask_request
from wechatpayv3 import WeChatPay, WeChatPayType

from integrations.alipay import generate_keypair
from integrations.sandbox import keyring
from integrations.sandbox.twin_kit import BEIJING
from integrations.wechatpay import sandbox
from tests.servers import serving, serving_twin

MCH_ID = keyring.WECHATPAY_MCH_ID
APP_ID = "wx0000demo0000mini"  # app/config.py's default WECHAT_APP_ID
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NOWHERE = f"http://127.0.0.1:{free_port()}/payments/wechatpay/notify"  # nobody listens: refused at once


@pytest.fixture(scope="module")
def keys():
    return keyring.wechatpay_keys()


def configure_twin(keys):
    sandbox.configure(MCH_ID, APP_ID, keys["merchant_public"], keys["merchant_serial"], keys["platform_private"],
                      keys["public_key_id"], keys["api_v3_key"])  # fmt: skip


@pytest.fixture(scope="module")
def twin_url(keys):
    configure_twin(keys)
    with serving_twin(sandbox, "wechatpay") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_twin(keys):
    sandbox.reset()  # the shared sandbox's reset reconfigures the twin after each test: take ours back
    configure_twin(keys)
    yield
    sandbox.reset()


def make_pay(keys, url, *, private_key=None):
    pay = WeChatPay(WeChatPayType.MINIPROG, MCH_ID, private_key=private_key or keys["merchant_private"],
                    cert_serial_no=keys["merchant_serial"], appid=APP_ID, apiv3_key=keys["api_v3_key"],
                    notify_url=NOWHERE, public_key=keys["platform_public"], public_key_id=keys["public_key_id"],
                    timeout=(3, 5))  # fmt: skip
    pay._core._gate_way = url
    return pay


@pytest.fixture
def pay(keys, twin_url):
    return make_pay(keys, twin_url)


@pytest.fixture
def receiver():
    """Our notify endpoint's stand-in: records each notification's headers and raw body, answers 204."""
    received = []
    app = Flask("wechatpay-notify-receiver")

    @app.post("/notify")
    def notify():
        received.append((dict(flask_request.headers), flask_request.get_data()))
        return "", 204

    with serving(app) as url:
        yield SimpleNamespace(url=f"{url}/notify", received=received)


def prepay(pay, out_trade_no, total=100, **extra):
    status, text = pay.pay(description="户籍证明工本费", out_trade_no=out_trade_no, payer={"openid": OPENID},
                           amount={"total": total, "currency": "CNY"}, **extra)  # fmt: skip
    return status, json.loads(text)


def citizen_pays(twin_url, prepay_id, *, notify=False):
    return requests.post(f"{twin_url}/pay", json={"prepay_id": prepay_id, "notify": notify}, timeout=10)


def paid_order(pay, twin_url, out_trade_no, total=100):
    prepay_id = prepay(pay, out_trade_no, total)[1]["prepay_id"]
    return citizen_pays(twin_url, prepay_id).json()


def refund(pay, out_trade_no, out_refund_no, fen, total=100, **extra):
    status, text = pay.refund(out_refund_no=out_refund_no, amount={"refund": fen, "total": total, "currency": "CNY"},
                              out_trade_no=out_trade_no, **extra)  # fmt: skip
    return status, json.loads(text)


def query(pay, out_trade_no):
    status, text = pay.query(out_trade_no=out_trade_no)
    return status, json.loads(text)


def authorization(keys, method, path, *, private_pem=None, serial=None, timestamp=None, nonce=None):
    """An Authorization header signed by hand (not by wechatpayv3), for the requests the library would not make."""
    stamp, nonce = str(timestamp or int(time.time())), nonce or base64.b16encode(time.time_ns().to_bytes(8)).decode()
    key = serialization.load_pem_private_key((private_pem or keys["merchant_private"]).encode(), password=None)
    message = f"{method}\n{path}\n{stamp}\n{nonce}\n\n".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return (f'WECHATPAY2-SHA256-RSA2048 mchid="{MCH_ID}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{stamp}",serial_no="{serial or keys["merchant_serial"]}"')  # fmt: skip


def test_the_same_order_gets_the_same_prepay_id_and_other_terms_are_refused(pay):
    status, first = prepay(pay, "CS2024000001")
    assert status == 200 and first["prepay_id"].startswith("wx") and len(first["prepay_id"]) == 36
    assert prepay(pay, "CS2024000001") == (200, first)
    status, refused = prepay(pay, "CS2024000001", total=101)
    assert (status, refused["code"]) == (400, "INVALID_REQUEST") and "商户订单号重复" in refused["message"]
    status, refused = prepay(pay, "CS2024000002", appid="wx1111111111111111")
    assert (status, refused["code"]) == (400, "APPID_MCHID_NOT_MATCH")


def test_a_request_signed_by_another_key_is_refused(keys, twin_url):
    stranger = make_pay(keys, twin_url, private_key=generate_keypair().private_pem)
    status, text = stranger.query(out_trade_no="CS2024000001")
    assert status == 401 and json.loads(text) == {"code": "SIGN_ERROR", "message": "签名错误"}


def test_a_replayed_stale_or_foreign_authorization_is_refused(keys, twin_url, pay):
    prepay(pay, "CS2024000003")
    path = f"/v3/pay/transactions/out-trade-no/CS2024000003?mchid={MCH_ID}"
    replayed = authorization(keys, "GET", path, nonce="A" * 32)
    assert requests.get(twin_url + path, headers={"Authorization": replayed}, timeout=5).status_code == 200
    for header in (
        replayed,  # the same nonce again
        authorization(keys, "GET", path, timestamp=int(time.time()) - 400),
        authorization(keys, "GET", path, serial="0" * 40),
        authorization(keys, "GET", path.replace("CS2024000003", "CS2024000004")),  # signed another path
        "",
    ):
        answer = requests.get(twin_url + path, headers={"Authorization": header}, timeout=5)
        assert (answer.status_code, answer.json()["code"]) == (401, "SIGN_ERROR")


def test_an_order_reads_notpay_then_success_once_the_citizen_pays(pay, twin_url):
    prepay_id = prepay(pay, "CS2024000005", total=2500)[1]["prepay_id"]
    status, order = query(pay, "CS2024000005")
    assert status == 200 and order["trade_state"] == "NOTPAY" and "transaction_id" not in order
    paid = citizen_pays(twin_url, prepay_id).json()
    assert paid["notified"] is None and paid["transaction_id"].startswith("4200") and len(paid["transaction_id"]) == 28
    status, order = query(pay, "CS2024000005")
    assert (status, order["trade_state"], order["transaction_id"]) == (200, "SUCCESS", paid["transaction_id"])
    assert order["success_time"].endswith("+08:00") and order["payer"] == {"openid": OPENID}
    assert order["amount"] == {"total": 2500, "payer_total": 2500, "currency": "CNY", "payer_currency": "CNY"}
    assert citizen_pays(twin_url, prepay_id).status_code == 409  # paid already
    status, refused = prepay(pay, "CS2024000005", total=2500)
    assert (status, refused["code"]) == (400, "ORDERPAID")
    status, missing = query(pay, "CS2024009999")
    assert (status, missing["code"]) == (404, "ORDER_NOT_EXIST")


def test_an_unpaid_order_past_its_time_expire_reads_closed(pay):
    expires = (datetime.now(BEIJING) + timedelta(minutes=15)).isoformat(timespec="seconds")
    prepay(pay, "CS2024000006", time_expire=expires)
    assert query(pay, "CS2024000006")[1]["trade_state"] == "NOTPAY"
    sandbox.set_clock(timedelta(minutes=16))
    assert query(pay, "CS2024000006")[1]["trade_state"] == "CLOSED"


def test_a_notification_verifies_and_decrypts_and_forgeries_do_not(pay, keys):
    prepay(pay, "CS2024000007", total=990)
    paid = sandbox.mark_paid("CS2024000007")
    headers, body = sandbox.notification("CS2024000007")
    result = pay.callback(headers, body)
    assert result["event_type"] == "TRANSACTION.SUCCESS" and result["resource_type"] == "encrypt-resource"
    resource = result["resource"]
    assert (resource["out_trade_no"], resource["transaction_id"]) == ("CS2024000007", paid["transaction_id"])
    assert (resource["trade_state"], resource["amount"]["total"], resource["mchid"]) == ("SUCCESS", 990, MCH_ID)
    assert json.loads(sandbox.notification("CS2024000007")[1])["id"] != json.loads(body)["id"]  # a retry is new

    assert pay.callback(*sandbox.notification("CS2024000007", tamper="signature")) is None
    assert pay.callback(*sandbox.notification("CS2024000007", tamper="ciphertext")) is None
    lying = pay.callback(*sandbox.notification("CS2024000007", tamper="amount"))
    assert lying["resource"]["amount"]["total"] == 991  # signed and sealed: only our own books catch it
    stale, _ = sandbox.notification("CS2024000007", tamper="timestamp")
    assert int(stale["Wechatpay-Timestamp"]) < time.time() - 300  # verifies: the receiver checks the age itself
    foreign, _ = sandbox.notification("CS2024000007", tamper="serial")
    assert foreign["Wechatpay-Serial"] not in (keys["public_key_id"], "")
    with pytest.raises(LookupError):
        sandbox.notification("CS2024009999")


def test_a_closed_order_reads_closed_and_cannot_be_paid(pay, twin_url):
    prepay_id = prepay(pay, "CS2024000008")[1]["prepay_id"]
    assert pay.close(out_trade_no="CS2024000008") == (204, b"")
    assert query(pay, "CS2024000008")[1]["trade_state"] == "CLOSED"
    assert citizen_pays(twin_url, prepay_id).status_code == 409
    assert prepay(pay, "CS2024000008")[1]["code"] == "ORDER_CLOSED"
    paid_order(pay, twin_url, "CS2024000009")
    status, text = pay.close(out_trade_no="CS2024000009")
    assert (status, json.loads(text)["code"]) == (400, "ORDERPAID")
    status, text = pay.close(out_trade_no="CS2024009999")
    assert (status, json.loads(text)["code"]) == (404, "ORDER_NOT_EXIST")


def test_refunds_never_exceed_the_order_and_a_repeated_refund_is_not_paid_twice(pay, twin_url):
    paid_order(pay, twin_url, "CS2024000010", total=100)
    status, first = refund(pay, "CS2024000010", "RF2024000001", 30)
    assert (status, first["status"], first["amount"]["refund"]) == (200, "PROCESSING", 30)
    assert first["refund_id"].startswith("503") and len(first["refund_id"]) == 29
    assert refund(pay, "CS2024000010", "RF2024000002", 50)[0] == 200
    status, refused = refund(pay, "CS2024000010", "RF2024000003", 30)  # only 20 left
    assert (status, refused["code"]) == (400, "INVALID_REQUEST")
    status, again = refund(pay, "CS2024000010", "RF2024000001", 30)
    assert status == 200 and again["refund_id"] == first["refund_id"]
    status, refused = refund(pay, "CS2024000010", "RF2024000001", 40)
    assert (status, refused["code"]) == (400, "INVALID_REQUEST")
    assert refund(pay, "CS2024000010", "RF2024000004", 20)[0] == 200  # the repeat took nothing: 20 were left
    status, refused = refund(pay, "CS2024000010", "RF2024000005", 1)
    assert (status, refused["message"]) == (400, "订单已全额退款")
    assert query(pay, "CS2024000010")[1]["trade_state"] == "REFUND"
    status, refused = refund(pay, "CS2024000010", "RF2024000006", 1, total=99)
    assert (status, refused["code"]) == (400, "INVALID_REQUEST")
    prepay(pay, "CS2024000011")
    status, refused = refund(pay, "CS2024000011", "RF2024000007", 1)  # never paid
    assert (status, refused["code"]) == (404, "RESOURCE_NOT_EXISTS")


def test_a_refund_stays_processing_until_completed_then_notifies(pay, twin_url, receiver):
    assert requests.post(f"{twin_url}/refunds/auto", json={"on": False}, timeout=5).json() == {"on": False}
    paid_order(pay, twin_url, "CS2024000012", total=500)
    refund(pay, "CS2024000012", "RF2024000010", 200, total=500, notify_url=receiver.url)
    time.sleep(0.4)
    status, text = pay.query_refund(out_refund_no="RF2024000010")
    assert status == 200 and json.loads(text)["status"] == "PROCESSING" and "success_time" not in json.loads(text)
    done = requests.post(f"{twin_url}/refunds/RF2024000010/complete", json={"status": "SUCCESS"}, timeout=10)
    assert done.json()["notified"] == 204
    status, text = pay.query_refund(out_refund_no="RF2024000010")
    assert json.loads(text)["status"] == "SUCCESS" and json.loads(text)["success_time"].endswith("+08:00")
    result = pay.callback(*receiver.received[-1])
    assert result["event_type"] == "REFUND.SUCCESS"
    assert result["resource"]["out_refund_no"] == "RF2024000010" and result["resource"]["refund_status"] == "SUCCESS"
    assert result["resource"]["amount"] == {"total": 500, "refund": 200, "payer_total": 500, "payer_refund": 200}
    again = requests.post(f"{twin_url}/refunds/RF2024000010/complete", json={"status": "SUCCESS"}, timeout=5)
    assert again.status_code == 409
    status, text = pay.query_refund(out_refund_no="RF2024009999")
    assert (status, json.loads(text)["code"]) == (404, "RESOURCE_NOT_EXISTS")


def test_a_refund_completes_by_itself_by_default(pay, twin_url, receiver):
    paid_order(pay, twin_url, "CS2024000013")
    refund(pay, "CS2024000013", "RF2024000011", 100, notify_url=receiver.url)
    deadline = time.monotonic() + 3
    while json.loads(pay.query_refund(out_refund_no="RF2024000011")[1])["status"] == "PROCESSING":
        assert time.monotonic() < deadline, "the refund never completed"
        time.sleep(0.05)
    assert json.loads(pay.query_refund(out_refund_no="RF2024000011")[1])["status"] == "SUCCESS"
    deadline = time.monotonic() + 3
    while not receiver.received and time.monotonic() < deadline:  # sent just after the status changed
        time.sleep(0.05)
    assert pay.callback(*receiver.received[0])["resource"]["refund_status"] == "SUCCESS"


def test_paying_notifies_our_server_with_a_notification_that_verifies(pay, twin_url, receiver, keys):
    prepay_id = prepay(pay, "CS2024000014", total=1200, notify_url=receiver.url)[1]["prepay_id"]
    answer = citizen_pays(twin_url, prepay_id, notify=True).json()
    assert (answer["out_trade_no"], answer["notified"], answer["answer"]) == ("CS2024000014", 204, "")
    headers, raw = receiver.received[0]
    assert headers["Wechatpay-Serial"] == keys["public_key_id"]
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert headers["Content-Type"] == "application/json"
    result = pay.callback(headers, raw)
    assert result["resource"]["transaction_id"] == answer["transaction_id"] and result["summary"] == "支付成功"

    again = requests.post(f"{twin_url}/notify", json={"out_trade_no": "CS2024000014", "copies": 2}, timeout=10)
    assert again.json() == [204, 204]
    ids = {json.loads(raw)["id"] for _, raw in receiver.received}
    nonces = {headers["Wechatpay-Nonce"] for headers, _ in receiver.received}
    assert len(ids) == len(nonces) == 3
    forged = requests.post(f"{twin_url}/notify", json={"out_trade_no": "CS2024000014", "tamper": "signature"},
                           timeout=10)  # fmt: skip
    assert forged.json() == [204] and pay.callback(*receiver.received[-1]) is None

    lost = prepay(pay, "CS2024000015")[1]["prepay_id"]  # notify_url: nobody listens
    assert citizen_pays(twin_url, lost, notify=True).json()["notified"] is None


def test_the_statement_lists_the_days_payment_and_refund_with_totals(pay, twin_url):
    requests.post(f"{twin_url}/refunds/auto", json={"on": False}, timeout=5)
    sandbox.set_clock(timedelta(days=-1))  # pay and refund yesterday
    paid = paid_order(pay, twin_url, "CS2024000016", total=1234)
    refund(pay, "CS2024000016", "RF2024000016", 234, total=1234)
    requests.post(f"{twin_url}/refunds/RF2024000016/complete", json={"status": "SUCCESS"}, timeout=10)
    prepay(pay, "CS2024000017")  # never paid: not in the statement
    sandbox.set_clock(timedelta(0))
    yesterday = (datetime.now(BEIJING) - timedelta(days=1)).date()

    status, text = pay.trade_bill(bill_date=yesterday.isoformat(), tar_type="GZIP")
    bill = json.loads(text)
    assert status == 200 and bill["hash_type"] == "SHA1"
    assert bill["download_url"].startswith(f"{twin_url}/v3/billdownload/file?token=")
    status, content = pay.download_bill(bill["download_url"])
    assert status == 200
    csv = gzip.decompress(content)
    assert hashlib.sha1(csv).hexdigest() == bill["hash_value"]  # noqa: S324 - WeChat's own hash

    lines = csv.decode().split("\r\n")
    header = lines[0].split(",")
    assert header[:3] == ["交易时间", "公众账号ID", "商户号"] and len(header) == 27
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:3]]
    assert all(value.startswith("`") for row in rows for value in row.values())
    payment, refunded = ({k: v[1:] for k, v in row.items()} for row in rows)
    assert (payment["交易状态"], payment["商户订单号"], payment["微信订单号"]) == ("SUCCESS", "CS2024000016",
                                                                           paid["transaction_id"])  # fmt: skip
    assert (payment["应结订单金额"], payment["订单金额"], payment["手续费"]) == ("12.34", "12.34", "0.07000")
    assert payment["交易时间"].startswith(yesterday.isoformat()) and payment["公众账号ID"] == APP_ID
    assert (refunded["交易状态"], refunded["商户退款单号"], refunded["退款金额"]) == ("REFUND", "RF2024000016", "2.34")
    assert (refunded["退款状态"], refunded["申请退款金额"], refunded["手续费"]) == ("SUCCESS", "2.34", "-0.01000")
    assert lines[3] == "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    assert lines[4] == "`2,`12.34,`2.34,`0.00,`0.06000,`12.34,`2.34" and lines[5:] == [""]

    for day, code in ((0, "STATEMENT_CREATING"), (-2, "NO_STATEMENT_EXIST"), (1, "INVALID_REQUEST")):
        bill_date = (datetime.now(BEIJING) + timedelta(days=day)).date().isoformat()
        status, text = pay.trade_bill(bill_date=bill_date, tar_type="GZIP")
        assert (status, json.loads(text)["code"]) == (400, code)
