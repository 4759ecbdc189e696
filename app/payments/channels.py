"""The two payment channels behind one face: open an order, the parameters the mini-program pays with,
ask what became of an order, close it, refund it, fetch a day's statement.

Clients are built once per app from configuration; outside production an empty key means the sandbox
twin's (integrations/sandbox/keyring.py), as for login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app.errors import AppError
from integrations.alipay.trades import PAID_STATES, AlipayTrades
from integrations.errors import UpstreamRejected
from integrations.sandbox import keyring
from integrations.wechatpay.client import WeChatPayClient, WeChatPayRefused

WECHAT, ALIPAY = "wechat", "alipay"
NAMES = {WECHAT: "微信支付", ALIPAY: "支付宝"}


@dataclass(frozen=True)
class ChannelState:
    """What the channel says of an order: unpaid, paid, closed or refunded."""

    state: str
    amount_fen: int
    transaction_id: str | None
    paid_at: datetime | None


def offered(channel: str) -> None:
    if channel not in current_app.config["PAYMENT_CHANNELS"]:
        raise AppError("CHANNEL_NOT_OFFERED", "暂不支持此支付方式", 422, {"channel": channel})


def _sandboxed(name: str) -> bool:
    return current_app.config["APP_ENV"] != "production" and not current_app.config[name]


def wechat() -> WeChatPayClient:
    client = current_app.extensions.get("wechatpay_client")
    if client is None:
        config = current_app.config
        keys = keyring.wechatpay_keys() if _sandboxed("WECHATPAY_PRIVATE_KEY") else {}
        client = current_app.extensions["wechatpay_client"] = WeChatPayClient(
            mchid=config["WECHATPAY_MCH_ID"],
            appid=config["WECHAT_APP_ID"],
            private_key_pem=config["WECHATPAY_PRIVATE_KEY"] or keys["merchant_private"],
            cert_serial_no=config["WECHATPAY_CERT_SERIAL_NO"] or keys["merchant_serial"],
            public_key_pem=config["WECHATPAY_PUBLIC_KEY"] or keys["platform_public"],
            public_key_id=config["WECHATPAY_PUBLIC_KEY_ID"] or keys["public_key_id"],
            api_v3_key=config["WECHATPAY_API_V3_KEY"] or keys["api_v3_key"],
            notify_url=config["WECHATPAY_NOTIFY_URL"],
            base_url=config["WECHATPAY_BASE_URL"],
        )
    return client


def alipay() -> AlipayTrades:
    client = current_app.extensions.get("alipay_trades_client")
    if client is None:
        config = current_app.config
        keys = keyring.alipay_keys() if _sandboxed("ALIPAY_APP_PRIVATE_KEY") else {}
        client = current_app.extensions["alipay_trades_client"] = AlipayTrades(
            app_id=config["ALIPAY_APP_ID"],
            app_private_key_pem=config["ALIPAY_APP_PRIVATE_KEY"] or keys["app_private"],
            alipay_public_key_pem=config["ALIPAY_PUBLIC_KEY"] or keys["alipay_public"],
            gateway_url=config["ALIPAY_GATEWAY_URL"],
            seller_id=config["ALIPAY_SELLER_ID"],
            notify_url=config["ALIPAY_NOTIFY_URL"],
        )
    return client


def open_order(channel: str, out_trade_no: str, amount_fen: int, subject: str, payer: str, expires_at) -> str:
    """The channel's reference for the order (prepay_id, trade_no); asking again answers the same."""
    if channel == WECHAT:
        return wechat().prepay(out_trade_no, amount_fen, subject, payer, expires_at)
    return alipay().create(out_trade_no, amount_fen, subject, payer, expires_at)


def pay_params(channel: str, channel_ref: str) -> dict:
    """What the mini-program calls the cashier with: wx.requestPayment's fields, or my.tradePay's tradeNO."""
    if channel == WECHAT:
        return wechat().request_payment(channel_ref)
    return {"tradeNO": channel_ref}


def query(channel: str, out_trade_no: str) -> ChannelState | None:
    """None when the channel has never heard of the order."""
    if channel == WECHAT:
        trade = wechat().query(out_trade_no)
        if trade is None:
            return None
        state = {"SUCCESS": "paid", "REFUND": "refunded", "CLOSED": "closed", "REVOKED": "closed"}.get(
            trade.state, "unpaid"
        )
        return ChannelState(state, trade.amount_fen, trade.transaction_id, trade.paid_at)
    found = alipay().query(out_trade_no)
    if found is None:
        return None
    if found.status in PAID_STATES:
        state = "paid"
    elif found.status == "TRADE_CLOSED":
        # Alipay closes a fully refunded trade too: paid once, then refunded.
        state = "refunded" if found.paid_at else "closed"
    else:
        state = "unpaid"
    return ChannelState(state, found.amount_fen, found.trade_no, found.paid_at)


def close(channel: str, out_trade_no: str) -> bool:
    """Close the channel's order; False when it cannot be closed because the citizen has paid it."""
    try:
        if channel == WECHAT:
            try:
                wechat().close(out_trade_no)
            except WeChatPayRefused as refusal:
                if refusal.wechat_code == "ORDERPAID":
                    return False
                if refusal.wechat_code not in ("ORDER_NOT_EXIST", "ORDER_CLOSED"):
                    raise
        else:
            alipay().close(out_trade_no)
    except UpstreamRejected as refusal:
        if getattr(refusal, "sub_code", "") == "ACQ.TRADE_STATUS_ERROR":  # Alipay: paid, cannot close
            return False
        raise
    return True
