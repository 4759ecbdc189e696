"""Twin of the WeChat mini-program server API (api.weixin.qq.com), mounted at /_sandbox/wechat.

Two extra endpoints stand in for the user's phone: POST /code is wx.login() and POST /phone-code
is the getPhoneNumber button. The rest answers like WeChat does: HTTP 200, errors as an errcode
in the body. Special users: "risky" is blocked at login (40226), "busy" always meets -1.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time

from flask import Blueprint, jsonify, request

blueprint = Blueprint("wechat_twin", __name__)

CODE_SECONDS = 300  # wx.login and getPhoneNumber codes both live 5 minutes
TOKEN_SECONDS = 7200
OLD_TOKEN_GRACE_SECONDS = 300  # after a refresh, WeChat keeps the previous token working this long

_lock = threading.Lock()
_login_codes: dict[str, dict] = {}  # code -> {"user", "expires", "used"}
_phone_codes: dict[str, dict] = {}  # code -> {"user", "phone", "expires", "used"}
_tokens: dict[str, dict] = {}  # access token -> {"appid", "expires"}
_token_requests = 0


def _now() -> float:
    return time.time()  # one place for tests to move the clock


def reset() -> None:
    global _token_requests
    with _lock:
        _login_codes.clear()
        _phone_codes.clear()
        _tokens.clear()
        _token_requests = 0


def token_requests() -> int:
    """How many times /cgi-bin/token was called since the last reset: shows token caching works."""
    with _lock:
        return _token_requests


def _error(errcode: int, errmsg: str):
    # Like WeChat: HTTP 200, and a request id (rid) that support would ask for.
    rid = "-".join(secrets.token_hex(4) for _ in range(3))
    return jsonify(errcode=errcode, errmsg=f"{errmsg}, rid: {rid}")


def _stable_id(*parts: str) -> str:
    """A WeChat-looking id (28 chars, starts with "o") that is always the same for the same parts."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def _new_code() -> str:
    return secrets.token_urlsafe(24)


@blueprint.post("/code")
def login_code():
    """wx.login() on the user's phone."""
    user = str((request.get_json(silent=True) or {}).get("user", "")).strip()
    if not user:
        return jsonify(error="user required"), 400
    code = _new_code()
    with _lock:
        _login_codes[code] = {"user": user, "expires": _now() + CODE_SECONDS, "used": False}
    return jsonify(code=code)


@blueprint.get("/sns/jscode2session")
def jscode2session():
    args = request.args
    appid = args.get("appid", "")
    if not appid or not args.get("secret"):
        return _error(40013, "invalid appid")
    if args.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    with _lock:
        entry = _login_codes.get(args.get("js_code", ""))
        if entry is None or entry["expires"] < _now():
            return _error(40029, "invalid code")
        if entry["used"]:
            return _error(40163, "code been used")
        user = entry["user"]
        if user == "busy":
            return _error(-1, "system error")  # a failed call: the code stays usable for a retry
        entry["used"] = True
    if user == "risky":
        return _error(40226, "high risk user, login blocked")
    return jsonify(
        openid=_stable_id("openid", appid, user),  # one per user per mini-program
        unionid=_stable_id("unionid", user),  # one per user across the open-platform account's apps
        session_key=base64.b64encode(secrets.token_bytes(16)).decode(),  # new at every login
    )


@blueprint.get("/cgi-bin/token")
def access_token():
    global _token_requests
    args = request.args
    with _lock:
        _token_requests += 1
    if args.get("grant_type") != "client_credential":
        return _error(40002, "invalid grant_type")
    appid = args.get("appid", "")
    if not appid or not args.get("secret"):
        return _error(40013, "invalid appid")
    token = secrets.token_urlsafe(96)
    with _lock:
        now = _now()
        for old in _tokens.values():
            if old["appid"] == appid:
                old["expires"] = min(old["expires"], now + OLD_TOKEN_GRACE_SECONDS)
        _tokens[token] = {"appid": appid, "expires": now + TOKEN_SECONDS}
    return jsonify(access_token=token, expires_in=TOKEN_SECONDS)


@blueprint.post("/phone-code")
def phone_code():
    """The getPhoneNumber button on the user's phone."""
    body = request.get_json(silent=True) or {}
    user, phone = str(body.get("user", "")).strip(), str(body.get("phone", "")).strip()
    if not user or not phone:
        return jsonify(error="user and phone required"), 400
    code = _new_code()
    with _lock:
        _phone_codes[code] = {"user": user, "phone": phone, "expires": _now() + CODE_SECONDS, "used": False}
    return jsonify(code=code)


@blueprint.post("/wxa/business/getuserphonenumber")
def get_user_phone_number():
    # WeChat reads the body as JSON whatever the Content-Type (wechatpy sends none).
    body = request.get_json(force=True, silent=True)
    with _lock:
        now = _now()
        token = _tokens.get(request.args.get("access_token", ""))
        if token is None or token["expires"] < now:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if not isinstance(body, dict):
            return _error(47001, "data format error")
        entry = _phone_codes.get(str(body.get("code", "")))
        if entry is None or entry["used"] or entry["expires"] < now:
            return _error(40029, "invalid code")
        entry["used"] = True
    pure = entry["phone"].removeprefix("+86")
    return jsonify(
        errcode=0,
        errmsg="ok",
        phone_info={
            "phoneNumber": pure,  # WeChat adds the country code here only for numbers outside China
            "purePhoneNumber": pure,
            "countryCode": "86",
            "watermark": {"timestamp": int(now), "appid": token["appid"]},
        },
    )
