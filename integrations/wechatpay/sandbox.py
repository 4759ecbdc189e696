"""Twin of WeChat Pay API v3 (api.mch.weixin.qq.com) for a direct merchant's mini-program, at /_sandbox/wechatpay.

/v3/… answers like WeChat Pay: the merchant's Authorization is checked (signature, serial, clock, nonce), answers
are signed by the platform key, notifications signed and sealed with the APIv3 key (twin_protocol.py), the
statement is WeChat's CSV (twin_bills.py); the books are twin_ledger.py. Unsigned controls stand in for the
citizen and for tests:
  POST /pay {"prepay_id", "notify": true}   the citizen pays; the notification goes out at once
  POST /notify {"out_trade_no", "copies": 1, "tamper": null}   the order's notification again (a retry: a new id
      and nonce each copy), or forged: signature (flipped), timestamp (10 minutes old, validly signed), amount
      (total + 1, validly signed and sealed), appid / mchid (others inside the plaintext), ciphertext (does not
      decrypt, validly signed), serial (another public key id)
  POST /refunds/auto {"on"}; POST /refunds/<out_refund_no>/complete {"status": SUCCESS|ABNORMAL|CLOSED}
  POST /clock {"offset_seconds"}   moves the business clock, e.g. -86400 to pay "yesterday" and fetch its statement
Tests in this process may call notification(), refund_notification(), order(), mark_paid() and set_clock().
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta

import requests
from flask import Blueprint, Response, jsonify, request

from integrations.wechatpay import twin_bills
from integrations.wechatpay import twin_ledger as books
from integrations.wechatpay import twin_protocol as wire
from integrations.wechatpay.twin_ledger import mark_paid, notification, order, refund_notification, set_clock

__all__ = ["blueprint", "configure", "mark_paid", "notification", "order", "refund_notification", "reset", "set_clock"]

blueprint = Blueprint("wechatpay_twin", __name__)

PREPAY_SECONDS = 7200  # a prepay_id lasts two hours; the same order asked again within them gets it again
REFUND_SECONDS = 0.2  # how long a refund stays PROCESSING while auto-completion is on
BILL_URL_SECONDS = 30  # a statement's download_url works this long
BILL_DAYS = 90  # statements can be asked for three months back
NOTIFY_TIMEOUT = 5
OUT_NO = re.compile(r"[0-9A-Za-z_\-|*@]{6,32}")
PAID = ("SUCCESS", "REFUND")


def configure(mchid, appid, merchant_public_pem, merchant_serial, platform_private_pem, public_key_id, api_v3_key):
    """The merchant (mchid, appid, its API key's public half and certificate serial), the platform's private key
    and public key id, and the merchant's APIv3 key (32 characters)."""
    setup = wire.Setup.load(
        mchid, appid, merchant_public_pem, merchant_serial, platform_private_pem, public_key_id, api_v3_key
    )
    with books.lock:
        books.config["setup"] = setup


def reset() -> None:
    books.forget()


# -- the wire ------------------------------------------------------------------------------------------------


def _answer(payload, status: int = 200) -> Response:
    body = wire.canonical(payload)
    headers = wire.signed_headers(books.config["setup"], body) | {"Request-ID": secrets.token_hex(16)}
    return Response(body, status, headers=headers, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _answer({"code": code, "message": message}, status)


def _required(path: str, source: str = "body") -> Response:
    return _error(400, "PARAM_ERROR", f"输入源“/{source}/{path}”映射到值字段“{path}”必填性规则校验失败，此字段为必填项")


def _json_body() -> dict | None:
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _missing(body: dict, *paths: str) -> str | None:
    for path in paths:
        value = body
        for part in path.split("/"):
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, ""):
            return path
    return None


@blueprint.before_request
def _authorize():
    if "/v3/" not in request.path:
        return None  # the controls are not WeChat's: unsigned
    if "setup" not in books.config:
        return jsonify(error="wechatpay twin not configured: call integrations.wechatpay.sandbox.configure()"), 503
    # The merchant signed the path below the gateway (/v3/…) and the query, both exactly as sent (werkzeug's
    # test client leaves the query out of REQUEST_URI: it is taken from QUERY_STRING).
    path = (request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path).split("?")[0]
    query = request.query_string.decode("latin-1")
    signed = path[path.find("/v3/") :] + (f"?{query}" if query else "")
    problem = wire.authorization_problem(
        books.config["setup"], request.headers.get("Authorization", ""), request.method, signed, request.get_data(),
        books.nonces,
    )  # fmt: skip
    return _error(*problem) if problem else None


def _deliver(url: str | None, headers: dict, body: bytes) -> tuple[int | None, str | None]:
    """POST a notification to our server: its HTTP status and answer, or (None, None) when unreachable."""
    if not url:
        return None, None
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=NOTIFY_TIMEOUT)
    except requests.RequestException:
        return None, None
    return answer.status_code, answer.text[:500]


# -- orders --------------------------------------------------------------------------------------------------


@blueprint.post("/v3/pay/transactions/jsapi")
def jsapi():
    setup, body = books.config["setup"], _json_body()
    if body is None:
        return _error(400, "PARAM_ERROR", "请求体不是合法的JSON对象")
    fields = ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount/total", "payer/openid")
    if missing := _missing(body, *fields):
        return _required(missing)
    total, currency = body["amount"]["total"], body["amount"].get("currency", "CNY")
    if type(total) is not int or total < 1:
        return _error(400, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”规则校验失败，值低于最小值 1")
    texts = [*(body[key] for key in fields[:5]), body["payer"]["openid"]]
    if not all(isinstance(text, str) for text in texts) or currency != "CNY":
        return _error(400, "PARAM_ERROR", "参数错误：字段类型不符合规则，或 currency 不是 CNY")
    if not OUT_NO.fullmatch(body["out_trade_no"]) or len(body["description"]) > 127:
        return _error(400, "PARAM_ERROR", "参数错误：out_trade_no 或 description 不符合规则")
    if body["appid"] != setup.appid or body["mchid"] != setup.mchid:
        return _error(400, "APPID_MCHID_NOT_MATCH", "AppID和mch_id不匹配")
    expire = None
    if body.get("time_expire"):
        try:
            expire = datetime.fromisoformat(str(body["time_expire"]))
        except ValueError:
            expire = None
        if expire is None or expire.tzinfo is None:  # RFC3339 always names its offset
            return _error(400, "PARAM_ERROR", "time_expire 不是 RFC3339 格式，例如 2018-06-08T10:34:56+08:00")
    no, now, terms = body["out_trade_no"], books.now(), (total, currency, body["description"], texts[-1])
    with books.lock:
        order = books.orders.get(no)
        if order is None:
            order = books.orders[no] = {
                "out_trade_no": no, "appid": body["appid"], "mchid": body["mchid"], "total": total,
                "currency": currency, "description": body["description"], "openid": texts[-1],
                "notify_url": body["notify_url"], "attach": body.get("attach"), "time_expire": expire,
                "created": now, "state": "NOTPAY", "transaction_id": None, "success_time": None, "refunds": [],
                "prepay_id": None, "prepay_until": now,
            }  # fmt: skip
        elif books.state_of(order, now) in PAID:
            return _error(400, "ORDERPAID", "该订单已支付")
        elif books.state_of(order, now) == "CLOSED":
            return _error(400, "ORDER_CLOSED", "该订单已关闭")
        elif (order["total"], order["currency"], order["description"], order["openid"]) != terms:
            return _error(400, "INVALID_REQUEST", "201 商户订单号重复")
        if order["prepay_until"] <= now:  # asked for the first time, or the last prepay_id lapsed: a new one
            books.prepays.pop(order["prepay_id"], None)
            order["prepay_id"], order["prepay_until"] = wire.prepay_id(now), now + timedelta(seconds=PREPAY_SECONDS)
            books.prepays[order["prepay_id"]] = no
        return _answer({"prepay_id": order["prepay_id"]})


def _query(find):
    mchid = request.args.get("mchid")
    if not mchid:
        return _required("mchid", "querystring")
    with books.lock:
        order = find() if mchid == books.config["setup"].mchid else None  # looked up by merchant and number
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        return _answer(books.transaction_view(order, books.state_of(order, books.now())))


@blueprint.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
def query_by_out_trade_no(out_trade_no):
    return _query(lambda: books.orders.get(out_trade_no))


@blueprint.get("/v3/pay/transactions/id/<transaction_id>")
def query_by_transaction_id(transaction_id):
    return _query(lambda: next((o for o in books.orders.values() if o["transaction_id"] == transaction_id), None))


@blueprint.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no):
    body = _json_body()
    if body is None or not body.get("mchid"):
        return _required("mchid")
    with books.lock:
        order = books.orders.get(out_trade_no) if body["mchid"] == books.config["setup"].mchid else None
        if order is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        if books.state_of(order, books.now()) in PAID:
            return _error(400, "ORDERPAID", "订单已支付")
        order["state"] = "CLOSED"  # closing a closed order again is fine
    # No body, yet signed (over the empty body) like every answer: wechatpayv3 checks 204s too.
    headers = wire.signed_headers(books.config["setup"], "") | {"Request-ID": secrets.token_hex(16)}
    return Response(status=204, headers=headers)


# -- refunds -------------------------------------------------------------------------------------------------


@blueprint.post("/v3/refund/domestic/refunds")
def create_refund():
    body = _json_body()
    if body is None:
        return _error(400, "PARAM_ERROR", "请求体不是合法的JSON对象")
    if missing := _missing(body, "out_refund_no", "amount/refund", "amount/total", "amount/currency"):
        return _required(missing)
    amount, no = body["amount"], str(body["out_refund_no"])
    refund_fen, total = amount["refund"], amount["total"]
    if type(refund_fen) is not int or type(total) is not int or refund_fen < 1 or amount["currency"] != "CNY":
        return _error(400, "PARAM_ERROR", "输入源“/body/amount”映射到值字段“金额信息”规则校验失败")
    if not body.get("out_trade_no") and not body.get("transaction_id"):
        return _error(400, "PARAM_ERROR", "transaction_id和out_trade_no必须二选一进行传参")
    mismatch = _error(400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试")
    now, by_id = books.now(), body.get("transaction_id")
    with books.lock:
        order = books.orders.get(body.get("out_trade_no") or "") or next(
            (o for o in books.orders.values() if by_id and o["transaction_id"] == by_id), None
        )
        if order is None or books.state_of(order, now) not in PAID:
            return _error(404, "RESOURCE_NOT_EXISTS", "订单不存在，请检查订单号是否正确且是否已支付")
        if (earlier := books.refunds.get(no)) is not None:  # the same refund again: answered, never paid twice
            same = earlier["out_trade_no"] == order["out_trade_no"] and earlier["refund"] == refund_fen
            return _answer(books.refund_view(earlier)) if same and total == order["total"] else mismatch
        if total != order["total"]:
            return mismatch
        left = order["total"] - books.refunded(order)
        if left <= 0:
            return _error(400, "INVALID_REQUEST", "订单已全额退款")
        if refund_fen > left:
            return _error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = books.refunds[no] = {
            "refund_id": wire.refund_id(now), "out_refund_no": no, "out_trade_no": order["out_trade_no"],
            "refund": refund_fen, "reason": body.get("reason"), "notify_url": body.get("notify_url"),
            "status": "PROCESSING", "create_time": now, "success_time": None,
        }  # fmt: skip
        order["refunds"].append(no)
        view = books.refund_view(refund)
        if books.switches["auto_refunds"]:
            timer = threading.Timer(REFUND_SECONDS, _complete_refund, (no, "SUCCESS"))
            timer.daemon = True
            books.timers[:] = [*(t for t in books.timers if t.is_alive()), timer]
            timer.start()
    return _answer(view)


@blueprint.get("/v3/refund/domestic/refunds/<out_refund_no>")
def query_refund(out_refund_no):
    with books.lock:
        refund = books.refunds.get(out_refund_no)
        if refund is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return _answer(books.refund_view(refund))


def _complete_refund(out_refund_no: str, status: str) -> dict | None:
    """Settle a PROCESSING refund, then notify its notify_url; None when unknown or not PROCESSING."""
    if not books.settle_refund(out_refund_no, status):
        return None
    try:
        headers, body = refund_notification(out_refund_no)
        with books.lock:
            url = books.refunds[out_refund_no]["notify_url"]
    except (LookupError, ValueError):  # reset() meanwhile
        return None
    notified, answer = _deliver(url, headers, body)
    return {"out_refund_no": out_refund_no, "status": status, "notified": notified, "answer": answer}


# -- statements ----------------------------------------------------------------------------------------------


@blueprint.get("/v3/bill/tradebill")
def trade_bill():
    args = request.args
    if not args.get("bill_date"):
        return _required("bill_date", "querystring")
    try:
        day = datetime.strptime(args["bill_date"], "%Y-%m-%d").date()
    except ValueError:
        return _error(400, "INVALID_REQUEST", "参数错误，请检查bill_date")
    bill_type, tar_type = args.get("bill_type") or "ALL", args.get("tar_type") or ""
    if bill_type not in twin_bills.COLUMNS or tar_type not in ("", "GZIP"):
        return _error(400, "PARAM_ERROR", "参数错误，请检查bill_type和tar_type")
    today = books.now().date()
    if day == today:
        return _error(400, "STATEMENT_CREATING", "账单生成中")
    if day > today or day < today - timedelta(days=BILL_DAYS):
        return _error(400, "INVALID_REQUEST", "参数错误，请检查bill_date")
    content = twin_bills.statement_for(day, bill_type)
    if content is None:
        return _error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
    digest = hashlib.sha1(content).hexdigest()  # noqa: S324 - WeChat's hash_type is SHA1, of the unzipped file
    token, file = secrets.token_urlsafe(48), gzip.compress(content, mtime=0) if tar_type else content
    with books.lock:
        for old in [t for t, (_, until) in books.bills.items() if until < time.monotonic()]:
            del books.bills[old]
        books.bills[token] = (file, time.monotonic() + BILL_URL_SECONDS)
    mount = request.path[: request.path.find("/v3/")]
    url = f"{request.url_root.rstrip('/')}{mount}/v3/billdownload/file?token={token}"
    return _answer({"hash_type": "SHA1", "hash_value": digest, "download_url": url})


@blueprint.get("/v3/billdownload/file")
def bill_file():
    with books.lock:
        file, until = books.bills.get(request.args.get("token", ""), (None, 0.0))
    if file is None or until < time.monotonic():
        return _error(400, "INVALID_REQUEST", "下载链接已失效，请重新申请账单")
    return Response(file, 200, content_type="application/octet-stream")  # the file itself: not signed


# -- controls: the citizen and the tests ---------------------------------------------------------------------


@blueprint.post("/pay")
def pay():
    body = request.get_json(silent=True) or {}
    with books.lock:
        out_trade_no = books.prepays.get(str(body.get("prepay_id", "")))
        record = books.orders.get(out_trade_no or "")
        if record is None:
            return jsonify(error="no such prepay_id"), 404
        if record["prepay_until"] <= books.now():
            return jsonify(error="this prepay_id has expired"), 409
    try:
        paid = mark_paid(out_trade_no)
    except (LookupError, ValueError) as error:
        return jsonify(error=str(error)), 409
    notified, answer = None, None
    if body.get("notify", True):
        notified, answer = _deliver(record["notify_url"], *notification(out_trade_no))
    return jsonify(paid | {"notified": notified, "answer": answer})


@blueprint.post("/notify")
def notify():
    body = request.get_json(silent=True) or {}
    copies, tamper, out_trade_no = body.get("copies", 1), body.get("tamper"), str(body.get("out_trade_no", ""))
    if type(copies) is not int or not 1 <= copies <= 20 or tamper not in wire.TAMPERS:
        return jsonify(error=f"copies is 1..20, tamper one of {wire.TAMPERS}"), 400
    statuses = []
    for _ in range(copies):  # each copy built afresh: its own id, nonce and timestamp
        try:
            headers, raw = notification(out_trade_no, tamper=tamper)
            with books.lock:
                url = books.orders[out_trade_no]["notify_url"]
        except LookupError:
            return jsonify(error="no such order"), 404
        except ValueError as error:
            return jsonify(error=str(error)), 409
        statuses.append(_deliver(url, headers, raw)[0])
    return jsonify(statuses)


@blueprint.post("/refunds/auto")
def refunds_auto():
    on = (request.get_json(silent=True) or {}).get("on")
    if not isinstance(on, bool):
        return jsonify(error='body is {"on": true|false}'), 400
    with books.lock:
        books.switches["auto_refunds"] = on
    return jsonify(on=on)


@blueprint.post("/refunds/<out_refund_no>/complete")
def complete_refund(out_refund_no):
    status = (request.get_json(silent=True) or {}).get("status", "SUCCESS")
    if status not in books.REFUND_EVENTS:
        return jsonify(error=f"status is one of {sorted(books.REFUND_EVENTS)}"), 400
    with books.lock:
        known = out_refund_no in books.refunds
    done = _complete_refund(out_refund_no, status)
    if done is None:
        return (jsonify(error="refund is not PROCESSING"), 409) if known else (jsonify(error="no such refund"), 404)
    return jsonify(done)


@blueprint.post("/clock")
def clock():
    offset = (request.get_json(silent=True) or {}).get("offset_seconds")
    if type(offset) not in (int, float):
        return jsonify(error='body is {"offset_seconds": number}'), 400
    set_clock(timedelta(seconds=offset))
    return jsonify(offset_seconds=offset, now=wire.rfc3339(books.now()))
