"""Twin of the commerce cloud (智慧商务云, 商务局): the prepaid card merchants' filings and fund custody.

Its own manners: a signed query string (appId, timestamp in seconds, nonce, upper-case HMAC-SHA256 hex
`sign`); answers as {"rtnCode": "000000", "rtnMsg": "成功", "body": {...}}: HTTP 403 with rtnCode 1000xx
for our credentials, HTTP 200 with 2000xx for a malformed or miscoded credit code (the check character is
verified) and 300001 for a merchant it does not know; camelCase fields, amounts as yuan strings, the custody
bank's figures as of 01:00 each night ("yyyyMMddHHmmss").
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import Blueprint, jsonify, request

from integrations.clouds.commerce import twin_data
from integrations.sandbox import keyring, twin_kit

CLOUD = "commerce"
blueprint = Blueprint("commerce_twin", __name__)
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _rtn(code: str, message: str, body: dict | None = None, status: int = 200):
    return jsonify(rtnCode=code, rtnMsg=message, body=body), status


def _check_signature():
    """None when the query string is signed by the city's app; otherwise the twin's refusal."""
    params = request.args.to_dict()
    given = params.pop("sign", "")
    if params.get("appId") != keyring.cloud_app_key(CLOUD):
        return _rtn("100001", "appId 不存在", status=403)
    problem = twin_kit.timestamp_problem(params.get("timestamp", ""))
    if problem is not None:
        return _rtn("100003", "timestamp 格式错误" if problem == "malformed" else "timestamp 超出允许范围", status=403)
    canonical = "&".join(f"{key}={params[key]}" for key in sorted(params))
    expected = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), canonical.encode(), hashlib.sha256)
    if not hmac.compare_digest(given, expected.hexdigest().upper()):
        return _rtn("100002", "签名错误", status=403)
    if _nonces.seen_before(params.get("nonce", "")):
        return _rtn("100004", "重复请求", status=403)
    return None


@blueprint.get("/yfk/merchant/queryByUscc")
def merchant():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    code = request.args.get("uscc", "").strip().upper()
    if not USCC.match(code):
        return _rtn("200001", "统一社会信用代码格式错误")
    if not twin_data.is_valid(code):
        return _rtn("200002", "统一社会信用代码校验位错误")
    row = twin_data.merchant(code)
    if row is None:
        return _rtn("300001", "未查询到该商户信息")
    statistics = twin_kit.last_daily_at(1)  # the custody bank's figures, as of 01:00 each night
    return _rtn("000000", "成功", {**row, "statTime": f"{statistics:%Y%m%d%H%M%S}"})
