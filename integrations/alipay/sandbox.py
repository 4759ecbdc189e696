"""Twin of the Alipay open-platform gateway (openapi.alipay.com/gateway.do): mini-program login and payment.

POST /code {"user": "bob"} stands in for my.getAuthCode on bob's phone. /gateway.do checks the RSA2
signature of our request with the app's public key and signs its replies with its own private key, the
way Alipay does. It signs and verifies with `cryptography`, not with the SDK, so the two check each other.
User "busy" gets Alipay's system error. Mounted at /_sandbox/alipay.

Payment (the bookkeeping is in twin_trades.py): the gateway answers alipay.trade.create / query / close /
refund, alipay.trade.fastpay.refund.query and alipay.data.dataservice.bill.downloadurl.query, whose
bill_download_url (GET /bill/download?token=..., unsigned, valid 30 s) serves the bill as Alipay does: a ZIP
of two GBK CSVs, "<pid>0156_<yyyymmdd>_业务明细.csv" and "..._业务明细(汇总).csv", the member names GBK too
without the UTF-8 flag (read them with zipfile's metadata_encoding="gbk"); the cells Alipay writes with a
trailing tab (ids, 业务类型, the account) keep it. The detail follows real exports; the summary's layout is
partly guessed.
Control endpoints, unsigned:
- POST /pay {"trade_no", "notify": true}: the citizen pays in the Alipay app; the trade notification is
  POSTed to the trade's notify_url at once. 200 {"out_trade_no", "trade_no", "notified": our HTTP status or
  null, "answer": our body (500 characters at most) or null, "notify_id"}, plus "error" when not delivered;
  404 unknown trade, 409 not waiting for payment.
- POST /notify {"out_trade_no", "copies": 1, "tamper": null, "retry": false}: the current notification
  again, `copies` times, tampered as asked (TAMPERS); "retry": true keeps one notify_id for all copies, as
  Alipay's own retries do. 200 {"out_trade_no", "trade_no", "deliveries": [{"notify_id", "notified",
  "answer"}, ...]}; 404 unknown trade, 409 never paid or no notify_url.
Alipay retries a notification until it reads the text "success"; the twin only reports what we answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from datetime import datetime, timedelta

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Blueprint, Response, jsonify, request, url_for

from integrations.alipay import twin_trades
from integrations.alipay.client import BEIJING
from integrations.alipay.twin_bills import DETAIL_HEADER, _bill_zip  # noqa: F401 - DETAIL_HEADER: for tests
from integrations.alipay.twin_trades import SUCCESS, TAMPERS
from integrations.sandbox import keyring

blueprint = Blueprint("alipay_twin", __name__)
_lock = threading.Lock()
_codes: dict[str, str] = {}  # auth code -> user; an exchanged code is gone: codes are single-use
_keys: dict[str, object] = {}  # set by configure(); reset() keeps them, they are setup, not state
_book = twin_trades.TradeBook()
_bills: dict[str, tuple[float, str, bytes]] = {}  # download token -> (monotonic deadline, file name, ZIP)
_clock = {"offset": timedelta(0)}  # shift_clock(); reset() sets it back

BILL_METHOD = "alipay.data.dataservice.bill.downloadurl.query"
BILL_LINK_SECONDS = 30  # "获取连接后30秒后未下载，链接地址失效"
NOTIFY_TIMEOUT = 5

REQUIRED = ("app_id", "method", "sign_type", "sign", "timestamp", "version")


def configure(
    app_public_key_pem: str, alipay_private_key_pem: str, *, seller_id: str = keyring.ALIPAY_SELLER_ID
) -> None:
    """The app's public key (to check our requests), the twin's private key (to sign its replies and
    notifications) and the merchant's PID (seller_id in notifications, the bill's account)."""
    app_public = serialization.load_pem_public_key(app_public_key_pem.encode())
    alipay_private = serialization.load_pem_private_key(alipay_private_key_pem.encode(), password=None)
    with _lock:
        _keys.update(app_public=app_public, alipay_private=alipay_private, seller_id=seller_id)


def reset() -> None:
    with _lock:
        _codes.clear()
        _book.clear()
        _bills.clear()
        _clock["offset"] = timedelta(0)


def shift_clock(offset: timedelta) -> None:
    """Run the twin's clock `offset` away from real time (set, not added), e.g. -1 day to pay "yesterday"
    and then download that day's bill; also how a trade's timeout passes. reset() sets it back."""
    with _lock:
        _clock["offset"] = offset


def _now() -> datetime:
    with _lock:
        offset = _clock["offset"]
    return datetime.now(BEIJING).replace(microsecond=0) + offset


def _user_id(user: str) -> str:
    # Stable per user, shaped like Alipay's 16-digit "2088..." ids.
    return "2088" + str(int(hashlib.sha256(user.encode()).hexdigest(), 16) % 10**12).zfill(12)


def _open_id(app_id: str, user: str) -> str:
    # Alipay's open_id is per user and per app.
    return "0" + hashlib.sha256(f"{app_id}/{user}".encode()).hexdigest()[:46]


def _reply(key: str, body: dict) -> Response:
    # Alipay signs the exact text of the body object; the SDK cuts that text out of the reply to verify it.
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    with _lock:
        private = _keys["alipay_private"]
    sign = base64.b64encode(private.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    text = f'{{"{key}":{content},"sign":"{sign}"}}'
    # Refusals too come with HTTP 200, as from the real gateway.
    return Response(text, 200, content_type="application/json;charset=utf-8")


def _error(code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
    return _reply("error_response", {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})


def _signature_ok(params: dict, content: str) -> bool:
    with _lock:
        public = _keys["app_public"]
    try:
        public.verify(base64.b64decode(params["sign"]), content.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@blueprint.post("/code")
def auth_code():
    user = str((request.get_json(silent=True) or {}).get("user", "")).strip()
    if not user:
        return jsonify(error="body must be JSON with a user"), 400
    code = secrets.token_hex(16)
    with _lock:
        _codes[code] = user
    return jsonify(auth_code=code)


@blueprint.route("/gateway.do", methods=["GET", "POST"])
def gateway():
    with _lock:
        configured = bool(_keys)
    if not configured:
        return jsonify(error="alipay twin not configured: call integrations.alipay.sandbox.configure()"), 503
    params = request.values.to_dict()  # the SDK sends a query string; other clients POST a form
    for name in REQUIRED:
        if not params.get(name):
            missing = "signature" if name == "sign" else name.replace("_", "-")
            return _error("40001", "Missing Required Arguments", f"isv.missing-{missing}", f"缺少{name}参数")
    if params["sign_type"] != "RSA2":
        return _error("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
    try:
        datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return _error("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
    # Alipay signs every parameter but `sign` that has a value, sorted, as k=v joined by &, values unencoded.
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    if not _signature_ok(params, content):
        hint = f"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{content}"
        return _error("40002", "Invalid Arguments", "isv.invalid-signature", hint)
    method = params["method"]
    if method == "alipay.system.oauth.token":
        return _oauth_token(params)
    if method == BILL_METHOD:
        return _bill_download_url(params)
    if method in twin_trades.TradeBook.METHODS:
        return _trade_call(params)
    return _error("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")


def _oauth_token(params: dict) -> Response:
    if params.get("grant_type") != "authorization_code":
        return _error("40002", "Invalid Arguments", "isv.grant-type-invalid", "不支持的grantType")
    code = params.get("code", "")
    with _lock:
        user = _codes.get(code)
        if user is not None and user != "busy":
            del _codes[code]
    if user == "busy":
        return _error("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")
    if user is None:
        return _error("40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效")
    return _reply(
        "alipay_system_oauth_token_response",
        {
            "user_id": _user_id(user),
            "open_id": _open_id(params["app_id"], user),
            "access_token": "authusrB" + secrets.token_hex(16),
            "refresh_token": "authusrB" + secrets.token_hex(16),
            "expires_in": 1296000,
            "re_expires_in": 2592000,
            "auth_start": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


def _biz_content(params: dict) -> dict | None:
    try:
        biz = json.loads(params.get("biz_content") or "")
    except ValueError:
        return None
    return biz if isinstance(biz, dict) else None


def _response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def _trade_call(params: dict) -> Response:
    key, biz = _response_key(params["method"]), _biz_content(params)
    if biz is None:
        return _reply(key, twin_trades.failure("ACQ.INVALID_PARAMETER", "参数无效: biz_content"))
    # notify_url is a common parameter, signed with the rest; one inside biz_content is not Alipay's.
    notify_url = params.get("notify_url") or None
    now = _now()
    with _lock:
        body = _book.call(params["method"], biz, app_id=params["app_id"], notify_url=notify_url, now=now)
    return _reply(key, body)


def _bill_download_url(params: dict) -> Response:
    key, now = _response_key(BILL_METHOD), _now()
    period, refused = twin_trades.bill_period(_biz_content(params) or {}, now)
    if refused:
        return _reply(key, refused)
    with _lock:
        entries, seller_id = _book.bill_entries(period), str(_keys["seller_id"])
    name, data = _bill_zip(seller_id, period, entries, now)
    token = secrets.token_urlsafe(24)
    with _lock:
        for old in [t for t, (deadline, _, _) in _bills.items() if deadline < time.monotonic()]:
            del _bills[old]
        _bills[token] = (time.monotonic() + BILL_LINK_SECONDS, name, data)
    url = url_for(
        ".bill_download",
        bizType="trade",
        bizDates=period.replace("-", ""),
        downloadFileName=name,
        token=token,
        _external=True,
    )
    return _reply(key, {**SUCCESS, "bill_download_url": url})


@blueprint.get("/bill/download")
def bill_download():
    with _lock:
        deadline, name, data = _bills.get(request.args.get("token", ""), (0.0, "", b""))
    if deadline < time.monotonic():
        return Response("链接已失效", 404, content_type="text/plain;charset=utf-8")
    return Response(
        data,
        200,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _signed(fields: dict[str, str], *, broken: bool = False) -> dict[str, str]:
    # Alipay signs every field but sign and sign_type, sorted, as k=v joined by &, values not encoded.
    content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("sign", "sign_type"))
    if broken:  # a well-formed signature over something else
        content += "&tampered=true"
    with _lock:
        private = _keys["alipay_private"]
    sign = base64.b64encode(private.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    return {**fields, "sign": sign}


def _notification(out_trade_no: str, tamper: str | None) -> tuple[dict[str, str], str | None]:
    """The trade's signed notification and its notify_url. KeyError: unknown trade."""
    if tamper is not None and tamper not in TAMPERS:
        raise ValueError(f"tamper must be one of {TAMPERS} or None")
    now = _now()
    with _lock:
        trade = _book.get(out_trade_no, now)
        if trade is None:
            raise KeyError(out_trade_no)
        fields = _book.notification(trade, seller_id=str(_keys["seller_id"]), now=now, tamper=tamper)
        notify_url = trade.notify_url
    return _signed(fields, broken=tamper == "signature"), notify_url


def _deliver(notify_url: str, fields: dict[str, str]) -> dict:
    """POST the form to our notify_url as Alipay does (no redirects followed); never under the lock."""
    try:
        answer = requests.post(
            notify_url,
            data=fields,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            timeout=NOTIFY_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return {"notify_id": fields["notify_id"], "notified": None, "answer": None, "error": type(error).__name__}
    return {"notify_id": fields["notify_id"], "notified": answer.status_code, "answer": answer.text[:500]}


@blueprint.post("/pay")
def pay():
    body = request.get_json(silent=True) or {}
    trade_no = str(body.get("trade_no") or body.get("out_trade_no") or "")
    now = _now()
    with _lock:
        try:
            trade = _book.pay(trade_no, now)
        except KeyError:
            return jsonify(error="no such trade"), 404
        except ValueError as status:
            return jsonify(error=f"trade is {status}, not WAIT_BUYER_PAY"), 409
        out_trade_no, trade_no, notify_url = trade.out_trade_no, trade.trade_no, trade.notify_url
    answer = {"out_trade_no": out_trade_no, "trade_no": trade_no, "notified": None, "answer": None}
    if body.get("notify", True) is not False:
        if notify_url:
            answer.update(_deliver(notify_url, _notification(out_trade_no, None)[0]))
        else:
            answer["error"] = "the trade has no notify_url"
    return jsonify(answer)


@blueprint.post("/notify")
def notify():
    body = request.get_json(silent=True) or {}
    out_trade_no, tamper, copies = str(body.get("out_trade_no") or ""), body.get("tamper"), body.get("copies", 1)
    if tamper is not None and tamper not in TAMPERS:
        return jsonify(error=f"tamper must be one of {list(TAMPERS)} or null"), 400
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= 20:
        return jsonify(error="copies must be a whole number from 1 to 20"), 400
    found = trade(out_trade_no)
    if found is None:
        return jsonify(error="no such trade"), 404
    if not found["gmt_payment"] or not found["notify_url"]:
        return jsonify(error="Alipay notifies paid trades with a notify_url only"), 409
    deliveries, fields = [], None
    for _ in range(copies):
        if fields is None or not body.get("retry"):
            fields = _notification(out_trade_no, tamper)[0]
        deliveries.append(_deliver(found["notify_url"], fields))
    return jsonify(out_trade_no=out_trade_no, trade_no=found["trade_no"], deliveries=deliveries)


# For tests in the same process.


def trade_notification(out_trade_no: str, *, tamper: str | None = None) -> dict[str, str]:
    """The form fields Alipay would POST for the trade now, signed (fresh notify_id). KeyError: unknown."""
    return _notification(out_trade_no, tamper)[0]


def trade(out_trade_no: str) -> dict | None:
    """A copy of the trade as the twin keeps it (twin_trades.Trade.public), or None."""
    now = _now()
    with _lock:
        found = _book.get(out_trade_no, now)
        return found.public() if found else None


def mark_paid(out_trade_no: str) -> dict:
    """Pay the trade without notifying (POST /pay notifies). KeyError: unknown; ValueError: not waiting."""
    now = _now()
    with _lock:
        return _book.pay(out_trade_no, now).public()
