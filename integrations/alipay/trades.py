"""Alipay trades for the mini-program (alipay.trade.create and friends) and the async notification's check.

Built on AlipayMiniProgram (client.py): the same signed call, timeout and error mapping. Business failures
come back as AlipayError (sub_code ACQ.…) or UpstreamUnavailable for Alipay's own trouble. Amounts are fen
here and "12.34" yuan strings on the wire.
"""

from __future__ import annotations

import io
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from alipay.exceptions import AliPayException

from integrations.alipay.client import BEIJING, PARTY, AlipayError, AlipayMiniProgram
from integrations.connectors.parsing import fen_to_yuan
from integrations.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnavailable

PAID_STATES = ("TRADE_SUCCESS", "TRADE_FINISHED")  # protocols.md: only these mean paid


def fen(yuan_text) -> int:
    """ "12.34" → 1234; anything else (more decimals, not a number) raises ValueError."""
    try:
        amount = Decimal(str(yuan_text)) * 100
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ValueError("not a whole number of fen")
    return int(amount)


@dataclass(frozen=True)
class AlipayTrade:
    out_trade_no: str
    trade_no: str | None
    status: str  # WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_FINISHED, TRADE_CLOSED
    amount_fen: int
    paid_at: datetime | None


class AlipayTrades(AlipayMiniProgram):
    def __init__(self, *args, seller_id: str, notify_url: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.app_id, self.seller_id, self.notify_url = self._sdk._appid, seller_id, notify_url

    def create(self, out_trade_no: str, amount_fen: int, subject: str, buyer: str, expires_at: datetime) -> str:
        """The trade_no that my.tradePay takes (Alipay answers the same one for the same trade again)."""
        buyer_field = "buyer_id" if buyer.startswith("2088") else "buyer_open_id"
        reply = self._call(
            "alipay.trade.create",
            biz_content={
                "out_trade_no": out_trade_no,
                "total_amount": fen_to_yuan(amount_fen),
                "subject": subject,
                buyer_field: buyer,
                "product_code": "JSAPI_PAY",
                "op_app_id": self.app_id,
                "time_expire": expires_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            },
            notify_url=self.notify_url,
        )
        trade_no = reply.get("trade_no")
        if not isinstance(trade_no, str) or not trade_no:
            raise UpstreamBadResponse(PARTY, "trade.create answered without a trade_no")
        return trade_no

    def query(self, out_trade_no: str) -> AlipayTrade | None:
        try:
            reply = self._call("alipay.trade.query", biz_content={"out_trade_no": out_trade_no})
        except AlipayError as error:
            if error.sub_code == "ACQ.TRADE_NOT_EXIST":
                return None
            raise
        try:
            paid = reply.get("send_pay_date")
            return AlipayTrade(
                out_trade_no=str(reply["out_trade_no"]),
                trade_no=reply.get("trade_no") or None,
                status=str(reply["trade_status"]),
                amount_fen=fen(reply["total_amount"]),
                paid_at=datetime.strptime(paid, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING) if paid else None,
            )
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(PARTY, "trade.query answered without its fields") from None

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade. A trade Alipay never created (the citizen never opened the cashier) is
        already as good as closed."""
        try:
            self._call("alipay.trade.close", biz_content={"out_trade_no": out_trade_no})
        except AlipayError as error:
            if error.sub_code != "ACQ.TRADE_NOT_EXIST":
                raise

    def refund(self, out_trade_no: str, out_request_no: str, refund_fen: int, reason: str) -> int:
        """Refund synchronously; answers the trade's refunded total in fen (Alipay's refund_fee)."""
        reply = self._call(
            "alipay.trade.refund",
            biz_content={
                "out_trade_no": out_trade_no,
                "refund_amount": fen_to_yuan(refund_fen),
                "out_request_no": out_request_no,
                "refund_reason": reason,
            },
        )
        try:
            return fen(reply["refund_fee"])
        except (KeyError, ValueError):
            raise UpstreamBadResponse(PARTY, "trade.refund answered without refund_fee") from None

    def trade_bill(self, bill_date: str) -> bytes:
        """The day's trade detail CSV (GBK, as Alipay serves it), out of the zip it comes in."""
        reply = self._call(
            "alipay.data.dataservice.bill.downloadurl.query", biz_content={"bill_type": "trade", "bill_date": bill_date}
        )
        url = reply.get("bill_download_url")
        if not isinstance(url, str):
            raise UpstreamBadResponse(PARTY, "bill query answered without a download url")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as answer:  # noqa: S310 - Alipay's own https URL
                archive = answer.read()
        except TimeoutError:
            raise UpstreamTimeout(PARTY, "statement download timed out") from None
        except OSError as error:
            raise UpstreamUnavailable(PARTY, f"statement download failed: {type(error).__name__}") from None
        try:
            with zipfile.ZipFile(io.BytesIO(archive), metadata_encoding="gbk") as zipped:  # as Alipay names them
                names = [name for name in zipped.namelist() if "汇总" not in name] or zipped.namelist()
                return zipped.read(names[0])
        except (zipfile.BadZipFile, IndexError):
            raise UpstreamBadResponse(PARTY, "statement is not a zip of CSV") from None

    def verify_notification(self, form: dict[str, str]) -> bool:
        """RSA2 over the sorted fields but sign and sign_type, with Alipay's public key (protocols.md)."""
        data = dict(form)
        signature = data.pop("sign", "")
        if data.pop("sign_type", "RSA2") != "RSA2" or not signature:
            return False
        try:
            return self._sdk.verify(data, signature)
        except (AliPayException, ValueError, TypeError):
            return False
