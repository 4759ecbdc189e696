"""Twin of the food and drug cloud (智慧食药云, 食药监局): business licences and recall notices.

Its own manners: requests signed in X-Fda-* headers (key, timestamp in milliseconds, nonce, base64
HMAC-SHA256 over method, path, sorted query, timestamp, nonce and the body's SHA-256); answers HTTP 200
as {"success": true, "code": "00", "msg": ..., "result": {...}}, or "success": false with a two-digit
code (01-02 our credentials, 03 a malformed question, 04 no such record); pinyin field names, dates
yyyy-MM-dd, data synchronised from the provincial licence system nightly at 02:00; recalls paged by
`page` and `size` (at most 10).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from flask import Blueprint, jsonify, request

from integrations.clouds.food_drug import twin_data
from integrations.sandbox import keyring, twin_kit

CLOUD = "food_drug"
blueprint = Blueprint("food_drug_twin", __name__)
LICENCE_NO = re.compile(r"^(JY[0-9]{14}|[\u4e00-\u9fa5][AB][A-D][0-9]{7,9})$")
CATEGORIES = {"SP", "YP", "YLQX"}
MAX_SIZE = 10
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _fail(code: str, msg: str):
    return jsonify(success=False, code=code, msg=msg, result=None)


def _ok(result: dict):
    return jsonify(success=True, code="00", msg="查询成功", result=result)


def _check_signature():
    """None when the request carries the city app's signature; otherwise the twin's refusal."""
    headers = request.headers
    if headers.get("X-Fda-Key") != keyring.cloud_app_key(CLOUD):
        return _fail("01", "应用标识无效")
    timestamp, nonce = headers.get("X-Fda-Timestamp", ""), headers.get("X-Fda-Nonce", "")
    problem = twin_kit.timestamp_problem(timestamp, millis=True)
    if problem is not None:
        return _fail("02", "时间戳无效" if problem == "malformed" else "请求已过期")
    query = request.args.to_dict()
    lines = (
        request.method,
        request.root_path + request.path,  # as signed: under make run the sandbox sits below /_sandbox
        "&".join(f"{key}={query[key]}" for key in sorted(query)),
        timestamp,
        nonce,
        hashlib.sha256(request.get_data()).hexdigest(),
    )
    mac = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), "\n".join(lines).encode(), hashlib.sha256)
    if not hmac.compare_digest(headers.get("X-Fda-Signature", ""), base64.b64encode(mac.digest()).decode()):
        return _fail("01", "签名验证失败")
    if _nonces.seen_before(nonce):
        return _fail("02", "重复的请求")
    return None


def _synchronised_at() -> datetime:
    """The nightly copy from the provincial licence system, at 02:00."""
    return twin_kit.last_daily_at(2)


@blueprint.get("/openapi/xkz/detail")
def licence_detail():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    number = request.args.get("xkzbh", "").strip()
    if not LICENCE_NO.match(number):
        return _fail("03", "许可证编号格式不正确")
    row = twin_data.licence(number)
    if row is None:
        return _fail("04", "未查询到该许可证信息")
    return _ok({**row, "sjgxsj": f"{_synchronised_at():%Y-%m-%d %H:%M:%S}"})


@blueprint.get("/openapi/zhgg/list")
def recall_notices():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    category = request.args.get("cplb") or None
    if category is not None and category not in CATEGORIES:
        return _fail("03", "产品类别不正确")
    try:
        page = max(int(request.args.get("page", "1")), 1)
        size = min(max(int(request.args.get("size", "10")), 1), MAX_SIZE)
    except ValueError:
        return _fail("03", "分页参数不正确")
    synchronised = _synchronised_at()
    rows = twin_data.recalls(category, synchronised.date())
    return _ok(
        {
            "total": len(rows),
            "page": page,
            "size": size,
            "rows": rows[(page - 1) * size : page * size],
            "sjgxsj": f"{synchronised:%Y-%m-%d %H:%M:%S}",
        }
    )
