"""Twin of the SMS provider: checks the signature and the number, keeps every message in an outbox.

Tests and the demo read verification codes from GET /outbox?phone=... instead of a real phone.
Mounted at /_sandbox/sms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import string
import threading
import time
import uuid
from datetime import UTC, datetime

from flask import Blueprint, jsonify, request

blueprint = Blueprint("sms_twin", __name__)
TEMPLATES = {"SMS_LOGIN_CODE": "您的验证码为${code}，5分钟内有效。"}
PER_PHONE_PER_HOUR = 10  # the provider's flow control, so the app's own limits can be seen to act first
_PHONE = re.compile(r"1\d{10}")

_lock = threading.Lock()
_credentials = {"access_key_id": "sandbox-sms-key", "access_key_secret": "sandbox-sms-secret"}
_outbox: list[dict] = []


def configure(access_key_id: str, access_key_secret: str) -> None:
    with _lock:
        _credentials.update(access_key_id=access_key_id, access_key_secret=access_key_secret)


def reset() -> None:
    """Forget the messages; the credentials are configuration and stay."""
    with _lock:
        _outbox.clear()


def _expected_signature(body: dict, secret: str) -> str:
    # Written apart from the client's on purpose: a twin sharing the client's code would agree with its bugs.
    canonical = "&".join(f"{key}={value}" for key, value in sorted(body.items()))
    return base64.b64encode(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()


def _answer(code: str, message: str, **extra):
    return jsonify(Code=code, Message=message, RequestId=str(uuid.uuid4()).upper(), **extra)


@blueprint.post("/send")
def send():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _answer("isv.INVALID_PARAMETERS", "body must be a JSON object")
    with _lock:
        key_id, secret = _credentials["access_key_id"], _credentials["access_key_secret"]
    if body.get("AccessKeyId") != key_id:
        return _answer("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    if not hmac.compare_digest(request.headers.get("X-Signature", ""), _expected_signature(body, secret)):
        return _answer("SignatureDoesNotMatch", "Specified signature does not match our calculation.")
    phone = str(body.get("PhoneNumbers", ""))
    if not _PHONE.fullmatch(phone):
        return _answer("isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number")
    template = TEMPLATES.get(str(body.get("TemplateCode")))
    if template is None:
        return _answer("isv.SMS_TEMPLATE_ILLEGAL", "template does not exist or is not approved")
    try:
        params = json.loads(body.get("TemplateParam") or "{}")
        text = f"【{body.get('SignName')}】" + string.Template(template).substitute(params)
    except (ValueError, TypeError, KeyError):
        return _answer("isv.TEMPLATE_MISSING_PARAMETERS", "template parameters missing or not a JSON object")
    now = time.time()
    with _lock:
        recent = [m for m in _outbox if m["phone"] == phone and now - m["at"] < 3600]
        if len(recent) >= PER_PHONE_PER_HOUR:
            return _answer("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:10")
        biz_id = f"{int(now * 1000)}^{uuid.uuid4().int % 10**10}"
        _outbox.append(
            {
                "phone": phone,
                "template_code": body["TemplateCode"],
                "params": params,
                "text": text,
                "biz_id": biz_id,
                "at": now,
                "sent_at": datetime.fromtimestamp(now, UTC).isoformat(),
            }
        )
    return _answer("OK", "OK", BizId=biz_id)


def sent_to(phone: str) -> list[dict]:
    """The messages sent to `phone`, oldest first (for the outbox route, and tests in-process)."""
    with _lock:
        return [{k: v for k, v in m.items() if k != "at"} for m in _outbox if m["phone"] == phone]


@blueprint.get("/outbox")
def outbox():
    return jsonify(items=sent_to(request.args.get("phone", "")))
