"""Reading the channels' daily trade statements (交易账单) into payments and refunds, trusting nothing.

WeChat Pay: UTF-8 CSV, a header line, one line per payment (交易状态 SUCCESS) and per refund (REFUND), every
value prefixed with a backtick, then the summary header (总交易单数,…) and one line of totals.
Alipay: GBK CSV, `#` comment lines around a header starting 支付宝交易号, cells that may end with a tab,
业务类型 交易 for a payment and 退款 for a refund (a negative amount), and `#交易合计：N笔…` / `#退款合计：M笔…`.

A line that is not what the format says raises StatementError naming the line and the column, never the
cell's text (cells hold the payer's id and the bill's subject). The totals the file states are checked
against its lines, so a file cut short is refused rather than read as a quiet day.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime

from app.clock import CITY_TZ
from integrations.alipay.trades import fen

MAX_NO = 64  # out_trade_no, out_refund_no and the channels' ids all fit in 64 characters
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


class ReconcileError(Exception):
    """A day and channel that could not be reconciled: the CLI prints it, the job logs it and tries again."""


class StatementError(ReconcileError):
    """The statement is not what its format says (a bad line, totals that disagree with the lines)."""

    def __init__(self, channel: str, message: str, line: int | None = None):
        where = f", line {line}" if line is not None else ""
        super().__init__(f"{channel} statement{where}: {message}")
        self.channel, self.line = channel, line


@dataclass(frozen=True)
class Payment:
    out_trade_no: str
    transaction_id: str  # WeChat's 微信订单号, Alipay's 支付宝交易号
    amount_fen: int
    at: datetime
    line: int


@dataclass(frozen=True)
class StatementRefund:
    out_trade_no: str
    out_refund_no: str
    amount_fen: int  # positive
    status: str  # WeChat's 退款状态 at download time (SUCCESS, PROCESSING, …); Alipay's rows are all SUCCESS
    at: datetime
    line: int


@dataclass
class Statement:
    payments: list[Payment] = field(default_factory=list)
    refunds: list[StatementRefund] = field(default_factory=list)


class _Rows:
    """One statement's cells by column name, with the checks every value gets."""

    def __init__(self, channel: str, header: list[str], header_line: int):
        self.channel, self.index = channel, {name: i for i, name in enumerate(header)}
        self.width, self.header_line = len(header), header_line

    def require(self, *names: str) -> None:
        for name in names:
            if name not in self.index:
                raise StatementError(self.channel, f"the header has no column {name}", self.header_line)

    def text(self, cells: list[str], name: str, line: int, *, required: bool = True) -> str:
        value = cells[self.index[name]]
        if required and not value:
            raise StatementError(self.channel, f"{name} is empty", line)
        if len(value) > MAX_NO and name not in ("商品名称", "备注"):
            raise StatementError(self.channel, f"{name} is longer than {MAX_NO} characters", line)
        return value

    def amount(self, cells: list[str], name: str, line: int) -> int:
        try:
            return fen(cells[self.index[name]])
        except ValueError:
            raise StatementError(self.channel, f"{name} is not an amount in yuan", line) from None

    def moment(self, cells: list[str], name: str, line: int) -> datetime:
        value = cells[self.index[name]]
        try:
            if not _MOMENT.fullmatch(value):
                raise ValueError(value)
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CITY_TZ)
        except ValueError:
            raise StatementError(self.channel, f"{name} is not a time (YYYY-MM-DD HH:MM:SS)", line) from None


def _lines(channel: str, content: bytes, encoding: str) -> list[tuple[int, str]]:
    """(line number from 1, text) of the non-blank lines."""
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise StatementError(channel, f"not {encoding} text", line) from None
    text = text.removeprefix("\ufeff")
    return [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _unique(channel: str, seen: dict[str, int], key: str, what: str, line: int) -> None:
    # Each order is paid once and each refund made once: a second line is a broken file, not a second payment.
    if key in seen:
        raise StatementError(channel, f"the same {what} again (first on line {seen[key]})", line)
    seen[key] = line


# -- WeChat Pay -------------------------------------------------------------------------------------------


def parse_wechat(content: bytes) -> Statement:
    channel, lines = "wechat", _lines("wechat", content, "utf-8")
    if not lines:
        raise StatementError(channel, "the file is empty")
    header_line, header = lines[0][0], lines[0][1].split(",")
    rows = _Rows(channel, header, header_line)
    rows.require("交易时间", "微信订单号", "商户订单号", "交易状态", "订单金额", "商户退款单号", "退款金额", "退款状态")
    statement, paid, refunded, sums = Statement(), {}, {}, {"订单金额": 0, "退款金额": 0}
    position, count = 1, 0
    while position < len(lines) and not lines[position][1].startswith("总交易单数"):
        number, line = lines[position]
        cells = _wechat_cells(rows, line, number)
        state = rows.text(cells, "交易状态", number)
        out_trade_no, at = rows.text(cells, "商户订单号", number), rows.moment(cells, "交易时间", number)
        if state == "SUCCESS":
            _unique(channel, paid, out_trade_no, "payment", number)
            amount = rows.amount(cells, "订单金额", number)
            if amount <= 0:
                raise StatementError(channel, "a payment of no amount", number)
            transaction_id = rows.text(cells, "微信订单号", number)
            statement.payments.append(Payment(out_trade_no, transaction_id, amount, at, number))
            sums["订单金额"] += amount
        elif state == "REFUND":
            out_refund_no = rows.text(cells, "商户退款单号", number)
            _unique(channel, refunded, out_refund_no, "refund", number)
            amount, status = rows.amount(cells, "退款金额", number), rows.text(cells, "退款状态", number)
            if amount <= 0:
                raise StatementError(channel, "a refund of no amount", number)
            statement.refunds.append(StatementRefund(out_trade_no, out_refund_no, amount, status, at, number))
            sums["退款金额"] += amount
        else:  # a mini-program merchant has only these two; anything else is not a file we understand
            raise StatementError(channel, "交易状态 is neither SUCCESS nor REFUND", number)
        position, count = position + 1, count + 1
    _wechat_totals(lines[position:], count, sums)
    return statement


def _wechat_cells(rows: _Rows, line: str, number: int) -> list[str]:
    # Every value starts with a backtick, so ",`" separates cells even when a product name holds a comma.
    if not line.startswith("`"):
        raise StatementError(rows.channel, "a line whose values are not prefixed with a backtick", number)
    cells = [cell.strip() for cell in line[1:].split(",`")]
    if len(cells) != rows.width:
        raise StatementError(rows.channel, f"{len(cells)} cells where the header has {rows.width}", number)
    return cells


def _wechat_totals(tail: list[tuple[int, str]], count: int, sums: dict[str, int]) -> None:
    channel = "wechat"
    if len(tail) < 2:
        raise StatementError(channel, "no summary (总交易单数 and its totals) at the end: cut short?")
    if len(tail) > 2:
        raise StatementError(channel, "more lines after the summary's totals", tail[2][0])
    (header_line, header), (number, line) = tail
    totals = _Rows(channel, header.split(","), header_line)
    totals.require("总交易单数", "订单总金额", "退款总金额")
    cells = _wechat_cells(totals, line, number)
    if cells[totals.index["总交易单数"]] != str(count):
        raise StatementError(channel, f"总交易单数 is not the {count} lines the statement has", number)
    for column, total in (("订单金额", "订单总金额"), ("退款金额", "退款总金额")):
        if totals.amount(cells, total, number) != sums[column]:
            raise StatementError(channel, f"{total} is not the sum of the lines' {column}", number)


# -- Alipay -----------------------------------------------------------------------------------------------

_ALIPAY_COUNTS = {"交易合计": re.compile(r"#交易合计：(\d+)笔"), "退款合计": re.compile(r"#退款合计：(\d+)笔")}
_FREE_TEXT = ("商品名称", "备注")  # the only cells a comma can hide in (the bill's subject, our body)


def parse_alipay(content: bytes) -> Statement:
    channel, lines = (
        "alipay",
        _lines("alipay", content, "gb18030"),
    )  # GBK's superset: a rare character in a name must not fail a day
    header_at = next((i for i, (_, line) in enumerate(lines) if not line.startswith("#")), None)
    if header_at is None or not lines[header_at][1].startswith("支付宝交易号"):
        number = lines[header_at][0] if header_at is not None else None
        raise StatementError(channel, "no header line starting 支付宝交易号", number)
    header_line, header = lines[header_at][0], [cell.strip() for cell in lines[header_at][1].split(",")]
    rows = _Rows(channel, header, header_line)
    rows.require("支付宝交易号", "商户订单号", "业务类型", *_FREE_TEXT, "创建时间", "完成时间", "订单金额（元）",
                 "退款批次号/请求号")  # fmt: skip
    statement, paid, refunded, stated = Statement(), {}, {}, {}
    for number, line in lines[header_at + 1 :]:
        if line.startswith("#"):
            for name, pattern in _ALIPAY_COUNTS.items():
                if match := pattern.match(line):
                    stated[name] = int(match[1])
            continue
        cells = _alipay_cells(rows, line, number)
        kind, amount = rows.text(cells, "业务类型", number), rows.amount(cells, "订单金额（元）", number)
        out_trade_no, at = rows.text(cells, "商户订单号", number), rows.moment(cells, "完成时间", number)
        if kind == "交易":
            _unique(channel, paid, out_trade_no, "payment", number)
            if amount <= 0:
                raise StatementError(channel, "a payment (交易) whose amount is not positive", number)
            trade_no = rows.text(cells, "支付宝交易号", number)
            statement.payments.append(Payment(out_trade_no, trade_no, amount, at, number))
        elif kind == "退款":
            # Without out_request_no Alipay takes the out_trade_no as the refund's number.
            out_refund_no = rows.text(cells, "退款批次号/请求号", number, required=False) or out_trade_no
            _unique(channel, refunded, out_refund_no, "refund", number)
            if amount >= 0:
                raise StatementError(channel, "a refund (退款) whose amount is not negative", number)
            statement.refunds.append(StatementRefund(out_trade_no, out_refund_no, -amount, "SUCCESS", at, number))
        else:
            raise StatementError(channel, "业务类型 is neither 交易 nor 退款", number)
    for name, found in (("交易合计", len(statement.payments)), ("退款合计", len(statement.refunds))):
        if name not in stated:
            raise StatementError(channel, f"no #{name} line at the end: cut short?")
        if stated[name] != found:
            raise StatementError(channel, f"#{name} states {stated[name]} lines, the statement has {found}")
    return statement


def _alipay_cells(rows: _Rows, line: str, number: int) -> list[str]:
    cells = [cell.strip() for cell in next(csv.reader([line]))]  # strip(): Alipay ends some cells with a tab
    extra = len(cells) - rows.width
    if extra > 0:
        cells = _realigned(rows, cells, extra)
    if cells is None or len(cells) != rows.width:
        raise StatementError(rows.channel, f"cells do not line up with the header's {rows.width}", number)
    return cells


def _realigned(rows: _Rows, cells: list[str], extra: int) -> list[str] | None:
    """Commas inside 商品名称 or 备注 (Alipay does not quote them): the creation time right after the subject
    says how many cells the subject took; the remark takes what is left at the end."""
    subject, created, remark = rows.index["商品名称"], rows.index["创建时间"], rows.index["备注"]
    if not subject < created < remark == rows.width - 1:
        return None
    for took in range(extra + 1):
        if _MOMENT.fullmatch(cells[created + took]):
            named = ",".join(cells[subject : subject + took + 1])
            return [
                *cells[:subject],
                named,
                *cells[subject + took + 1 : remark + took],
                ",".join(cells[remark + took :]),
            ]
    return None
