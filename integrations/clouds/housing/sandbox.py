"""Twin of the housing cloud (智慧住建云): the housing provident fund centre's (住房公积金管理中心) open API.

Its own manners: an access token from POST /gjjapi/auth/accessToken ({"appKey", "appSecret"}), valid
7200 s, sent in an `Access-Token` header; answers {"errcode": 0, "errmsg": "ok", "data": {...}, "timestamp":
epoch ms} and refusals with a real HTTP status and the same envelope (401 with 40001 bad credentials,
40014 invalid token, 42001 expired token; 400 with 41001 a malformed question; 403 with 43001 someone
else's account; 404 with 44001/44002 no record); personal questions name the person in the JSON body
(xingming, zjhm); dates yyyy/MM/dd, step times epoch milliseconds, money in yuan as JSON numbers; account
movements paged by an opaque cursor (`cursor`, `pageSize` at most 10, answered `nextCursor`, `hasMore`).
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import time
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.housing import twin_data as data
from integrations.sandbox import keyring, twin_kit

CLOUD = "housing"
blueprint = Blueprint("housing_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
MAX_PAGE_SIZE = 10
ACCOUNT = re.compile(r"^[0-9]{8,20}$")
_tokens = twin_kit.TokenBook(make_token=lambda: secrets.token_urlsafe(24))
# The tests' controls: let every token handed out so far lapse; count the tokens handed out.
expire_tokens, tokens_issued = _tokens.expire_all, _tokens.issued


def reset() -> None:
    _tokens.clear()


def _answer(status: int, errcode: int, errmsg: str, payload: dict | None = None):
    body = {"errcode": errcode, "errmsg": errmsg, "timestamp": int(time.time() * 1000)}
    if payload is not None:
        body["data"] = payload
    return jsonify(body), status


def _ok(payload: dict):
    return _answer(200, 0, "ok", payload)


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


@blueprint.post("/gjjapi/auth/accessToken")
def access_token():
    body = request.get_json(silent=True) or {}
    key_ok = hmac.compare_digest(str(body.get("appKey", "")), keyring.cloud_app_key(CLOUD))
    secret_ok = hmac.compare_digest(str(body.get("appSecret", "")), keyring.cloud_app_secret(CLOUD))
    if not (key_ok and secret_ok):
        return _answer(401, 40001, "appKey或appSecret错误")
    token, lifetime = _tokens.issue()
    return _ok({"accessToken": token, "expiresIn": lifetime})


def _caller():
    """(refusal, body, id number): a valid token, then the person the JSON body names."""
    state = _tokens.state(request.headers.get("Access-Token", ""))
    if state == "unknown":
        return _answer(401, 40014, "无效的access_token"), None, None
    if state == "expired":
        return _answer(401, 42001, "access_token已过期"), None, None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("xingming") or not body.get("zjhm"):
        return _answer(400, 41001, "参数错误：缺少xingming或zjhm"), None, None
    return None, body, str(body["zjhm"]).upper()


def _person():
    """(refusal or None, body, id number, the depositor)."""
    refusal, body, id_number = _caller()
    if refusal is not None:
        return refusal, None, None, None
    person = data.DEPOSITORS.get(id_number)
    if person is None or person.name != body["xingming"]:
        return _answer(404, 44001, "未查询到住房公积金缴存信息"), None, None, None
    return None, body, id_number, person


def _today() -> date:
    return datetime.now(BEIJING).date()


def _updated_at() -> int:
    """The nightly batch from the banks lands at 01:30: the account data is as of then."""
    return int(twin_kit.last_daily_at(1, 30).timestamp() * 1000)


@blueprint.post("/gjjapi/grzh/info")
def account_info():
    refusal, _, _, person = _person()
    if refusal is not None:
        return refusal
    last = person.last_deposit or f"{_today():%Y%m}"
    return _ok(
        {
            "grzh": person.account,
            "xingming": person.name,
            "grzhzt": person.status,
            "zhye": _yuan(person.balance_fen),
            "jcjs": float(person.base_yuan),
            "grjcbl": f"{person.rate}%",
            "dwjcbl": f"{person.rate}%",
            "yjce": _yuan(data.monthly_deposit_fen(person)) if person.status == "1" else 0.0,
            "jzny": f"{last[:4]}-{last[4:]}",
            "dwmc": person.employer,
            "gxsj": _updated_at(),
        }
    )


@blueprint.post("/gjjapi/grzh/mx")
def movements():
    refusal, body, _, person = _person()
    if refusal is not None:
        return refusal
    try:
        start = datetime.strptime(str(body.get("qsrq", "")), "%Y/%m/%d").date()
        end = datetime.strptime(str(body.get("zzrq", "")), "%Y/%m/%d").date()
        size = min(int(body.get("pageSize", MAX_PAGE_SIZE)), MAX_PAGE_SIZE)
        cursor = str(body.get("cursor") or "")
        position = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("mx:")) if cursor else 0
    except (TypeError, ValueError):
        return _answer(400, 41001, "参数错误：日期或游标无效")
    if start > end or size < 1 or position < 0 or (end - start).days > 3 * 366:
        return _answer(400, 41001, "参数错误：查询区间无效")
    rows = [row for row in data.ledger(person, _today()) if start <= row["day"] <= end]
    page = rows[position : position + size]
    after = position + len(page)
    more = after < len(rows)
    return _ok(
        {
            "grzh": person.account,
            "list": [
                {
                    "jyrq": f"{row['day']:%Y/%m/%d}",
                    "ywlx": row["kind"],
                    "fse": _yuan(row["amount"]),
                    "ye": _yuan(row["balance"]),
                    "zy": row["summary"],
                }
                for row in page
            ],
            "hasMore": more,
            "nextCursor": base64.urlsafe_b64encode(f"mx:{after}".encode()).decode() if more else "",
            "gxsj": _updated_at(),
        }
    )


@blueprint.post("/gjjapi/dk/jd")
def loan_progress():
    refusal, _, _, person = _person()
    if refusal is not None:
        return refusal
    return _ok({"list": [data.loan_record(loan, _today()) for loan in person.loans]})


@blueprint.post("/gjjapi/grzh/hy")
def verify_account():
    refusal, body, id_number = _caller()
    if refusal is not None:
        return refusal
    account = str(body.get("grzh", ""))
    if not ACCOUNT.match(account):
        return _answer(400, 41001, "参数错误：个人账号格式不正确")
    owner = data.ACCOUNTS.get(account)
    if owner is None:
        return _answer(404, 44002, "个人账号不存在")
    person = data.DEPOSITORS[owner]
    if owner != id_number or person.name != body["xingming"]:
        return _answer(403, 43001, "该账号不属于本人")
    return _ok({"grzh": account, "xingming": person.name, "grzhzt": person.status, "dwmc": person.employer})
