"""The trade statement (交易账单) of the WeChat Pay twin, in WeChat's CSV: a header line, one line per payment
and per refund of the Beijing day, then the summary header and its one line of totals. Every value is prefixed
with a backtick (so spreadsheets keep long ids as text); amounts are yuan, fees to five decimals; lines end CRLF.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from integrations.sandbox.twin_kit import BEIJING
from integrations.wechatpay import twin_ledger as books

RATE = Decimal("0.006")  # the usual mini-program rate, 0.60%, charged per payment and given back per refund
_PAYMENT_COLUMNS = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额"  # noqa: E501
_TRAILER = "商品名称,商户数据包,手续费,费率,订单金额"
COLUMNS = {
    "ALL": (
        f"{_PAYMENT_COLUMNS},微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,{_TRAILER},申请退款金额,费率备注"
    ),
    "SUCCESS": f"{_PAYMENT_COLUMNS},{_TRAILER},费率备注",
    "REFUND": (
        f"{_PAYMENT_COLUMNS},退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,"
        f"退款状态,{_TRAILER},申请退款金额,费率备注"
    ),
}
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def fee_of(fen: int) -> int:
    """The fee in fen, rounded half up like WeChat's."""
    return int((Decimal(fen) * RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _common(order: dict, at: datetime, state: str) -> dict:
    return {
        "交易时间": _when(at),
        "公众账号ID": order["appid"],
        "商户号": order["mchid"],
        "特约商户号": "0",  # a direct merchant has none
        "设备号": "",
        "微信订单号": order["transaction_id"],
        "商户订单号": order["out_trade_no"],
        "用户标识": order["openid"],
        "交易类型": "JSAPI",
        "交易状态": state,
        "付款银行": "OTHERS",
        "货币种类": order["currency"],
        "代金券金额": "0.00",
        "充值券退款金额": "0.00",
        "商品名称": order["description"],
        "商户数据包": order.get("attach") or "",
        "费率": "0.60%",
        "费率备注": "",
    }


def payment_row(order: dict) -> dict:
    """A SUCCESS line, dated by the payment's success_time (a later refund has its own line)."""
    total, fee = order["total"], fee_of(order["total"])
    row = _common(order, order["success_time"], "SUCCESS")
    row |= {"应结订单金额": yuan(total), "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00"}
    row |= {"退款类型": "", "退款状态": "", "手续费": f"{Decimal(fee) / 100:.5f}", "订单金额": yuan(total)}
    row |= {"申请退款金额": "0.00", "退款申请时间": "", "退款成功时间": ""}
    return row | {"_sums": (total, 0, fee, total, 0)}


def refund_row(order: dict, refund: dict) -> dict:
    """A REFUND line, dated by when the refund was applied for, with the refund's status at download time."""
    amount, fee = refund["refund"], -fee_of(refund["refund"])
    row = _common(order, refund["create_time"], "REFUND")
    row |= {"应结订单金额": "0.00", "微信退款单号": refund["refund_id"], "商户退款单号": refund["out_refund_no"]}
    row |= {"退款金额": yuan(amount), "退款类型": "ORIGINAL", "退款状态": refund["status"]}
    row |= {"手续费": f"{Decimal(fee) / 100:.5f}", "订单金额": "0.00", "申请退款金额": yuan(amount)}
    row |= {"退款申请时间": _when(refund["create_time"]), "退款成功时间": _when(refund.get("success_time"))}
    return row | {"_sums": (0, amount, fee, 0, amount)}


def statement(rows: list[dict], bill_type: str) -> bytes:
    """The statement's bytes (UTF-8) for rows made by payment_row() and refund_row()."""
    header = COLUMNS[bill_type]
    lines = [header]
    for row in sorted(rows, key=lambda row: row["交易时间"]):
        lines.append(",".join(f"`{row[name]}" for name in header.split(",")))
    settle, refunded, fees, ordered, applied = (sum(row["_sums"][i] for row in rows) for i in range(5))
    totals = (str(len(rows)), yuan(settle), yuan(refunded), "0.00", f"{Decimal(fees) / 100:.5f}", yuan(ordered))
    lines += [SUMMARY, ",".join(f"`{value}" for value in (*totals, yuan(applied)))]
    return ("\r\n".join(lines) + "\r\n").encode()


def statement_for(day: date, bill_type: str = "ALL") -> bytes | None:
    """The unzipped statement of a Beijing day as the books stand now; None when nothing happened that day."""
    rows = []
    with books.lock:
        for order in books.orders.values():
            paid = order["success_time"]
            if bill_type != "REFUND" and paid and paid.astimezone(BEIJING).date() == day:
                rows.append(payment_row(order))
            for refund in (books.refunds[no] for no in order["refunds"]):
                if bill_type != "SUCCESS" and refund["create_time"].astimezone(BEIJING).date() == day:
                    rows.append(refund_row(order, refund))
    return statement(rows, bill_type) if rows else None
