"""Binding a verified phone number: by SMS code, or by the WeChat getPhoneNumber button.

SMS codes: 6 digits, 5 minutes, 5 tries. Per phone at most 1 a minute and 10 a day (the route adds
per-IP limits), so the platform cannot be used to bomb a number. Codes live in Redis, hashed.
"""

from __future__ import annotations

import hmac
import re
import secrets

from flask import current_app
from redis.exceptions import RedisError

from app.clock import local, utcnow
from app.errors import AppError
from app.extensions import redis
from app.identity import citizens, linking, providers
from app.identity.tokens import Caller
from app.security import pii
from integrations.errors import IntegrationError, UpstreamRejected

PHONE = re.compile(r"1[3-9][0-9]{9}")  # ASCII digits only: other scripts' digits would dodge the limits
CODE_SECONDS, MAX_TRIES, PER_DAY, PER_CITIZEN_HOUR = 300, 5, 10, 5
LOGIN_TEMPLATE = "SMS_LOGIN_CODE"


def _valid_phone(phone: str) -> str:
    if not PHONE.fullmatch(phone or ""):
        raise AppError("VALIDATION_FAILED", "请输入正确的手机号", 422, {"fields": {"phone": ["不是有效的手机号"]}})
    return phone


def _keys(caller: Caller, phone_hash: str) -> tuple[str, str]:
    # Per citizen and phone: nobody else can burn the tries of the code a citizen is waiting for.
    base = f"sms:{caller.subject}:{phone_hash}"
    return f"{base}:code", f"{base}:tries"


def _code_hash(phone_hash: str, code: str) -> str:
    return hmac.new(current_app.extensions["pii_keys"].hash_key, f"{phone_hash}:{code}".encode(), "sha256").hexdigest()


def _redis_down() -> AppError:
    return AppError("SMS_UNAVAILABLE", "短信服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"})


def _too_many(code: str, message: str, wait: int) -> AppError:
    return AppError(code, message, 429, {}, {"Retry-After": str(wait)})


def _count(key: str, seconds: int) -> int:
    count, _ = redis.pipeline().incr(key).expire(key, seconds, nx=True).execute()
    return count


def send_code(caller: Caller, phone: str) -> int:
    """Text a fresh code to `phone` for `caller`; returns the seconds it stays valid."""
    phone_hash = pii.blind_index("phone", _valid_phone(phone))
    code_key, tries_key = _keys(caller, phone_hash)
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        if not redis.set(f"sms:minute:{phone_hash}", 1, nx=True, ex=60):
            raise _too_many("SMS_TOO_SOON", "验证码发送过于频繁，请1分钟后再试", 60)
        hour_key = f"sms:citizen:{caller.subject}:{local(utcnow()).strftime('%Y%m%d%H')}"
        day_key = f"sms:day:{phone_hash}:{local(utcnow()).date().isoformat()}"
        # Count the phone's day only for texts the citizen was allowed to ask for.
        if _count(hour_key, 3600) > PER_CITIZEN_HOUR:
            raise _too_many("SMS_HOURLY_LIMIT", "获取验证码次数过多，请1小时后再试", 3600)
        if _count(day_key, 86400) > PER_DAY:
            raise _too_many("SMS_DAILY_LIMIT", "该手机号今日验证码次数已用完，请明天再试", 3600)
        pipe = redis.pipeline()
        pipe.set(code_key, _code_hash(phone_hash, code), ex=CODE_SECONDS).set(tries_key, 0, ex=CODE_SECONDS)
        pipe.execute()
    except RedisError:
        raise _redis_down() from None
    try:
        providers.sms_client().send(phone, LOGIN_TEMPLATE, {"code": code})
    except UpstreamRejected:
        redis.delete(code_key)
        raise AppError("SMS_REJECTED", "短信发送失败，请检查手机号后重试", 422) from None
    except IntegrationError:
        redis.delete(code_key, f"sms:minute:{phone_hash}")
        raise AppError("SMS_UNAVAILABLE", "短信服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}) from None
    return CODE_SECONDS


def _check_code(caller: Caller, phone: str, code: str) -> None:
    phone_hash = pii.blind_index("phone", phone)
    code_key, tries_key = _keys(caller, phone_hash)
    try:
        # INCR first and atomically: however many guesses arrive at once, at most MAX_TRIES are compared.
        tries = redis.incr(tries_key)
        if tries == 1 and redis.ttl(tries_key) == -1:
            redis.expire(tries_key, CODE_SECONDS)  # the counter had expired with its code
        stored = redis.get(code_key)
        if stored is None:
            raise AppError("SMS_CODE_EXPIRED", "验证码已过期，请重新获取", 422)
        if tries > MAX_TRIES:
            raise AppError("SMS_CODE_LOCKED", "验证码错误次数过多，请重新获取", 422)
        if not hmac.compare_digest(stored.decode(), _code_hash(phone_hash, code)):
            raise AppError("SMS_CODE_WRONG", "验证码错误", 422, {"tries_left": MAX_TRIES - tries})
        redis.delete(code_key, tries_key)  # a code works once
    except RedisError:
        raise _redis_down() from None


def bind_with_sms(caller: Caller, phone: str, code: str):
    _check_code(caller, _valid_phone(phone), code)
    return _bind(caller, phone)


def bind_with_wechat(caller: Caller, wechat_code: str):
    return _bind(caller, _valid_phone(providers.wechat_phone_number(wechat_code)))


def _bind(caller: Caller, phone: str):
    """Bind a phone the caller has just proved. Held by another account: a 409 that may offer to link
    the two (app.identity.linking), since the caller has proved the phone."""
    phone_hash = pii.blind_index("phone", phone)
    in_use = AppError("PHONE_IN_USE", "该手机号已绑定其他账号", 409)
    try:
        with citizens.claiming(caller, "phone_hash", phone_hash, in_use) as citizen:
            citizen.phone, citizen.phone_hash = phone, phone_hash
    except AppError as error:
        if error is in_use:
            raise linking.phone_in_use(caller, phone_hash) from None
        raise
    return citizen
