"""The WeChat Pay twin's books: its setup, orders, prepay ids, refunds and statement links, all behind one lock,
with the views WeChat Pay answers with and the notifications it would send. sandbox.py serves them over HTTP.

Business time (success_time, create_time, which day a statement covers) is now(): the real clock moved by
the offset set_clock() gives, so a test can make yesterday's payments. Signatures always keep the real clock.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timedelta

from integrations.sandbox.twin_kit import BEIJING, NonceMemory
from integrations.wechatpay import twin_protocol as wire

TRADE_STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭", "REFUND": "订单发生过退款"}
REFUND_EVENTS = {"SUCCESS": ("REFUND.SUCCESS", "退款成功"), "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
                 "CLOSED": ("REFUND.CLOSED", "退款关闭")}  # fmt: skip

lock = threading.Lock()
config: dict[str, wire.Setup] = {}  # "setup", set by configure(); reset() keeps it: it is setup, not state
orders: dict[str, dict] = {}  # out_trade_no -> the order
prepays: dict[str, str] = {}  # prepay_id -> out_trade_no (only the order's current prepay_id)
refunds: dict[str, dict] = {}  # out_refund_no -> the refund
bills: dict[str, tuple[bytes, float]] = {}  # download token -> (file, monotonic deadline)
timers: list[threading.Timer] = []  # refunds completing by themselves
switches = {"auto_refunds": True, "clock_offset": 0.0}
nonces = NonceMemory()


def forget() -> None:
    with lock:
        for timer in timers:
            timer.cancel()
        for table in (orders, prepays, refunds, bills, timers):
            table.clear()
        switches.update(auto_refunds=True, clock_offset=0.0)
    nonces.clear()


def now() -> datetime:
    return datetime.now(BEIJING) + timedelta(seconds=switches["clock_offset"])


def set_clock(offset: timedelta) -> None:
    """Move the twin's business clock (0 puts it back); reset() puts it back too."""
    with lock:
        switches["clock_offset"] = offset.total_seconds()


# -- reading the books (with lock held) -----------------------------------------------------------------------


def state_of(order: dict, at: datetime) -> str:
    if order["state"] == "NOTPAY" and order["time_expire"] and at >= order["time_expire"]:
        return "CLOSED"  # unpaid past its time_expire: WeChat closes it
    if order["state"] == "SUCCESS" and refunded(order):
        return "REFUND"
    return order["state"]


def refunded(order: dict) -> int:
    """Fen refunded or being refunded: a CLOSED refund gives its amount back."""
    return sum(refunds[no]["refund"] for no in order["refunds"] if refunds[no]["status"] != "CLOSED")


def transaction_view(order: dict, state: str) -> dict:
    """The order as a query answers it, and as a payment notification's plaintext."""
    view = {"appid": order["appid"], "mchid": order["mchid"], "out_trade_no": order["out_trade_no"]}
    if order["transaction_id"]:
        view["transaction_id"] = order["transaction_id"]
    view |= {"trade_type": "JSAPI", "trade_state": state, "trade_state_desc": TRADE_STATE_DESC[state]}
    amount = {"total": order["total"], "currency": order["currency"], "payer_currency": order["currency"]}
    if order["transaction_id"]:
        view |= {"bank_type": "OTHERS", "success_time": wire.rfc3339(order["success_time"])}
        amount["payer_total"] = order["total"]  # no coupons in the twin: the payer paid it all
    if order["attach"] is not None:
        view["attach"] = order["attach"]
    return view | {"payer": {"openid": order["openid"]}, "amount": amount}


def refund_view(refund: dict) -> dict:
    order = orders[refund["out_trade_no"]]
    view = {key: refund[key] for key in ("refund_id", "out_refund_no", "out_trade_no", "status")}
    view |= {"transaction_id": order["transaction_id"], "channel": "ORIGINAL", "user_received_account": "支付用户零钱"}
    view |= {"create_time": wire.rfc3339(refund["create_time"]), "funds_account": "AVAILABLE", "promotion_detail": []}
    if refund["success_time"]:
        view["success_time"] = wire.rfc3339(refund["success_time"])
    amount = {"total": order["total"], "refund": refund["refund"], "payer_total": order["total"]}
    amount |= {"payer_refund": refund["refund"], "settlement_total": order["total"]}
    return view | {"amount": amount | {"settlement_refund": refund["refund"], "discount_refund": 0, "currency": "CNY"}}


def _refund_plaintext(refund: dict) -> dict:
    view = refund_view(refund)
    text = {key: view[key] for key in ("out_trade_no", "transaction_id", "out_refund_no", "refund_id")}
    text |= {"mchid": orders[refund["out_trade_no"]]["mchid"], "refund_status": refund["status"]}
    if "success_time" in view:
        text["success_time"] = view["success_time"]
    amount = {key: view["amount"][key] for key in ("total", "refund", "payer_total", "payer_refund")}
    return text | {"user_received_account": view["user_received_account"], "amount": amount}


# -- what tests in this process call --------------------------------------------------------------------------


def order(out_trade_no: str) -> dict | None:
    """A copy of the twin's record of an order, with its trade_state as a query would read it now."""
    with lock:
        record = orders.get(out_trade_no)
        return None if record is None else copy.deepcopy(record) | {"trade_state": state_of(record, now())}


def mark_paid(out_trade_no: str) -> dict:
    """The citizen pays, and no notification goes out (POST /pay with notify false): {out_trade_no,
    transaction_id}. LookupError for an unknown order, ValueError for one not waiting for payment."""
    at = now()
    with lock:
        record = orders.get(out_trade_no)
        if record is None:
            raise LookupError(out_trade_no)
        if state_of(record, at) != "NOTPAY":
            raise ValueError(f"order {out_trade_no} is {state_of(record, at)}, not NOTPAY")
        record |= {"state": "SUCCESS", "transaction_id": wire.transaction_id(at), "success_time": at}
        return {"out_trade_no": out_trade_no, "transaction_id": record["transaction_id"]}


def settle_refund(out_refund_no: str, status: str) -> bool:
    """A PROCESSING refund becomes SUCCESS, ABNORMAL or CLOSED; False when unknown or no longer PROCESSING."""
    with lock:
        refund = refunds.get(out_refund_no)
        if refund is None or refund["status"] != "PROCESSING":
            return False
        refund["status"], refund["success_time"] = status, now() if status == "SUCCESS" else None
        return True


def notification(out_trade_no: str, *, tamper=None, event_type="TRANSACTION.SUCCESS", timestamp=None):
    """(headers, raw body) of a paid order's payment notification, as WeChat would POST it to notify_url.
    `timestamp` (epoch seconds) is the signed Wechatpay-Timestamp; `tamper` forges it (sandbox.py lists how)."""
    with lock:
        record = orders.get(out_trade_no)
        if record is None:
            raise LookupError(out_trade_no)
        if not record["transaction_id"]:
            raise ValueError(f"order {out_trade_no} was never paid: WeChat sends no notification for it")
        plaintext, setup = transaction_view(record, "SUCCESS"), config["setup"]
    return wire.notification(setup, plaintext, event_type=event_type, summary="支付成功", original_type="transaction",
                             amount_key="total", tamper=tamper, timestamp=timestamp)  # fmt: skip


def refund_notification(out_refund_no: str, *, tamper=None):
    """(headers, raw body) of a settled refund's notification: REFUND.SUCCESS, .ABNORMAL or .CLOSED."""
    with lock:
        refund = refunds.get(out_refund_no)
        if refund is None:
            raise LookupError(out_refund_no)
        if refund["status"] not in REFUND_EVENTS:
            raise ValueError(f"refund {out_refund_no} is still PROCESSING: WeChat sends no notification yet")
        plaintext, setup = _refund_plaintext(refund), config["setup"]
    event_type, summary = REFUND_EVENTS[plaintext["refund_status"]]
    return wire.notification(setup, plaintext, event_type=event_type, summary=summary, original_type="refund",
                             amount_key="refund", tamper=tamper)  # fmt: skip
