"""Trades for the Alipay gateway's twin (integrations/alipay/sandbox.py): the bookkeeping behind
alipay.trade.create / query / close / refund, alipay.trade.fastpay.refund.query, the fields of the trade
notification and the daily trade bill (alipay.data.dataservice.bill.downloadurl.query).

Pure bookkeeping: no lock, no keys, no HTTP. sandbox.py keeps one TradeBook behind its lock, signs what
leaves and sends it. Codes and formats as Alipay answers them:
- business failures are code 40004 "Business Failed" with an ACQ.* sub_code, inside the method's own reply;
- amounts are yuan strings with two decimals; times are Beijing "YYYY-MM-DD HH:MM:SS";
- a day's bill exists from the next day on (bill_period); its payments and refunds come from bill_entries,
  and sandbox.py writes the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from integrations.alipay.client import BEIJING

SUCCESS = {"code": "10000", "msg": "Success"}
MAX_TOTAL = Decimal("100000000")
DEFAULT_TIMEOUT = timedelta(days=15)  # Alipay's default for an unpaid trade
TAMPERS = ("signature", "amount", "app_id", "seller_id", "status")
PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")

_AMOUNT = re.compile(r"(0|[1-9]\d{0,8})(\.\d{1,2})?")
_TIMEOUT = re.compile(r"([1-9]\d{0,4})([mhdc])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


def failure(sub_code: str, sub_msg: str) -> dict:
    return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}


NOT_EXIST = ("ACQ.TRADE_NOT_EXIST", "交易不存在")


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


def yuan(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _text(value) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def parse_amount(value) -> Decimal | None:
    """A yuan amount with at most two decimals, as a string or a JSON number; None when malformed."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _logon_id(buyer: str) -> str:
    # Alipay shows the buyer's login masked, like "159****5620"; stable per buyer.
    n = int(hashlib.sha256(buyer.encode()).hexdigest(), 16)
    return f"13{n % 10}****{n // 10 % 10000:04d}"


@dataclass
class Refund:
    out_request_no: str
    amount: Decimal
    reason: str
    at: datetime

    def public(self) -> dict:
        names = ("out_request_no", "refund_amount", "refund_reason", "gmt_refund_pay")
        return dict(zip(names, (self.out_request_no, yuan(self.amount), self.reason, stamp(self.at)), strict=True))


@dataclass
class Trade:
    out_trade_no: str
    trade_no: str
    app_id: str
    op_app_id: str | None
    total: Decimal
    subject: str
    body: str | None
    buyer_id: str | None
    buyer_open_id: str | None
    notify_url: str | None
    created: datetime
    expires: datetime
    status: str = "WAIT_BUYER_PAY"
    paid: datetime | None = None
    closed: datetime | None = None
    refunds: dict[str, Refund] = field(default_factory=dict)  # by out_request_no, in the order made

    @property
    def refunded(self) -> Decimal:
        return sum((r.amount for r in self.refunds.values()), Decimal("0.00"))

    def ids(self) -> dict:
        return {"trade_no": self.trade_no, "out_trade_no": self.out_trade_no}

    @property
    def logon_id(self) -> str:
        return _logon_id(self.buyer_id or self.buyer_open_id or "")

    def settle(self, now: datetime) -> None:
        # An unpaid trade past its time closes by itself; Alipay reads it TRADE_CLOSED from then on.
        if self.status == "WAIT_BUYER_PAY" and now >= self.expires:
            self.status, self.closed = "TRADE_CLOSED", self.expires

    def buyer_fields(self, *, query: bool) -> dict:
        # The query names the 2088 id buyer_user_id; the notification and refund name it buyer_id.
        fields = {}
        if self.buyer_id:
            fields["buyer_user_id" if query else "buyer_id"] = self.buyer_id
        if self.buyer_open_id:
            fields["buyer_open_id"] = self.buyer_open_id
        return fields

    def amounts(self) -> dict:
        paid = dict.fromkeys(("receipt_amount", "buyer_pay_amount", "invoice_amount"), yuan(self.total))
        if not self.paid:
            paid = dict.fromkeys(paid, "0.00")
        return {"total_amount": yuan(self.total), **paid, "point_amount": "0.00"}

    def public(self) -> dict:
        return {
            "out_trade_no": self.out_trade_no,
            "trade_no": self.trade_no,
            "app_id": self.app_id,
            "op_app_id": self.op_app_id,
            "total_amount": yuan(self.total),
            "subject": self.subject,
            "body": self.body,
            "buyer_id": self.buyer_id,
            "buyer_open_id": self.buyer_open_id,
            "notify_url": self.notify_url,
            "trade_status": self.status,
            "gmt_create": stamp(self.created),
            "gmt_payment": stamp(self.paid),
            "gmt_close": stamp(self.closed),
            "time_expire": stamp(self.expires),
            "refund_fee": yuan(self.refunded),
            "refunds": [r.public() for r in self.refunds.values()],
        }


def _expiry(biz: dict, now: datetime) -> tuple[datetime | None, str]:
    """When an unpaid trade closes: time_expire wins over timeout_express, either within 1m..15d."""
    if _text(biz.get("time_expire")):
        try:
            until = datetime.strptime(_text(biz["time_expire"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except ValueError:
            return None, "time_expire格式不正确"
    elif _text(biz.get("timeout_express")):
        match = _TIMEOUT.fullmatch(_text(biz["timeout_express"]))
        if not match or (match[2] == "c" and match[1] != "1"):
            return None, "timeout_express格式不正确"
        if match[2] == "c":  # "1c": until the end of today, however close that is
            return now.replace(hour=23, minute=59, second=59, microsecond=0), ""
        until = now + int(match[1]) * _UNITS[match[2]]
    else:
        return now + DEFAULT_TIMEOUT, ""
    if not timedelta(minutes=1) <= until - now <= timedelta(days=15):
        return None, "订单超时时间不在允许范围内"
    return until, ""


class TradeBook:
    """Every trade the twin knows, by out_trade_no (unique per merchant, not per app) and by trade_no."""

    def __init__(self):
        self.trades: dict[str, Trade] = {}
        self.by_trade_no: dict[str, Trade] = {}

    def clear(self) -> None:
        self.trades.clear()
        self.by_trade_no.clear()

    METHODS = (
        "alipay.trade.create",
        "alipay.trade.query",
        "alipay.trade.close",
        "alipay.trade.refund",
        "alipay.trade.fastpay.refund.query",
    )

    def call(self, method: str, biz: dict, *, app_id: str, notify_url: str | None, now: datetime) -> dict:
        if method == "alipay.trade.create":
            return self._create(biz, app_id, notify_url, now)
        trade, refused = self._find(biz, now)
        if refused:
            return refused
        handler = {
            "alipay.trade.query": self._query,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
        }[method]
        return handler(trade, biz, now)

    def get(self, out_trade_no: str, now: datetime) -> Trade | None:
        trade = self.trades.get(out_trade_no)
        if trade:
            trade.settle(now)
        return trade

    def _find(self, biz: dict, now: datetime) -> tuple[Trade | None, dict | None]:
        trade_no, out_trade_no = _text(biz.get("trade_no")), _text(biz.get("out_trade_no"))
        if not trade_no and not out_trade_no:
            return None, failure("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no和trade_no不能同时为空")
        # Both given: Alipay goes by trade_no, and the two must name the same trade.
        trade = self.by_trade_no.get(trade_no) if trade_no else self.trades.get(out_trade_no)
        if trade is None or (trade_no and out_trade_no and trade.out_trade_no != out_trade_no):
            return None, failure(*NOT_EXIST)
        trade.settle(now)
        return trade, None

    def _create(self, biz: dict, app_id: str, notify_url: str | None, now: datetime) -> dict:
        out_trade_no, subject = _text(biz.get("out_trade_no")), _text(biz.get("subject"))
        buyer_id, buyer_open_id = _text(biz.get("buyer_id")) or None, _text(biz.get("buyer_open_id")) or None
        if not out_trade_no or len(out_trade_no) > 64:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: out_trade_no")
        if not subject or len(subject) > 256:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: subject")
        total = parse_amount(biz.get("total_amount"))
        if total is None or total <= 0:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: total_amount")
        if total > MAX_TOTAL:
            return failure("ACQ.TOTAL_FEE_EXCEED", "订单总金额超过限额")
        if _text(biz.get("product_code")) != "JSAPI_PAY":
            # The sandbox merchant signed only mini-program payment; the default product is face-to-face.
            return failure("ACQ.ACCESS_FORBIDDEN", "无权限使用接口")
        if not buyer_id and not buyer_open_id:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: buyer_id和buyer_open_id不能同时为空")
        expires, problem = _expiry(biz, now)
        if expires is None:
            return failure("ACQ.INVALID_PARAMETER", f"参数无效: {problem}")

        existing = self.get(out_trade_no, now)
        if existing:
            if existing.status in PAID:
                return failure("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if existing.status == "TRADE_CLOSED":
                return failure("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if (existing.buyer_id, existing.buyer_open_id) != (buyer_id, buyer_open_id):
                return failure("ACQ.TRADE_BUYER_NOT_MATCH", "交易买家不匹配")
            if existing.total != total or existing.subject != subject:
                return failure("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
            # The same order again: the same trade, its first notify_url kept.
            return {**SUCCESS, "out_trade_no": out_trade_no, "trade_no": existing.trade_no}

        trade_no = self._new_trade_no(now)
        trade = Trade(
            out_trade_no=out_trade_no,
            trade_no=trade_no,
            app_id=app_id,
            op_app_id=_text(biz.get("op_app_id")) or None,
            total=total,
            subject=subject,
            body=_text(biz.get("body")) or None,
            buyer_id=buyer_id,
            buyer_open_id=buyer_open_id,
            notify_url=notify_url,
            created=now,
            expires=expires,
        )
        self.trades[out_trade_no] = self.by_trade_no[trade_no] = trade
        return {**SUCCESS, "out_trade_no": out_trade_no, "trade_no": trade_no}

    def _new_trade_no(self, now: datetime) -> str:
        # Shaped like Alipay's: the date, "22001", then 15 digits (28 in all).
        while True:
            trade_no = now.strftime("%Y%m%d") + "22001" + str(secrets.randbelow(10**15)).zfill(15)
            if trade_no not in self.by_trade_no:
                return trade_no

    def _query(self, trade: Trade, biz: dict, now: datetime) -> dict:
        body = {**SUCCESS, **trade.ids(), "buyer_logon_id": trade.logon_id, "trade_status": trade.status}
        body.update(trade.amounts(), **trade.buyer_fields(query=True))
        if trade.paid:
            body["send_pay_date"] = stamp(trade.paid)
            body["fund_bill_list"] = [{"amount": yuan(trade.total), "fund_channel": "ALIPAYACCOUNT"}]
        return body

    def _close(self, trade: Trade, biz: dict, now: datetime) -> dict:
        # Only a trade waiting for payment can be closed; a closed one too answers TRADE_STATUS_ERROR.
        if trade.status != "WAIT_BUYER_PAY":
            return failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status, trade.closed = "TRADE_CLOSED", now
        return {**SUCCESS, **trade.ids()}

    def _refund(self, trade: Trade, biz: dict, now: datetime) -> dict:
        amount = parse_amount(biz.get("refund_amount"))
        if amount is None:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: refund_amount")
        if amount <= 0:
            return failure("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额无效")
        # Without out_request_no Alipay takes the out_trade_no: one refund per trade then.
        out_request_no = _text(biz.get("out_request_no")) or trade.out_trade_no
        done = trade.refunds.get(out_request_no)
        if done is not None:
            if done.amount != amount:
                return failure("ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求")
            return self._refunded(trade, done, fund_change="N")  # the same request again: nothing moves
        if trade.status == "TRADE_FINISHED":
            return failure("ACQ.TRADE_HAS_FINISHED", "交易已完结")
        if not trade.paid or trade.status == "WAIT_BUYER_PAY":
            return failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if trade.refunded + amount > trade.total:
            return failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        refund = Refund(out_request_no, amount, _text(biz.get("refund_reason")), now)
        trade.refunds[out_request_no] = refund
        if trade.refunded == trade.total:  # refunded in full: the trade closes
            trade.status, trade.closed = "TRADE_CLOSED", now
        return self._refunded(trade, refund, fund_change="Y")

    def _refunded(self, trade: Trade, refund: Refund, *, fund_change: str) -> dict:
        return {
            **SUCCESS,
            **trade.ids(),
            "buyer_logon_id": trade.logon_id,
            "fund_change": fund_change,
            "refund_fee": yuan(trade.refunded),
            "send_back_fee": yuan(refund.amount),
            "gmt_refund_pay": stamp(refund.at),
            **trade.buyer_fields(query=False),
        }

    def _refund_query(self, trade: Trade, biz: dict, now: datetime) -> dict:
        out_request_no = _text(biz.get("out_request_no"))
        if not out_request_no:
            return failure("ACQ.INVALID_PARAMETER", "参数无效: out_request_no")
        refund = trade.refunds.get(out_request_no)
        if refund is None:
            # Success with no refund in it: Alipay's way of saying "no such refund (yet)".
            return {**SUCCESS, **trade.ids()}
        body = {
            **SUCCESS,
            **trade.ids(),
            "out_request_no": out_request_no,
            "total_amount": yuan(trade.total),
            "refund_amount": yuan(refund.amount),
            "refund_status": "REFUND_SUCCESS",
        }
        if refund.reason:
            body["refund_reason"] = refund.reason
        options = biz.get("query_options")
        if isinstance(options, list) and "gmt_refund_pay" in options:  # only when asked, as Alipay does
            body["gmt_refund_pay"] = stamp(refund.at)
        return body

    def pay(self, trade_no: str, now: datetime) -> Trade:
        """The buyer pays in the Alipay app. KeyError: unknown; ValueError: not waiting for payment."""
        trade = self.by_trade_no.get(trade_no) or self.trades.get(trade_no)
        if trade is None:
            raise KeyError(trade_no)
        trade.settle(now)
        if trade.status != "WAIT_BUYER_PAY":
            raise ValueError(trade.status)
        trade.status, trade.paid = "TRADE_SUCCESS", now
        return trade

    def notification(self, trade: Trade, *, seller_id: str, now: datetime, tamper: str | None = None) -> dict:
        """The trade_status_sync form for the trade as it stands, unsigned (sign_type included)."""
        fields = {
            "notify_time": stamp(now),
            "notify_type": "trade_status_sync",
            # Fresh per sending: a retry of the same notification would keep it (sandbox.py's "retry").
            "notify_id": now.strftime("%Y%m%d") + "00222" + str(secrets.randbelow(10**21)).zfill(21),
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": trade.app_id,
            "auth_app_id": trade.app_id,
            **trade.ids(),
            "trade_status": trade.status,
            **trade.amounts(),
            "seller_id": seller_id,
            **trade.buyer_fields(query=False),
            "buyer_logon_id": trade.logon_id,
            "subject": trade.subject,
            "body": trade.body,
            "gmt_create": stamp(trade.created),
            "gmt_payment": stamp(trade.paid),
            "gmt_close": stamp(trade.closed),
        }
        if trade.paid:
            # Notifications spell the channel fundChannel (the query says fund_channel).
            fields["fund_bill_list"] = json.dumps([{"amount": yuan(trade.total), "fundChannel": "ALIPAYACCOUNT"}])
        if trade.refunds:
            last = list(trade.refunds.values())[-1]
            fields.update(refund_fee=yuan(trade.refunded), gmt_refund=stamp(last.at), out_biz_no=last.out_request_no)
        if tamper == "amount":  # off by a cent, every amount alike, validly signed
            wrong = yuan(trade.total + Decimal("0.01"))
            fields.update(total_amount=wrong, receipt_amount=wrong, buyer_pay_amount=wrong, invoice_amount=wrong)
            if "fund_bill_list" in fields:
                fields["fund_bill_list"] = json.dumps([{"amount": wrong, "fundChannel": "ALIPAYACCOUNT"}])
        elif tamper == "app_id":
            other = "2021000000000000" if trade.app_id != "2021000000000000" else "2021000000000099"
            fields.update(app_id=other, auth_app_id=other)
        elif tamper == "seller_id":
            fields["seller_id"] = "2088102000000002" if seller_id != "2088102000000002" else "2088102000000003"
        elif tamper == "status":
            fields.update(trade_status="WAIT_BUYER_PAY", gmt_payment=None)
        return {k: str(v) for k, v in fields.items() if v not in (None, "")}

    def bill_entries(self, period: str) -> list[dict]:
        """Payments (交易) and refunds (退款, negative) completed in `period` ("YYYY-MM-DD" or "YYYY-MM"),
        as plain values: the ZIP is made outside the lock."""
        entries = []
        for trade in self.trades.values():
            base = {
                "trade_no": trade.trade_no,
                "out_trade_no": trade.out_trade_no,
                "subject": trade.subject,
                "body": trade.body or "",
                "buyer": trade.logon_id,
                "created": stamp(trade.created),
            }
            if trade.paid and stamp(trade.paid).startswith(period):
                entries.append({**base, "kind": "交易", "at": stamp(trade.paid), "amount": trade.total, "batch": ""})
            for r in trade.refunds.values():
                if stamp(r.at).startswith(period):
                    entries.append(
                        {**base, "kind": "退款", "at": stamp(r.at), "amount": -r.amount, "batch": r.out_request_no}
                    )
        entries.sort(key=lambda e: e["at"])
        return entries


def bill_period(biz: dict, now: datetime) -> tuple[str | None, dict | None]:
    """The period asked for ("YYYY-MM-DD" or "YYYY-MM"), or the refusal. Today's (or this month's) bill does
    not exist yet: Alipay makes day D's bill on D+1."""
    bill_type, bill_date = _text(biz.get("bill_type")), _text(biz.get("bill_date"))
    invalid = failure("isv.invalid_arguments", "参数不合法")
    if bill_type not in ("trade", "signcustomer"):
        return None, invalid
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", bill_date):
            ready = datetime.strptime(bill_date, "%Y-%m-%d").date() < now.date()
        elif re.fullmatch(r"\d{4}-\d{2}", bill_date):
            ready = datetime.strptime(bill_date, "%Y-%m").date() < now.date().replace(day=1)
        else:
            return None, invalid
    except ValueError:
        return None, invalid
    # The twin keeps no account ledger: no signcustomer bill, as for a day without fund movements.
    if not ready or bill_date < "2016-01" or bill_type == "signcustomer":
        return None, failure("isp.bill_not_exist", "账单不存在")
    return bill_date, None
