"""Twin of the Alipay open-platform gateway (openapi.alipay.com/gateway.do), for mini-program login.

POST /code {"user": "bob"} stands in for my.getAuthCode on bob's phone. /gateway.do checks the RSA2
signature of our request with the app's public key and signs its replies with its own private key, the
way Alipay does. It signs and verifies with `cryptography`, not with the SDK, so the two check each other.
User "busy" gets Alipay's system error. Mounted at /_sandbox/alipay.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Blueprint, Response, jsonify, request

from integrations.alipay.client import BEIJING

blueprint = Blueprint("alipay_twin", __name__)
_lock = threading.Lock()
_codes: dict[str, str] = {}  # auth code -> user; an exchanged code is gone: codes are single-use
_keys: dict[str, object] = {}  # set by configure(); reset() keeps them, they are setup, not state

REQUIRED = ("app_id", "method", "sign_type", "sign", "timestamp", "version")


def configure(app_public_key_pem: str, alipay_private_key_pem: str) -> None:
    """The app's public key (to check our requests) and the twin's private key (to sign its replies)."""
    app_public = serialization.load_pem_public_key(app_public_key_pem.encode())
    alipay_private = serialization.load_pem_private_key(alipay_private_key_pem.encode(), password=None)
    with _lock:
        _keys.update(app_public=app_public, alipay_private=alipay_private)


def reset() -> None:
    with _lock:
        _codes.clear()


def _user_id(user: str) -> str:
    # Stable per user, shaped like Alipay's 16-digit "2088..." ids.
    return "2088" + str(int(hashlib.sha256(user.encode()).hexdigest(), 16) % 10**12).zfill(12)


def _open_id(app_id: str, user: str) -> str:
    # Alipay's open_id is per user and per app.
    return "0" + hashlib.sha256(f"{app_id}/{user}".encode()).hexdigest()[:46]


def _reply(key: str, body: dict) -> Response:
    # Alipay signs the exact text of the body object; the SDK cuts that text out of the reply to verify it.
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    with _lock:
        private = _keys["alipay_private"]
    sign = base64.b64encode(private.sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    text = f'{{"{key}":{content},"sign":"{sign}"}}'
    # Refusals too come with HTTP 200, as from the real gateway.
    return Response(text, 200, content_type="application/json;charset=utf-8")


def _error(code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
    return _reply("error_response", {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})


def _signature_ok(params: dict, content: str) -> bool:
    with _lock:
        public = _keys["app_public"]
    try:
        public.verify(base64.b64decode(params["sign"]), content.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@blueprint.post("/code")
def auth_code():
    user = str((request.get_json(silent=True) or {}).get("user", "")).strip()
    if not user:
        return jsonify(error="body must be JSON with a user"), 400
    code = secrets.token_hex(16)
    with _lock:
        _codes[code] = user
    return jsonify(auth_code=code)


@blueprint.route("/gateway.do", methods=["GET", "POST"])
def gateway():
    with _lock:
        configured = bool(_keys)
    if not configured:
        return jsonify(error="alipay twin not configured: call integrations.alipay.sandbox.configure()"), 503
    params = request.values.to_dict()  # the SDK sends a query string; other clients POST a form
    for name in REQUIRED:
        if not params.get(name):
            missing = "signature" if name == "sign" else name.replace("_", "-")
            return _error("40001", "Missing Required Arguments", f"isv.missing-{missing}", f"缺少{name}参数")
    if params["sign_type"] != "RSA2":
        return _error("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
    try:
        datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return _error("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
    # Alipay signs every parameter but `sign` that has a value, sorted, as k=v joined by &, values unencoded.
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
    if not _signature_ok(params, content):
        hint = f"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{content}"
        return _error("40002", "Invalid Arguments", "isv.invalid-signature", hint)
    if params["method"] != "alipay.system.oauth.token":
        return _error("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")
    return _oauth_token(params)


def _oauth_token(params: dict) -> Response:
    if params.get("grant_type") != "authorization_code":
        return _error("40002", "Invalid Arguments", "isv.grant-type-invalid", "不支持的grantType")
    code = params.get("code", "")
    with _lock:
        user = _codes.get(code)
        if user is not None and user != "busy":
            del _codes[code]
    if user == "busy":
        return _error("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")
    if user is None:
        return _error("40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效")
    return _reply(
        "alipay_system_oauth_token_response",
        {
            "user_id": _user_id(user),
            "open_id": _open_id(params["app_id"], user),
            "access_token": "authusrB" + secrets.token_hex(16),
            "refresh_token": "authusrB" + secrets.token_hex(16),
            "expires_in": 1296000,
            "re_expires_in": 2592000,
            "auth_start": datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
