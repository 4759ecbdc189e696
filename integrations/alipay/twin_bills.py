"""The Alipay twin's trade statement: a ZIP of GBK CSV files named in GBK, as Alipay serves them
(业务明细 and its 汇总), with the header comments, dashed separators, trailing tabs and closing totals of
the real export."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

from integrations.alipay.twin_trades import yuan as _yuan


class _GbkName(zipfile.ZipInfo):
    # Alipay names the members in GBK without the UTF-8 flag; zipfile would write UTF-8 and set the flag.
    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own (private) name, overridden
        return self.filename.encode("gbk"), self.flag_bits


DETAIL_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
    "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)
SUMMARY_HEADER = (
    "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,商家优惠（元）,"
    "卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）"
)
_DASHES = "-" * 41


def _detail_row(e: dict) -> str:
    # Store, operator and terminal are empty for mini-program payments; the twin charges no fee and gives no
    # discount, so the merchant receives the whole amount (商家实收 = 订单金额).
    amount, zeros = _yuan(e["amount"]), ",".join(["0.00"] * 5)
    row = (
        f"{e['trade_no']}\t,{e['out_trade_no']}\t,{e['kind']}\t,{e['subject']},{e['created']},{e['at']},"
        f"\t,\t,\t,\t,*市民({e['buyer']})\t,{amount},{amount},{zeros},,0.00\t,0.00,{e['batch']}\t,0.00,0.00,{e['body']}"
    )
    return row.replace("\n", " ")


def _bill_zip(seller_id: str, period: str, entries: list[dict], now: datetime) -> tuple[str, bytes]:
    """The bill Alipay serves for `period`: (file name, ZIP bytes)."""
    account, compact = f"{seller_id}0156", period.replace("-", "")
    start = date.fromisoformat(period if len(period) == 10 else f"{period}-01")
    end = start + timedelta(days=1) if len(period) == 10 else (start + timedelta(days=32)).replace(day=1)
    head = [
        f"#账号：[{account}]",
        f"#起始日期：[{start:%Y年%m月%d日} 00:00:00]   终止日期：[{end:%Y年%m月%d日} 00:00:00]",
    ]
    exported = f"#导出时间：[{now:%Y年%m月%d日 %H:%M:%S}]"
    payments = [e for e in entries if e["kind"] == "交易"]
    refunds = [e for e in entries if e["kind"] == "退款"]
    paid = sum((e["amount"] for e in payments), Decimal("0.00"))
    returned = sum((e["amount"] for e in refunds), Decimal("0.00"))
    detail = [
        "#支付宝业务明细查询",
        *head,
        f"#{_DASHES}业务明细列表{'-' * 40}",
        DETAIL_HEADER,
        *(_detail_row(e) for e in entries),
        f"#{_DASHES}业务明细列表结束{'-' * 36}",
        f"#交易合计：{len(payments)}笔，商家实收共{_yuan(paid)}元，商家优惠共0.00元",
        f"#退款合计：{len(refunds)}笔，商家实收退款共{_yuan(returned)}元，商家优惠退款共0.00元",
        exported,
    ]
    net = _yuan(paid + returned)
    figures = f"{len(payments)},{len(refunds)},{net},{net},0.00,0.00,0.00,0.00,0.00,{net}"
    summary = [
        "#支付宝业务汇总查询",
        *head,
        f"#{_DASHES}业务汇总列表{'-' * 40}",
        SUMMARY_HEADER,
        f"\t,\t,{figures}",
        f"合计,,{figures}",
        f"#{_DASHES}业务汇总列表结束{'-' * 35}",
        exported,
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix, lines in (("业务明细", detail), ("业务明细(汇总)", summary)):
            info = _GbkName(f"{account}_{compact}_{suffix}.csv", date_time=now.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, ("\n".join(lines) + "\n").encode("gbk", errors="replace"))
    return f"{account}_{compact}.csv.zip", buffer.getvalue()
