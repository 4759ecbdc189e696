"""WeChat Pay API v3 through wechatpayv3 in public-key mode, with its failures mapped to integrations.errors.

wechatpayv3 signs our requests and verifies the platform's signature on 2xx answers (raising a bare
Exception when it does not verify); every call returns (status, body) and a non-2xx does not raise. We add:
the gateway pointed wherever WECHATPAY_BASE_URL says (the private `_core._gate_way`), explicit timeouts,
transport errors and WeChat's error bodies mapped to our error family, and the checks a notification
needs before the library's own: the serial must be our platform key (otherwise the library would go and
download certificates for whatever serial a stranger sends) and the timestamp fresh (it does not check).
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import core as wechatpay_core

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from integrations.http import pooled_session

PARTY = "wechatpay"


class _PooledRequests:
    """What wechatpayv3's core calls as `requests.get/post/...`, sent through this thread's pooled session
    (integrations/http.py): the library calls the module functions, which open a new TCP and TLS connection
    for every call; a prepay would pay a handshake to WeChat each time."""

    def __getattr__(self, method: str):
        if method not in ("get", "post", "put", "patch", "delete"):
            return getattr(requests, method)
        return lambda url, **kwargs: pooled_session().request(method.upper(), url, **kwargs)


wechatpay_core.requests = _PooledRequests()
NOTIFICATION_MAX_AGE_SECONDS = 300  # protocols.md: reject notifications older than 5 minutes
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


class WeChatPayRefused(UpstreamRejected):
    """WeChat Pay understood and refused: `wechat_code` is its code (ORDERPAID, ORDER_CLOSED, NOT_ENOUGH…)."""

    def __init__(self, status: int, wechat_code: str, message: str):
        super().__init__(PARTY, f"HTTP {status} {wechat_code}", status)
        self.wechat_code, self.wechat_message = wechat_code, message[:200]


@dataclass(frozen=True)
class Trade:
    """An order as WeChat Pay has it."""

    out_trade_no: str
    state: str  # NOTPAY, SUCCESS, CLOSED, REFUND, USERPAYING, PAYERROR, REVOKED
    amount_fen: int
    transaction_id: str | None
    paid_at: datetime | None
    appid: str
    mchid: str


@dataclass(frozen=True)
class RefundAnswer:
    out_refund_no: str
    refund_id: str
    status: str  # SUCCESS, PROCESSING, CLOSED, ABNORMAL
    refund_fen: int


class WeChatPayClient:
    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        private_key_pem: str,
        cert_serial_no: str,
        public_key_pem: str,
        public_key_id: str,
        api_v3_key: str,
        notify_url: str,
        base_url: str,
        timeout: tuple[float, float] = (3.05, 5.0),
    ):
        self.mchid, self.appid, self.public_key_id, self.timeout = mchid, appid, public_key_id, timeout
        self._pay = WeChatPay(
            WeChatPayType.MINIPROG,
            mchid,
            private_key_pem,
            cert_serial_no,
            appid,
            api_v3_key,
            notify_url=notify_url,
            public_key=public_key_pem,
            public_key_id=public_key_id,
            timeout=timeout,
        )
        self._pay._core._gate_way = base_url.rstrip("/")

    # -- orders ------------------------------------------------------------------------------------

    def prepay(self, out_trade_no: str, amount_fen: int, description: str, openid: str, expires_at: datetime) -> str:
        """The prepay_id of a mini-program order (WeChat answers the same one for the same order again)."""
        body = self._call(
            self._pay.pay,
            description=description,
            out_trade_no=out_trade_no,
            amount={"total": amount_fen, "currency": "CNY"},
            payer={"openid": openid},
            time_expire=expires_at.isoformat(timespec="seconds"),
        )
        prepay_id = body.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise UpstreamBadResponse(PARTY, "prepay answered without a prepay_id")
        return prepay_id

    def request_payment(self, prepay_id: str) -> dict:
        """What wx.requestPayment takes: paySign is SHA256withRSA by our key over appId, timeStamp,
        nonceStr and package, each followed by a newline."""
        stamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
        sign = self._pay.sign([self.appid, stamp, nonce, package])
        return {"appId": self.appid, "timeStamp": stamp, "nonceStr": nonce, "package": package,
                "signType": "RSA", "paySign": sign}  # fmt: skip

    def query(self, out_trade_no: str) -> Trade | None:
        """The order as WeChat Pay has it; None when it has never heard of it."""
        try:
            body = self._call(self._pay.query, out_trade_no=out_trade_no)
        except WeChatPayRefused as refusal:
            if refusal.wechat_code == "ORDER_NOT_EXIST":
                return None
            raise
        return trade_of(body)

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order; WeChatPayRefused ORDERPAID when the citizen paid meanwhile."""
        self._call(self._pay.close, out_trade_no=out_trade_no)

    def refund(self, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, reason: str,
               notify_url: str) -> RefundAnswer:  # fmt: skip
        body = self._call(
            self._pay.refund,
            out_refund_no=out_refund_no,
            amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"},
            out_trade_no=out_trade_no,
            reason=reason,
            notify_url=notify_url,
        )
        return refund_of(body)

    def query_refund(self, out_refund_no: str) -> RefundAnswer:
        return refund_of(self._call(self._pay.query_refund, out_refund_no=out_refund_no))

    def trade_bill(self, bill_date: str) -> bytes:
        """The day's trade statement (CSV, values prefixed with a backtick), downloaded and unzipped.
        Asked for gzipped: wechatpayv3 writes tar_type into the query even when it is None."""
        body = self._call(self._pay.trade_bill, bill_date=bill_date, tar_type="GZIP")
        url = body.get("download_url")
        if not isinstance(url, str):
            raise UpstreamBadResponse(PARTY, "trade bill answered without a download_url")
        status, content = self._raw(self._pay.download_bill, url)
        if status != 200:
            raise UpstreamUnavailable(PARTY, f"statement download answered HTTP {status}", status)
        try:
            return gzip.decompress(content if isinstance(content, bytes) else content.encode("latin-1"))
        except (OSError, EOFError):
            raise UpstreamBadResponse(PARTY, "statement is not gzip") from None

    # -- notifications -------------------------------------------------------------------------------

    def verify_notification(self, headers, body: bytes) -> dict | None:
        """The notification with its resource decrypted, or None when it is not WeChat Pay's, not fresh, or
        cannot be decrypted. Checked on the raw body as received, never a re-serialized one."""
        if headers.get("Wechatpay-Serial") != self.public_key_id:
            return None
        if headers.get("Wechatpay-Signature-Type") != SIGNATURE_TYPE:
            return None
        try:
            age = abs(int(time.time()) - int(headers.get("Wechatpay-Timestamp", "")[:20]))
        except ValueError:
            return None
        if age > NOTIFICATION_MAX_AGE_SECONDS:
            return None
        wanted = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                  "Wechatpay-Signature-Type")  # fmt: skip
        try:
            text = body.decode("utf-8")
            result = self._pay.callback({name: headers.get(name, "") for name in wanted}, text)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            return None
        except Exception:  # noqa: BLE001 - the library raises bare Exception for an unknown algorithm
            return None
        return result if isinstance(result, dict) and isinstance(result.get("resource"), dict) else None

    # -- the wire ------------------------------------------------------------------------------------

    def _raw(self, method, *args, **kwargs):
        where = self._pay._core._gate_way
        try:
            return method(*args, **kwargs)
        except requests.Timeout:
            raise UpstreamTimeout(PARTY, f"no answer from {where} within {self.timeout[1]}s") from None
        except requests.RequestException as error:
            raise UpstreamUnavailable(PARTY, f"cannot reach {where}: {type(error).__name__}") from None
        except Exception as error:
            if "verify the signature" in str(error):
                raise UpstreamBadResponse(PARTY, "answer signature does not verify with the platform key") from None
            raise

    def _call(self, method, **kwargs) -> dict:
        status, text = self._raw(method, **kwargs)
        if status == 204:
            return {}
        try:
            body = json.loads(text) if text else {}
        except (TypeError, ValueError):
            body = None
        if not isinstance(body, dict):
            if status >= 500:
                raise UpstreamUnavailable(PARTY, f"answered HTTP {status}", status)
            raise UpstreamBadResponse(PARTY, f"HTTP {status} with a body that is not a JSON object")
        if 200 <= status < 300:
            return body
        code, message = str(body.get("code") or ""), str(body.get("message") or "")
        if status >= 500 or status == 429 or code in ("SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR"):
            raise UpstreamUnavailable(PARTY, f"answered HTTP {status} {code}", status)
        raise WeChatPayRefused(status, code, message)


def trade_of(body: dict) -> Trade:
    try:
        paid_at = body.get("success_time")
        return Trade(
            out_trade_no=str(body["out_trade_no"]),
            state=str(body["trade_state"]),
            amount_fen=int(body["amount"]["total"]),
            transaction_id=body.get("transaction_id") or None,
            paid_at=datetime.fromisoformat(paid_at) if paid_at else None,
            appid=str(body.get("appid") or ""),
            mchid=str(body.get("mchid") or ""),
        )
    except (KeyError, TypeError, ValueError):
        raise UpstreamBadResponse(PARTY, "an order without its fields") from None


def refund_of(body: dict) -> RefundAnswer:
    try:
        return RefundAnswer(
            out_refund_no=str(body["out_refund_no"]),
            refund_id=str(body["refund_id"]),
            status=str(body["status"]),
            refund_fen=int(body["amount"]["refund"]),
        )
    except (KeyError, TypeError, ValueError):
        raise UpstreamBadResponse(PARTY, "a refund without its fields") from None
