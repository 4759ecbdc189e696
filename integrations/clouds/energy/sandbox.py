"""Twin of the energy cloud (智慧节能云): the water, power and gas companies' customer service gateway.

Its own manners: an OAuth-like token endpoint (POST /oauth/token, form fields grant_type=client_credentials,
client_id, client_secret; tokens live 7200 s) and `Authorization: Bearer` on every call; a missing, unknown
or expired token is HTTP 401 {"error": "invalid_token"}. Business answers are HTTP 200
{"code": 0, "msg": "success", "data": {...}, "ts": "yyyyMMddHHmmss"}, with a non-zero `code` for errors;
the line of business is `bizType` SW (水务), DL (电力) or RQ (燃气); months are "yyyyMM", dates "yyyyMMdd",
money is yuan as a string with two decimals; usage history is paged by pageNum/pageSize.
Accounts, use and bills are in twin_data.py.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

from flask import Blueprint, jsonify, request

from integrations.clouds.energy import twin_data
from integrations.clouds.energy.twin_data import BEIJING, UTILITIES
from integrations.sandbox import keyring, twin_kit

CLOUD = "energy"
blueprint = Blueprint("energy_twin", __name__)
MAX_PAGE_SIZE = 5
USAGE_MONTHS = 12
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
    if biz_type not in UTILITIES:
        return None, _error(1002, "不支持的业务类型")
    if not re.fullmatch(rf"[0-9]{{{UTILITIES[biz_type].digits}}}", number):
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


@blueprint.post("/api/v2/account/verify")
def account_verify():
    refusal = _token_refusal()
    if refusal is not None:
        return refusal
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(1001, "缺少必要参数")
    account, error = _account(body)
    if error is not None:
        return error
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
