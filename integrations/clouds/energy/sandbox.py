"""Twin of the energy cloud (智慧节能云): the water, power and gas companies' customer service gateway.

Its own manners: an OAuth-like token endpoint (POST /oauth/token, form fields grant_type=client_credentials,
client_id, client_secret; tokens live 7200 s) and `Authorization: Bearer` on every call; a missing, unknown
or expired token is HTTP 401 {"error": "invalid_token"}. Business answers are HTTP 200
{"code": 0, "msg": "success", "data": {...}, "ts": "yyyyMMddHHmmss"}, with a non-zero `code` for errors;
the line of business is `bizType` SW (水务), DL (电力) or RQ (燃气); months are "yyyyMM", dates "yyyyMMdd",
money is yuan as a string with two decimals; usage history is paged by pageNum/pageSize.
Accounts, use and bills are in twin_data.py.

Write-off (销账): POST /api/v2/bill/writeoff {bizType, accountNo, billNos[], payAmt, payNo, payChannel (WX or
ZFB), tradeNo, payTime yyyyMMddHHmmss} answers {payNo, writeOffNo, writeOffTime, billNos}; the same payNo
again answers its first write-off. Refusals: 3001 a bill not found, 3002 a bill already paid, 3003 payAmt not
what the bills owe with late fees, 3004 the payNo used for other bills or another amount, 1004 a malformed
field; 9999 system busy. The sandbox's control, unsigned: POST /_control/paid-elsewhere {account_no, bill_id}
marks a bill paid at a counter.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, jsonify, request

from integrations.clouds.energy import twin_data
from integrations.sandbox import keyring, twin_kit
from integrations.sandbox.twin_kit import BEIJING

CLOUD = "energy"
blueprint = Blueprint("energy_twin", __name__)
MAX_PAGE_SIZE = 5
USAGE_MONTHS = 12
PAY_CHANNELS = {"WX", "ZFB"}  # 微信, 支付宝
WRITE_OFF_REFUSALS = {
    "unknown_bill": (3001, "账单不存在或不属于该户号"),
    "paid": (3002, "账单已缴清，请勿重复缴费"),
    "amount": (3003, "缴费金额与应缴金额不符"),
    "reused": (3004, "缴费流水号已使用"),
}
_tokens = twin_kit.TokenBook(make_token=lambda: secrets.token_urlsafe(24))
# The tests' controls: let every token handed out so far lapse; count the tokens handed out.
expire_tokens, issued_tokens = _tokens.expire_all, _tokens.issued


def reset() -> None:
    _tokens.clear()
    twin_data.reset()


@blueprint.post("/oauth/token")
def token():
    form = request.form
    if form.get("grant_type") != "client_credentials":
        return jsonify(error="unsupported_grant_type", error_description="grant_type must be client_credentials"), 400
    right_id = form.get("client_id", "") == keyring.cloud_app_key(CLOUD)
    right_secret = hmac.compare_digest(form.get("client_secret", ""), keyring.cloud_app_secret(CLOUD))
    if not (right_id and right_secret):
        return jsonify(error="invalid_client", error_description="Bad client credentials"), 401
    issued, lifetime = _tokens.issue()
    answer = {"access_token": issued, "token_type": "bearer", "expires_in": lifetime, "scope": "bill usage"}
    return jsonify(answer)


def _token_refusal():
    given = request.headers.get("Authorization", "")
    token = given[7:] if given.startswith("Bearer ") else ""
    state = _tokens.state(token)
    if state == "unknown":
        return jsonify(error="invalid_token", error_description="Invalid access token"), 401
    if state == "expired":
        return jsonify(error="invalid_token", error_description="Access token expired"), 401
    return None


def _answer(data: dict):
    return jsonify(code=0, msg="success", data=data, ts=f"{datetime.now(BEIJING):%Y%m%d%H%M%S}")


def _error(code: int, msg: str):
    return jsonify(code=code, msg=msg, data=None, ts=f"{datetime.now(BEIJING):%Y%m%d%H%M%S}")


def _account(args):
    """(account, None) or (None, the twin's error answer)."""
    biz_type, number = str(args.get("bizType") or ""), str(args.get("accountNo") or "")
    if not biz_type or not number:
        return None, _error(1001, "缺少必要参数")
    if biz_type not in twin_data.UTILITIES:
        return None, _error(1002, "不支持的业务类型")
    if not re.fullmatch(rf"[0-9]{{{twin_data.UTILITIES[biz_type].digits}}}", number):
        return None, _error(2002, "户号格式不正确")
    account = twin_data.find_account(biz_type, number)
    if account is None:
        return None, _error(2001, "户号不存在，请核对后重新输入")
    return account, None


def _masked_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


def _masked_address(address: str) -> str:
    return re.sub(r"[0-9]", "*", address)


def _yuan(amount) -> str:
    return f"{amount:.2f}"


@blueprint.get("/api/v2/bill/query")
def bill_query():
    refusal = _token_refusal()
    if refusal is not None:
        return refusal
    account, error = _account(request.args)
    if error is not None:
        return error
    today = datetime.now(BEIJING).date()
    bills = twin_data.bills_of(account, today)
    used, _ = twin_data.month_use(account, bills[0]["month"])
    owed = sum(b["amount"] + b["late_fee"] for b in bills if b["state"] != "1")
    return _answer(
        {
            "orgName": twin_data.COMPANIES[account.utility.code],
            "bizType": account.utility.biz_type,
            "accountNo": account.number,
            "custName": _masked_name(account.holder),
            "custAddr": _masked_address(account.address),
            "curYm": f"{bills[0]['month']:%Y%m}",
            "curQty": str(used),
            "qtyUnit": account.utility.unit,
            "oweAmt": _yuan(owed),
            "billList": [
                {
                    "billNo": b["number"],
                    "billYm": f"{b['month']:%Y%m}",
                    "billAmt": _yuan(b["amount"]),
                    "lateFee": _yuan(b["late_fee"]),
                    "dueDate": f"{b['due']:%Y%m%d}",
                    "payState": b["state"],
                }
                for b in bills
            ],
        }
    )


@blueprint.get("/api/v2/usage/history")
def usage_history():
    refusal = _token_refusal()
    if refusal is not None:
        return refusal
    account, error = _account(request.args)
    if error is not None:
        return error
    try:
        page = max(int(request.args.get("pageNum", "1")), 1)
        size = min(max(int(request.args.get("pageSize", str(MAX_PAGE_SIZE))), 1), MAX_PAGE_SIZE)
    except ValueError:
        return _error(1003, "分页参数错误")
    months = twin_data.periods(datetime.now(BEIJING).date(), USAGE_MONTHS)
    rows = []
    for month in months[(page - 1) * size : page * size]:
        used, amount = twin_data.month_use(account, month)
        rows.append({"ym": f"{month:%Y%m}", "qty": str(used), "unit": account.utility.unit, "amt": _yuan(amount)})
    pages = -(-len(months) // size)
    return _answer({"pageNum": page, "pageSize": size, "total": len(months), "pages": pages, "list": rows})


def _posted_account():
    """(refusal or None, body, account): a POST with a valid token whose JSON body names the account."""
    refusal = _token_refusal()
    if refusal is not None:
        return refusal, None, None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(1001, "缺少必要参数"), None, None
    account, error = _account(body)
    return error, body, account


@blueprint.post("/api/v2/account/verify")
def account_verify():
    refusal, body, account = _posted_account()
    if refusal is not None:
        return refusal
    if str(body.get("custName") or "").strip() != account.holder:
        return _error(2003, "户名与户号不一致")
    return _answer(
        {
            "bizType": account.utility.biz_type,
            "accountNo": account.number,
            "custName": _masked_name(account.holder),
            "custAddr": _masked_address(account.address),
        }
    )


def _write_off_fields(body: dict):
    """(bill numbers, amount, payNo) of a write-off, or None when a field is missing or malformed."""
    amount = str(body.get("payAmt") or "")
    if not re.fullmatch(r"[0-9]{1,9}\.[0-9]{2}", amount):
        return None
    fields = twin_kit.payment_fields(
        body, bills="billNos", serial="payNo", channel="payChannel", channels=PAY_CHANNELS, channel_no="tradeNo",
        paid_at="payTime", time_format="%Y%m%d%H%M%S",
    )  # fmt: skip
    return None if fields is None else (fields[0], Decimal(amount), fields[1])


@blueprint.post("/api/v2/bill/writeoff")
def bill_writeoff():
    refusal, body, account = _posted_account()
    if refusal is not None:
        return refusal
    fields = _write_off_fields(body)
    if fields is None:
        return _error(1004, "参数格式错误")
    numbers, amount, pay_no = fields
    try:
        receipt = twin_data.write_off(account, numbers, amount, pay_no, datetime.now(BEIJING).date())
    except twin_kit.Busy:
        return _error(9999, "系统繁忙，请稍后再试")
    except twin_kit.Refused as refused:
        return _error(*WRITE_OFF_REFUSALS[refused.kind])
    return _answer(
        {
            "payNo": pay_no,
            "writeOffNo": receipt.number,
            "writeOffTime": f"{receipt.at:%Y%m%d%H%M%S}",
            "billNos": sorted(receipt.bills),
        }
    )


@blueprint.post("/_control/paid-elsewhere")
def paid_elsewhere():
    """The sandbox's control, not the company's: a bill paid at a counter, so a later write-off is refused."""
    return twin_kit.paid_elsewhere_control(_pay_at_counter)


def _pay_at_counter(number: str, bill: str) -> bool:
    utility = twin_data.UTILITIES.get(bill[:2])
    account = twin_data.find_account(utility.biz_type, number) if utility and number.isdigit() else None
    return account is not None and twin_data.pay_elsewhere(account, bill, datetime.now(BEIJING).date())
