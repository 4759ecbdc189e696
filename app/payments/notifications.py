"""The channels' notifications: checked, then applied through outcomes.paid (or refunds.finish).

Each returns (HTTP status, body) in its channel's own manner. Only what cannot be WeChat's or Alipay's
own word about our merchant (a bad signature, a stale timestamp, another app or merchant, a body that
does not parse) is refused; the channel then retries, which is what it should do for a genuine one that
failed to arrive intact. A genuine notification that disagrees with our record is acknowledged once it
is recorded as a discrepancy: retrying it for a day would record nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.payments import channels, outcomes, refunds
from integrations.alipay.client import BEIJING
from integrations.alipay.trades import PAID_STATES
from integrations.alipay.trades import fen as alipay_fen

log = logging.getLogger(__name__)
BEIJING_FORMAT = "%Y-%m-%d %H:%M:%S"


def _wechat_fail(status: int, message: str) -> tuple[int, dict]:
    return status, {"code": "FAIL", "message": message}


def wechat(headers, raw_body: bytes) -> tuple[int, dict | None]:
    client = channels.wechat()
    notification = client.verify_notification(headers, raw_body)
    if notification is None:
        log.warning("wechat pay notification refused: signature, serial, timestamp or resource")
        return _wechat_fail(401, "签名验证失败")
    resource, event = notification["resource"], str(notification.get("event_type") or "")
    if event.startswith("REFUND."):
        return _wechat_refund(resource, event)
    if resource.get("appid") != client.appid or resource.get("mchid") != client.mchid:
        log.warning("wechat pay notification for another app or merchant")
        return _wechat_fail(400, "appid或mchid不匹配")
    try:
        out_trade_no, state = str(resource["out_trade_no"]), str(resource["trade_state"])
        amount = int(resource["amount"]["total"])
        stamp = resource.get("success_time")
        paid_at = datetime.fromisoformat(stamp) if stamp else None
        if paid_at is not None and paid_at.tzinfo is None:
            raise ValueError("success_time without its offset")
    except (KeyError, TypeError, ValueError):
        return _wechat_fail(400, "通知内容不完整")
    if event != "TRANSACTION.SUCCESS" or state != "SUCCESS":
        return 204, None  # nothing paid; the expiry job asks the channel itself
    outcomes.paid(channels.WECHAT, out_trade_no, str(resource.get("transaction_id") or ""), amount, paid_at, "notify")
    return 204, None


def _wechat_refund(resource: dict, event: str) -> tuple[int, dict | None]:
    if resource.get("mchid") != channels.wechat().mchid:
        return _wechat_fail(400, "mchid不匹配")
    out_refund_no = str(resource.get("out_refund_no") or "")
    status = str(resource.get("refund_status") or "")
    if status == "SUCCESS":
        refunds.finish(out_refund_no, True, resource.get("refund_id"))
    elif status in ("CLOSED", "ABNORMAL"):
        refunds.finish(out_refund_no, False, resource.get("refund_id"), f"channel status {status}")
    return 204, None


def alipay(form: dict[str, str]) -> tuple[int, str]:
    """Alipay wants the text `success`; anything else makes it retry for about 25 hours."""
    client = channels.alipay()
    if not client.verify_notification(form):
        log.warning("alipay notification refused: signature")
        return 401, "fail"
    if form.get("app_id") != client.app_id or form.get("seller_id") != client.seller_id:
        log.warning("alipay notification for another app or seller")
        return 400, "fail"
    try:
        out_trade_no, status = form["out_trade_no"], form["trade_status"]
        amount = alipay_fen(form["total_amount"])
        stamp = form.get("gmt_payment")
        paid_at = datetime.strptime(stamp, BEIJING_FORMAT).replace(tzinfo=BEIJING) if stamp else None
    except (KeyError, ValueError):
        return 400, "fail"
    if status in PAID_STATES:
        outcomes.paid(channels.ALIPAY, out_trade_no, form.get("trade_no", ""), amount, paid_at, "notify")
    return 200, "success"
