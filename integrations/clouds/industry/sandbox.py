"""Twin of the industry cloud (智慧工业云, 经信委): where an enterprise's subsidy application stands.

Its own manners: requests signed in X-Gxw-* headers (key, timestamp in milliseconds, nonce, base64
HMAC-SHA256 over method, path, sorted query, timestamp, nonce and the body's SHA-256); the question is a
JSON body; answers {"status": "ok", "payload": {...}} or {"status": "error", "error_code": "GXW…",
"error_msg": ...}: HTTP 401 for our credentials, HTTP 200 for the question's own failures. snake_case
fields, amounts in 万元 as strings with four decimals, times in epoch seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.industry import twin_data
from integrations.sandbox import keyring, twin_kit

CLOUD = "industry"
blueprint = Blueprint("industry_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
APPLY_NO = re.compile(r"^JG[0-9]{10}$")
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _error(code: str, message: str, status: int = 200):
    return jsonify(status="error", error_code=code, error_msg=message), status


def _check_signature():
    """None when the request carries the city app's signature; otherwise the twin's refusal."""
    headers = request.headers
    if headers.get("X-Gxw-Key") != keyring.cloud_app_key(CLOUD):
        return _error("GXW4011", "未授权的应用", 401)
    timestamp, nonce = headers.get("X-Gxw-Timestamp", ""), headers.get("X-Gxw-Nonce", "")
    if twin_kit.timestamp_problem(timestamp, millis=True):
        return _error("GXW4012", "请求时间戳无效或已过期", 401)
    query = request.args.to_dict()
    signed = "\n".join(
        (
            request.method,
            request.root_path + request.path,  # as signed: under make run the sandbox sits below /_sandbox
            "&".join(f"{key}={query[key]}" for key in sorted(query)),
            timestamp,
            nonce,
            hashlib.sha256(request.get_data()).hexdigest(),
        )
    )
    mac = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), signed.encode(), hashlib.sha256)
    if not hmac.compare_digest(headers.get("X-Gxw-Signature", ""), base64.b64encode(mac.digest()).decode()):
        return _error("GXW4013", "签名不正确", 401)
    if _nonces.seen_before(nonce):
        return _error("GXW4014", "重复请求", 401)
    return None


@blueprint.post("/gateway/subsidy/progress")
def subsidy_progress():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    body = request.get_json(silent=True)
    number = str(body.get("apply_no", "")).strip() if isinstance(body, dict) else ""
    if not APPLY_NO.match(number):
        return _error("GXW4001", "申报编号格式错误")
    now = datetime.now(BEIJING)
    found = twin_data.application(number, now.date())
    if found is None:
        return _error("GXW4041", "未查询到该申报信息")
    return jsonify(status="ok", payload={**found, "server_time": int(now.timestamp())})
