"""Twin of the social security cloud (智慧社保云, 人社局): insurances, contributions, pension accounts, cards.

Its own manners: requests signed in X-Hrss-* headers (key, timestamp in milliseconds, nonce, base64
HMAC-SHA256 over method, path, sorted query, timestamp, nonce and the body's SHA-256); every question a
POST whose JSON body names the person in the national social insurance codes (aac003 姓名, aac002 公民身份
号码); answers HTTP 200 as {"retcode": "000000", "retmsg": ..., "cxsj": yyyyMMddHHmmss, "outdata": {...}}
or a six-digit retcode (9001xx our credentials, 300001 no record, 300002 a malformed question, 300003
someone else's card); dates yyyyMMdd, months yyyyMM, money in yuan as strings with two decimals;
contribution records paged by `offset` and `limit` (at most 20).

Write-off (销账) of flexible-employment bills: POST /rsapi/lhjy/jfxz with the person, aaz500 the card, djlb the
bill numbers (djbh), jfje the amount, ywlsh our payment's serial, zfqd the channel (01 微信, 02 支付宝), zfjylsh
the channel's transaction number and jfsj yyyyMMddHHmmss; outdata {ywlsh, xzlsh 销账流水号, xzsj}. The same
ywlsh again answers its first write-off. Refusals: 300101 a bill not found, 300102 a bill already paid, 300103
jfje not what the bills owe, 300104 the ywlsh used for other bills or another amount; 999999 system busy.
The sandbox's control, unsigned: POST /_control/paid-elsewhere {account_no, bill_id} marks a bill paid at a
counter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask import Blueprint, jsonify, request

from integrations.clouds.social_security import twin_data as data
from integrations.sandbox import keyring, twin_kit

CLOUD = "social_security"
blueprint = Blueprint("social_security_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
MAX_LIMIT = 20
CARD = re.compile(r"^[A-Z0-9]{9,12}$")
CHANNELS = {"01", "02"}  # zfqd 支付渠道: 01 微信, 02 支付宝
WRITE_OFF_REFUSALS = {
    "unknown_bill": ("300101", "缴费单据不存在"),
    "paid": ("300102", "该期费用已缴纳，请勿重复缴费"),
    "amount": ("300103", "缴费金额与应缴金额不一致"),
    "reused": ("300104", "业务流水号重复"),
}
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()
    data.reset()


def _now() -> datetime:
    return datetime.now(BEIJING)


def _fail(retcode: str, retmsg: str):
    return jsonify(retcode=retcode, retmsg=retmsg, cxsj=f"{_now():%Y%m%d%H%M%S}", outdata=None)


def _ok(outdata: dict):
    return jsonify(retcode="000000", retmsg="交易成功", cxsj=f"{_now():%Y%m%d%H%M%S}", outdata=outdata)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _check_signature():
    """None when the request carries the city app's signature; otherwise the twin's refusal."""
    headers = request.headers
    if headers.get("X-Hrss-Key") != keyring.cloud_app_key(CLOUD):
        return _fail("900101", "接入方标识无效")
    timestamp, nonce = headers.get("X-Hrss-Timestamp", ""), headers.get("X-Hrss-Nonce", "")
    problem = twin_kit.timestamp_problem(timestamp, millis=True)
    if problem is not None:
        return _fail("900102", "时间戳无效" if problem == "malformed" else "请求时间戳已过期")
    query = request.args.to_dict()
    lines = (
        request.method.upper(),
        request.root_path + request.path,  # as signed: under make run the sandbox sits below /_sandbox
        "&".join(f"{key}={query[key]}" for key in sorted(query)),
        timestamp,
        nonce,
        hashlib.sha256(request.get_data()).hexdigest(),
    )
    mac = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), "\n".join(lines).encode(), hashlib.sha256)
    if not hmac.compare_digest(headers.get("X-Hrss-Signature", ""), base64.b64encode(mac.digest()).decode()):
        return _fail("900103", "签名验证失败")
    if _nonces.seen_before(nonce):
        return _fail("900104", "重复请求")
    return None


def _person():
    """(refusal or None, body, id number, the insured person): the signed body names the person."""
    refusal = _check_signature()
    if refusal is not None:
        return refusal, None, None, None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("aac003") or not body.get("aac002"):
        return _fail("300002", "参数校验失败：缺少人员信息"), None, None, None
    id_number = str(body["aac002"]).upper()
    person = data.PEOPLE.get(id_number)
    if person is None or person.name != body["aac003"]:
        return _fail("300001", "未查询到参保人员信息"), None, None, None
    return None, body, id_number, person


def _this_month() -> int:
    now = _now()
    return now.year * 12 + now.month - 1


@blueprint.post("/rsapi/cbxx/query")
def insured_info():
    refusal, _, _, person = _person()
    if refusal is not None:
        return refusal
    this_month = _this_month()
    rows = [
        {
            "aae140": i.code,
            "aae140_mc": data.INSURANCES[i.code],
            "aac008": i.status,
            "aae030": i.since,
            "aae180": _yuan(data.base_fen(person, min(data.last_paid(person, i, this_month), this_month))),
            "jfys": data.months_paid(person, i, this_month),
        }
        for i in person.insurances
    ]
    return _ok({"aab004": person.employer, "cbxx": rows})


@blueprint.post("/rsapi/jfxx/query")
def contributions():
    refusal, body, _, person = _person()
    if refusal is not None:
        return refusal
    try:
        year, offset = int(body.get("aae001", "")), int(body.get("offset", 0))
        limit = min(int(body.get("limit", MAX_LIMIT)), MAX_LIMIT)
    except (TypeError, ValueError):
        return _fail("300002", "参数校验失败：年度或分页参数无效")
    if not 2000 <= year <= 2100 or offset < 0 or limit < 1:
        return _fail("300002", "参数校验失败：年度或分页参数无效")
    rows = data.contribution_rows(person, year, _this_month())
    page = [
        {**row, "aae180": _yuan(row["aae180"]), "aae022": _yuan(row["aae022"]), "aae021": _yuan(row["aae021"])}
        for row in rows[offset : offset + limit]
    ]
    return _ok({"total": len(rows), "offset": offset, "limit": limit, "rows": page})


@blueprint.post("/rsapi/ylzh/query")
def pension_account():
    refusal, _, _, person = _person()
    if refusal is not None:
        return refusal
    account = data.pension_account(person, _this_month())
    if account is None:
        return _fail("300001", "未查询到养老保险个人账户")
    return _ok(
        {
            "grzhye": _yuan(account["balance"]),
            "grjfbj": _yuan(account["principal"]),
            "ljjfys": account["months"],
            "zhjzny": data.month_text(account["last"]),
        }
    )


def _own_card(body: dict, id_number: str):
    """The card's number, or a refusal: unknown cards and other people's are told apart."""
    card = str(body.get("aaz500", "")).upper()
    if not CARD.match(card):
        return None, _fail("300002", "参数校验失败：社会保障卡号格式错误")
    owner = data.CARDS.get(card)
    if owner is None:
        return None, _fail("300001", "社会保障卡号不存在")
    if owner != id_number:
        return None, _fail("300003", "社会保障卡与本人身份信息不符")
    return card, None


def _card_holder():
    """(refusal or None, body, the insured person, the card): the signed body names the person and their card."""
    refusal, body, id_number, person = _person()
    if refusal is not None:
        return refusal, None, None, None
    card, refusal = _own_card(body, id_number)
    return refusal, body, person, card


@blueprint.post("/rsapi/sbk/hy")
def verify_card():
    refusal, _, person, card = _card_holder()
    if refusal is not None:
        return refusal
    return _ok(
        {"aaz500": card, "aac003": person.name[0] + "*" * (len(person.name) - 1), "kzt": "1", "yhmc": person.bank}
    )


@blueprint.post("/rsapi/lhjy/qfmx")
def flexible_bills():
    refusal, _, person, card = _card_holder()
    if refusal is not None:
        return refusal
    if person.flexible_since is None:
        return _fail("300001", "未查询到灵活就业人员参保登记")
    this_month, today = _this_month(), _now().date()
    rows, due = [], 0
    for bill in data.flexible_bills(person, this_month):
        period = data.month_text(bill["month"])
        following = bill["month"] + 1  # due by the last day of the month billed
        last_day = datetime(following // 12, following % 12 + 1, 1).date() - timedelta(days=1)
        status = "1" if not bill["owed"] else ("2" if last_day < today else "0")
        due += bill["amount"] if bill["owed"] else 0
        rows.append(
            {
                "djbh": bill["number"],
                "aae002": period,
                "yjje": _yuan(bill["amount"]),
                "jfjzrq": f"{last_day:%Y%m%d}",
                "jfzt": status,  # 0 未缴, 1 已缴, 2 逾期未缴
            }
        )
    return _ok({"aaz500": card, "qfze": _yuan(due), "rows": rows})


def _write_off_fields(body: dict):
    """(bill numbers, amount in fen, ywlsh), or None when a field is missing or malformed."""
    amount = str(body.get("jfje") or "")
    if not re.fullmatch(r"[0-9]{1,9}\.[0-9]{2}", amount):
        return None
    fields = twin_kit.payment_fields(
        body, bills="djlb", serial="ywlsh", channel="zfqd", channels=CHANNELS, channel_no="zfjylsh", paid_at="jfsj",
        time_format="%Y%m%d%H%M%S",
    )  # fmt: skip
    return None if fields is None else (fields[0], int(Decimal(amount) * 100), fields[1])


@blueprint.post("/rsapi/lhjy/jfxz")
def flexible_write_off():
    refusal, body, person, _ = _card_holder()  # the card must be the person's own
    if refusal is not None:
        return refusal
    if person.flexible_since is None:
        return _fail("300001", "未查询到灵活就业人员参保登记")
    fields = _write_off_fields(body)
    if fields is None:
        return _fail("300002", "参数校验失败：缴费信息不完整或格式错误")
    try:
        receipt = data.write_off(person, *fields, _this_month())
    except twin_kit.Busy:
        return _fail("999999", "系统繁忙，请稍后重试")
    except twin_kit.Refused as refused:
        return _fail(*WRITE_OFF_REFUSALS[refused.kind])
    return _ok({"ywlsh": fields[2], "xzlsh": receipt.number, "xzsj": f"{receipt.at:%Y%m%d%H%M%S}"})


@blueprint.post("/_control/paid-elsewhere")
def paid_elsewhere():
    """The sandbox's control, not the department's: a bill paid at a counter, so a later write-off is refused."""
    return twin_kit.paid_elsewhere_control(_pay_at_counter, upper=True, of="card")


def _pay_at_counter(card: str, bill: str) -> bool:
    person = data.PEOPLE.get(data.CARDS.get(card, ""))
    flexible = person is not None and person.flexible_since is not None
    return flexible and data.pay_elsewhere(person, bill, _this_month())
