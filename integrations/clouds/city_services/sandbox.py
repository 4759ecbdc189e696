"""Twin of the city services cloud (城市服务云, 经信委): the 12345 hotline's work orders and the procedure guides.

Its own manners: requests signed in headers X-Zw-Key, X-Zw-Timestamp (epoch millis), X-Zw-Nonce and
X-Zw-Signature (base64 HMAC-SHA256 over method, path, sorted query, timestamp, nonce and the body's SHA-256,
one per line); answers {"head": {"rtnCode": "000000", "rtnMsg": "交易成功", "respTime": <millis>}, "body": ...},
refused signatures as HTTP 401 with rtnCode ZW04xx, question errors as HTTP 200 with ZW14xx; times are epoch
millis; guide searches are paged by an opaque cursor (`nextCursor`, null on the last page).

Work orders are ZZ + year + month + a four-digit sequence (ZZ2026112001); their story derives from the number
and unfolds with the clock. Numbers ending in 0, and orders not accepted yet, are unknown.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import datetime, timedelta

from flask import Blueprint, jsonify, request

from app.clock import CITY_TZ
from integrations.clouds.city_services import twin_data
from integrations.sandbox import keyring, twin_kit

CLOUD = "city_services"
blueprint = Blueprint("city_services_twin", __name__)
MAX_PAGE_SIZE = 5
HOTLINE = "枣庄市12345政务服务便民热线"
# 诉求类型 → (title, handling unit, days to answer)
ORDERS = {
    "咨询": (
        ("咨询新生儿医保参保办理流程", "枣庄市医疗保障局", 1),
        ("咨询住房公积金异地贷款政策", "枣庄市住房公积金管理中心", 2),
        ("咨询居住证办理所需材料", "枣庄市公安局", 1),
    ),
    "投诉": (
        ("反映小区周边夜间施工噪音扰民", "市中区住房和城乡建设局", 5),
        ("反映道路积水影响通行", "枣庄市城市管理局", 4),
        ("反映商户长期占道经营", "薛城区综合行政执法局", 5),
    ),
    "建议": (
        ("建议增设公交线路站点", "枣庄市交通运输局", 10),
        ("建议公园增设健身器材", "枣庄市城市管理局", 10),
    ),
    "求助": (
        ("求助小区停水原因及恢复时间", "枣庄市自来水公司(示例)", 1),
        ("求助小区路灯损坏维修", "枣庄市城市管理局", 3),
    ),
}
STATUS_NAMES = {"1": "已受理", "2": "已转办", "3": "办理中", "4": "已办结", "5": "已回访"}

_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _reply(body, rtn_code: str = "000000", rtn_msg: str = "交易成功", status: int = 200):
    head = {"rtnCode": rtn_code, "rtnMsg": rtn_msg, "respTime": _millis(datetime.now(CITY_TZ))}
    return jsonify(head=head, body=body), status


def _check_signature():
    """None when the request is signed by the city's app; otherwise the twin's refusal."""
    headers = request.headers
    if headers.get("X-Zw-Key") != keyring.cloud_app_key(CLOUD):
        return _reply(None, "ZW0401", "应用标识无效", 401)
    timestamp, nonce = headers.get("X-Zw-Timestamp", ""), headers.get("X-Zw-Nonce", "")
    # Digits only: the platform takes no sign or spaces in its timestamps.
    if not timestamp.isdigit() or twin_kit.timestamp_problem(timestamp, millis=True):
        return _reply(None, "ZW0402", "请求时间戳无效或已过期", 401)
    query = "&".join(f"{key}={value}" for key, value in sorted(request.args.items()))
    path = request.root_path + request.path  # as signed: under make run the sandbox sits below /_sandbox
    digest = hashlib.sha256(request.get_data()).hexdigest()
    text = "\n".join((request.method, path, query, timestamp, nonce, digest))
    mac = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), text.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(headers.get("X-Zw-Signature", ""), base64.b64encode(mac).decode()):
        return _reply(None, "ZW0403", "签名验证失败", 401)
    if _nonces.seen_before(nonce):
        return _reply(None, "ZW0404", "重复的请求", 401)
    return None


def _order(number: str, now: datetime) -> dict | None:
    shape = re.fullmatch(r"ZZ([0-9]{4})([0-9]{2})([0-9]{4})", number)
    if shape is None or number.endswith("0") or not 1 <= int(shape[2]) <= 12:
        return None
    seq = int(shape[3])
    accepted = datetime(int(shape[1]), int(shape[2]), 1, tzinfo=CITY_TZ) + timedelta(
        days=seq % 27, hours=9, minutes=seq * 13 % 480
    )
    if accepted > now:
        return None
    seed = int(hashlib.sha256(number.encode()).hexdigest()[:8], 16)
    kind = tuple(ORDERS)[seed % len(ORDERS)]
    title, unit, days = ORDERS[kind][(seed >> 4) % len(ORDERS[kind])]
    story = (
        ("1", timedelta(0), HOTLINE, f"话务员受理市民{kind}诉求"),
        ("2", timedelta(minutes=30), HOTLINE, f"转办至{unit}"),
        ("3", timedelta(hours=3), unit, "承办单位已签收，正在办理"),
        ("4", timedelta(days=days, hours=2), unit, "已办结并答复市民"),
        ("5", timedelta(days=days + 1, hours=3), HOTLINE, "回访市民，对办理结果表示满意"),
    )
    steps = [(code, accepted + after, who, what) for code, after, who, what in story if accepted + after <= now]
    replied = next((at for code, at, _, _ in steps if code == "4"), None)
    return {
        "gdbh": number,
        "bt": title,
        "sqlx": kind,
        "gdzt": steps[-1][0],
        "gdztmc": STATUS_NAMES[steps[-1][0]],
        "slsj": _millis(accepted),
        "hfsj": None if replied is None else _millis(replied),
        "cbdw": unit,
        "lzjl": [{"czsj": _millis(at), "czdw": who, "czms": what} for _, at, who, what in steps],
    }


@blueprint.get("/zwfw/12345/gd/detail")
def order_detail():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    number = request.args.get("gdbh", "")
    if not re.fullmatch(r"ZZ[0-9]{10}", number):
        return _reply(None, "ZW1400", "工单编号格式错误")
    order = _order(number, datetime.now(CITY_TZ))
    if order is None:
        return _reply(None, "ZW1404", "未查询到该工单信息")
    return _reply(order)


def _offset(cursor: str) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(text[2:]) if re.fullmatch(r"o:[0-9]{1,4}", text) else None


@blueprint.get("/zwfw/guide/search")
def guide_search():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    keyword = request.args.get("kw", "").strip()
    offset = _offset(request.args.get("cursor", ""))
    if not keyword or len(keyword) > 20:
        return _reply(None, "ZW1400", "关键词不能为空且不超过20字")
    if offset is None:
        return _reply(None, "ZW1400", "游标无效")
    try:
        size = min(max(int(request.args.get("size", str(MAX_PAGE_SIZE))), 1), MAX_PAGE_SIZE)
    except ValueError:
        return _reply(None, "ZW1400", "分页参数错误")
    found = twin_data.search(keyword)
    page = found[offset : offset + size]
    after = offset + len(page)
    cursor = base64.urlsafe_b64encode(f"o:{after}".encode()).decode() if after < len(found) else None
    return _reply({"total": len(found), "items": page, "nextCursor": cursor})
