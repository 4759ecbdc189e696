"""The printable receipt (缴费凭证) of a paid order: an HTML page a phone can show and a printer can print."""

from __future__ import annotations

import uuid

from flask import render_template_string

from app.clock import local, utcnow
from app.errors import AppError
from app.identity.tokens import Caller
from app.payments import channels, orders, states
from integrations.connectors.parsing import fen_to_yuan

PAID_ONCE = frozenset({states.PAID, states.SETTLED, states.REFUNDING, states.REFUNDED, states.PARTIALLY_REFUNDED})
STATE_WORDS = {
    states.PAID: "已支付，待缴费单位销账",
    states.SETTLED: "已缴费，缴费单位已销账",
    states.REFUNDING: "退款处理中",
    states.REFUNDED: "已全额退款",
    states.PARTIALLY_REFUNDED: "已部分退款",
}

# Autoescaped (Flask escapes templates given as strings): the issuer's words and bill numbers come from outside.
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>缴费凭证 {{ order.id }}</title>
<style>
body { font-family: "PingFang SC", "Noto Sans CJK SC", sans-serif;
       max-width: 40em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.3em; text-align: center; } table { width: 100%; border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ccc; padding: .4em; text-align: left; } td.amount, th.amount { text-align: right; }
.total { font-weight: bold; } .note { color: #555; font-size: .9em; }
@media print { body { margin: 0; } }
</style></head>
<body>
<h1>枣庄市民综合服务平台 缴费凭证</h1>
<table>
<tr><th>缴费单位</th><td>{{ order.issuer }}</td></tr>
<tr><th>缴费账户</th><td>{{ order.account.account_no }}</td></tr>
<tr><th>支付方式</th><td>{{ channel_name }}</td></tr>
<tr><th>交易单号</th><td>{{ order.transaction_id }}</td></tr>
<tr><th>平台订单号</th><td>{{ order.id }}</td></tr>
<tr><th>支付时间</th><td>{{ order.paid_at }}</td></tr>
<tr><th>状态</th><td>{{ state_words }}</td></tr>
</table>
<table>
<tr><th>账期</th><th>账单号</th><th class="amount">金额（元）</th></tr>
{% for bill in order.bills %}
<tr><td>{{ bill.period }}</td><td>{{ bill.bill_id }}</td><td class="amount">{{ yuan(bill.amount_fen) }}</td></tr>
{% endfor %}
<tr class="total"><td colspan="2">合计</td><td class="amount">{{ yuan(order.amount_fen) }}</td></tr>
{% if order.refunded_fen %}
<tr><td colspan="2">已退款</td><td class="amount">{{ yuan(order.refunded_fen) }}</td></tr>
{% endif %}
</table>
{% if order.notice %}<p>{{ order.notice }}</p>{% endif %}
<p class="note">打印时间 {{ printed_at }}。本凭证由平台根据支付渠道的支付结果出具。</p>
</body></html>
"""


def receipt(caller: Caller, order_id: uuid.UUID) -> str:
    orders.owned(caller, order_id)
    order = orders.view(order_id)
    if order["state"] not in PAID_ONCE:
        raise AppError("NOT_PAID", "订单尚未支付，暂无缴费凭证", 409, {"state": order["state"]})
    return render_template_string(
        PAGE,
        order=order,
        channel_name=channels.NAMES[order["channel"]],
        state_words=STATE_WORDS[order["state"]],
        yuan=fen_to_yuan,
        printed_at=local(utcnow()).strftime("%Y-%m-%d %H:%M"),
    )
