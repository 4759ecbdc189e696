"""Twin of the community cloud (智慧社区云, 民政局 and 住建局): the community directory and property fees.

Its own manners: a signed query string (app_key, timestamp in seconds, nonce, upper-case HMAC-SHA256 hex
`sign` over the sorted query; a body is bound by its SHA-256 in `content_sha256`); success is HTTP 200
{"success": true, "result": {...}, "serverTime": "yyyy-MM-dd HH:mm:ss"}, a refusal an HTTP 4xx
{"success": false, "errCode": "...", "errMsg": "..."}; pinyin-initial field names (sqmc 社区名称,
zhbh 账户编号…), money in yuan as numbers, dates "yyyy-MM-dd", bill states in words (未缴/已缴/逾期),
and the directory paged by offset/limit.

Write-off (销账): POST /open/v1/property/payment/writeoff {zhbh, zdbh [bill numbers], jfje, jylsh our payment's
serial, zffs 微信 or 支付宝, zfdh the channel's transaction number, jfsj "yyyy-MM-dd HH:mm:ss"} answers
{jylsh, xzdh 销账单号, xzsj, zdbh}; the same jylsh again answers its first write-off. Refusals: 404
BILL_NOT_FOUND, 409 BILL_ALREADY_PAID, 422 AMOUNT_MISMATCH (jfje not what the bills owe), 409 SERIAL_REUSED
(the jylsh used for other bills or another amount); 503 SYSTEM_BUSY. The sandbox's control, unsigned:
POST /_control/paid-elsewhere {account_no, bill_id} marks a bill paid at the property office.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, jsonify, request

from app.clock import CITY_TZ
from integrations.clouds.community import twin_data
from integrations.sandbox import keyring, twin_kit

CLOUD = "community"
blueprint = Blueprint("community_twin", __name__)
MAX_LIMIT = 10
PAY_WAYS = {"微信", "支付宝"}  # zffs 支付方式
WRITE_OFF_REFUSALS = {
    "unknown_bill": (404, "BILL_NOT_FOUND", "未查询到该账单"),
    "paid": (409, "BILL_ALREADY_PAID", "账单已缴清，请勿重复缴费"),
    "amount": (422, "AMOUNT_MISMATCH", "缴费金额与应缴金额不符"),
    "reused": (409, "SERIAL_REUSED", "交易流水号已使用"),
}
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()
    twin_data.reset()


def _refuse(status: int, code: str, message: str):
    return jsonify(success=False, errCode=code, errMsg=message), status


def _answer(result: dict):
    return jsonify(success=True, result=result, serverTime=f"{datetime.now(CITY_TZ):%Y-%m-%d %H:%M:%S}")


def _check_signature():
    """None when the query string (and body) is signed by the city's app; otherwise the twin's refusal."""
    params = request.args.to_dict()
    given = params.pop("sign", "")
    if params.get("app_key") != keyring.cloud_app_key(CLOUD):
        return _refuse(401, "AUTH_APP_KEY", "app_key 不存在")
    problem = twin_kit.timestamp_problem(params.get("timestamp", ""))
    if problem is not None:
        return _refuse(401, "AUTH_TIMESTAMP", "timestamp 格式错误" if problem == "malformed" else "请求时间戳已过期")
    body = request.get_data()
    if body and params.get("content_sha256") != hashlib.sha256(body).hexdigest():
        return _refuse(401, "AUTH_BODY", "请求体摘要不符")
    canonical = "&".join(f"{key}={params[key]}" for key in sorted(params))
    expected = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), canonical.encode(), hashlib.sha256)
    if not hmac.compare_digest(given, expected.hexdigest().upper()):
        return _refuse(401, "AUTH_SIGN", "签名校验失败")
    if _nonces.seen_before(params.get("nonce", "")):
        return _refuse(401, "AUTH_NONCE", "请求重复")
    return None


@blueprint.get("/open/v1/communities")
def communities():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    district = request.args.get("qxdm", "")
    if district and district not in twin_data.DISTRICT_NAMES:
        return _refuse(404, "REGION_NOT_FOUND", "行政区划代码不存在")
    try:
        offset = max(int(request.args.get("offset", "0")), 0)
        limit = min(max(int(request.args.get("limit", str(MAX_LIMIT))), 1), MAX_LIMIT)
    except ValueError:
        return _refuse(400, "PARAM_INVALID", "分页参数错误")
    found = [c for c in twin_data.COMMUNITIES if not district or c.district == district]
    rows = [
        {
            "sqbm": c.code,
            "sqmc": c.name,
            "qxdm": c.district,
            "qxmc": twin_data.DISTRICT_NAMES[c.district],
            "dz": c.address,
            "bgdh": c.office_phone,
            "wygs": c.property_company,
            "wyrx": c.property_hotline,
        }
        for c in found[offset : offset + limit]
    ]
    rebuilt = twin_kit.last_daily_at(2)  # from the district offices' returns, every night at two
    page = {"total": len(found), "offset": offset, "limit": limit, "rows": rows}
    return _answer(page | {"gxsj": f"{rebuilt:%Y-%m-%d %H:%M:%S}"})


def _masked(owner: str) -> str:
    return owner[0] + "*" * (len(owner) - 1)


def _account_or_refusal(number: str):
    if not re.fullmatch(r"[A-Z]{2}[0-9]{4,10}", number):
        return None, _refuse(400, "PARAM_INVALID", "账户编号格式错误")
    account = twin_data.find_account(number)
    if account is None:
        return None, _refuse(404, "ACCOUNT_NOT_FOUND", "未查询到该物业账户")
    return account, None


@blueprint.get("/open/v1/property/bills")
def property_bills():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    account, refusal = _account_or_refusal(request.args.get("zhbh", ""))
    if refusal is not None:
        return refusal
    bills = twin_data.bills_of(account, datetime.now(CITY_TZ).date())
    community = account.community
    return _answer(
        {
            "zhbh": account.number,
            "yzxm": _masked(account.owner),
            "fwdz": f"{community.name}{re.sub('[0-9]', '*', account.room)}",
            "sqbm": community.code,
            "sqmc": community.name,
            "wygs": community.property_company,
            "wyrx": community.property_hotline,
            "qfze": float(sum(b["amount"] for b in bills if b["state"] != "已缴")),
            "zdlb": [
                {
                    "zdbh": b["number"],
                    "zdqj": f"{b['month']:%Y-%m}",
                    "yjje": float(b["amount"]),
                    "jzrq": f"{b['due']:%Y-%m-%d}",
                    "jfzt": b["state"],
                }
                for b in bills
            ],
        }
    )


def _posted_account(required: tuple[str, ...], missing: str):
    """(refusal or None, body, account): a signed POST whose JSON body has the `required` fields (else the
    `missing` words) and names the account in zhbh."""
    refusal = _check_signature()
    if refusal is not None:
        return refusal, None, None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(body.get(field) for field in required):
        return _refuse(400, "PARAM_INVALID", missing), None, None
    account, refusal = _account_or_refusal(str(body["zhbh"]))
    return refusal, body, account


@blueprint.post("/open/v1/property/owner/check")
def owner_check():
    refusal, body, account = _posted_account(("zhbh", "yzxm"), "缺少账户编号或业主姓名")
    if refusal is not None:
        return refusal
    if str(body["yzxm"]).strip() != account.owner:
        return _refuse(403, "OWNER_MISMATCH", "业主姓名与账户信息不符")
    room = re.sub("[0-9]", "*", account.room)
    return _answer({"zhbh": account.number, "yzxm": _masked(account.owner), "fwdz": f"{account.community.name}{room}"})


def _write_off_fields(body: dict):
    """(bill numbers, amount, jylsh), or None when a field is missing or malformed."""
    amount = body.get("jfje")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return None
    yuan = Decimal(str(amount))  # through str: the float 0.1 is not quite a tenth
    if not yuan.is_finite() or yuan <= 0 or yuan != yuan.quantize(Decimal("0.01")):
        return None
    fields = twin_kit.payment_fields(
        body, bills="zdbh", serial="jylsh", channel="zffs", channels=PAY_WAYS, channel_no="zfdh", paid_at="jfsj",
        time_format="%Y-%m-%d %H:%M:%S",
    )  # fmt: skip
    return None if fields is None else (fields[0], yuan, fields[1])


@blueprint.post("/open/v1/property/payment/writeoff")
def payment_writeoff():
    refusal, body, account = _posted_account(("zhbh",), "缺少账户编号")
    if refusal is not None:
        return refusal
    fields = _write_off_fields(body)
    if fields is None:
        return _refuse(400, "PARAM_INVALID", "缴费信息不完整或格式错误")
    try:
        receipt = twin_data.write_off(account, *fields, datetime.now(CITY_TZ).date())
    except twin_kit.Busy:
        return _refuse(503, "SYSTEM_BUSY", "系统繁忙，请稍后重试")
    except twin_kit.Refused as refused:
        return _refuse(*WRITE_OFF_REFUSALS[refused.kind])
    return _answer(
        {
            "jylsh": fields[2],
            "xzdh": receipt.number,
            "xzsj": f"{receipt.at:%Y-%m-%d %H:%M:%S}",
            "zdbh": sorted(receipt.bills),
        }
    )


@blueprint.post("/_control/paid-elsewhere")
def paid_elsewhere():
    """The sandbox's control, not the platform's: a bill paid at the property office, so a later write-off is
    refused."""
    return twin_kit.paid_elsewhere_control(_pay_at_office, upper=True)


def _pay_at_office(number: str, bill: str) -> bool:
    account = twin_data.find_account(number)
    return account is not None and twin_data.pay_elsewhere(account, bill, datetime.now(CITY_TZ).date())
