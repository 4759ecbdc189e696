"""Binding a verified phone number: by SMS code, or by the WeChat getPhoneNumber button.

SMS codes: 6 digits, 5 minutes, 5 tries. Per phone at most 1 a minute and 10 a day (the route adds
per-IP limits), so the platform cannot be used to bomb a number. Codes live in Redis, hashed.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets

from flask import current_app

from app.clock import local, utcnow
from app.errors import AppError
from app.extensions import redis
from app.identity import citizens, providers
from app.identity.tokens import Caller
from app.security import pii
from integrations.errors import IntegrationError, UpstreamRejected

PHONE = re.compile(r"1[3-9]\d{9}")
CODE_SECONDS, MAX_TRIES, PER_DAY = 300, 5, 10
LOGIN_TEMPLATE = "SMS_LOGIN_CODE"


def _valid_phone(phone: str) -> str:
    if not PHONE.fullmatch(phone or ""):
        raise AppError("VALIDATION_FAILED", "请输入正确的手机号", 422, {"fields": {"phone": ["不是有效的手机号"]}})
    return phone


def _code_hash(phone_hash: str, code: str) -> str:
    return hmac.new(current_app.extensions["pii_keys"].hash_key, f"{phone_hash}:{code}".encode(), "sha256").hexdigest()


def send_code(phone: str) -> int:
    """Text a fresh code to `phone`; returns the seconds it stays valid."""
    phone_hash = pii.blind_index("phone", _valid_phone(phone))
    if not redis.set(f"sms:minute:{phone_hash}", 1, nx=True, ex=60):
        raise AppError("SMS_TOO_SOON", "验证码发送过于频繁，请1分钟后再试", 429, {}, {"Retry-After": "60"})
    day_key = f"sms:day:{phone_hash}:{local(utcnow()).date().isoformat()}"
    sent_today = redis.incr(day_key)
    redis.expire(day_key, 86400)
    if sent_today > PER_DAY:
        raise AppError("SMS_DAILY_LIMIT", "该手机号今日验证码次数已用完，请明天再试", 429, {}, {"Retry-After": "3600"})
    code = f"{secrets.randbelow(10**6):06d}"
    redis.set(f"sms:code:{phone_hash}", json.dumps({"hash": _code_hash(phone_hash, code), "tries": 0}), ex=CODE_SECONDS)
    try:
        providers.sms_client().send(phone, LOGIN_TEMPLATE, {"code": code})
    except UpstreamRejected:
        redis.delete(f"sms:code:{phone_hash}")
        raise AppError("SMS_REJECTED", "短信发送失败，请检查手机号后重试", 422) from None
    except IntegrationError:
        redis.delete(f"sms:code:{phone_hash}", f"sms:minute:{phone_hash}")
        raise AppError("SMS_UNAVAILABLE", "短信服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}) from None
    return CODE_SECONDS


def _check_code(phone: str, code: str) -> None:
    phone_hash = pii.blind_index("phone", phone)
    key = f"sms:code:{phone_hash}"
    stored = redis.get(key)
    if stored is None:
        raise AppError("SMS_CODE_EXPIRED", "验证码已过期，请重新获取", 422)
    entry = json.loads(stored)
    if entry["tries"] >= MAX_TRIES:
        raise AppError("SMS_CODE_LOCKED", "验证码错误次数过多，请重新获取", 422)
    if not hmac.compare_digest(entry["hash"], _code_hash(phone_hash, code)):
        entry["tries"] += 1
        redis.set(key, json.dumps(entry), keepttl=True)
        raise AppError("SMS_CODE_WRONG", "验证码错误", 422, {"tries_left": MAX_TRIES - entry["tries"]})
    redis.delete(key)  # a code works once


def bind_with_sms(caller: Caller, phone: str, code: str):
    _check_code(_valid_phone(phone), code)
    return _bind(caller, phone)


def bind_with_wechat(caller: Caller, wechat_code: str):
    return _bind(caller, _valid_phone(providers.wechat_phone_number(wechat_code)))


def _bind(caller: Caller, phone: str):
    phone_hash = pii.blind_index("phone", phone)
    # Linking two accounts through one phone needs the citizen's confirmation from both (not built yet).
    in_use = AppError("PHONE_IN_USE", "该手机号已绑定其他账号", 409)
    with citizens.claiming(caller, "phone_hash", phone_hash, in_use) as citizen:
        citizen.phone, citizen.phone_hash = phone, phone_hash
    return citizen
