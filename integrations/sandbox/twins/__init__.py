"""Twins of outside parties. Each module has `blueprint` (mounted at /<name>) and `reset()`.

Every cloud's twin is `integrations/clouds/<cloud>/sandbox.py`, mounted at /<cloud>.
`configure_twins()` hands each twin the credentials our clients use in the sandbox (keyring.py).
"""

import os
from importlib import import_module

from integrations.alipay import sandbox as alipay
from integrations.clouds import CLOUD_PACKAGES
from integrations.clouds.sharing import sandbox as sharing
from integrations.sandbox import keyring
from integrations.sandbox.twins import department
from integrations.sms import sandbox as sms
from integrations.wechat import sandbox as wechat
from integrations.wechatpay import sandbox as wechatpay

TWINS = {"department": department, "wechat": wechat, "wechatpay": wechatpay, "alipay": alipay, "sms": sms}
TWINS |= {cloud: import_module(f"integrations.clouds.{cloud}.sandbox") for cloud in CLOUD_PACKAGES}


def configure_twins() -> None:
    keys = keyring.alipay_keys()
    alipay.configure(keys["app_public"], keys["alipay_private"], seller_id=_setting("ALIPAY_SELLER_ID"))
    pay = keyring.wechatpay_keys()
    wechatpay.configure(
        _setting("WECHATPAY_MCH_ID"),
        _setting("WECHAT_APP_ID"),
        pay["merchant_public"],
        pay["merchant_serial"],
        pay["platform_private"],
        pay["public_key_id"],
        pay["api_v3_key"],
    )
    sms.configure(keyring.SMS_ACCESS_KEY_ID, keyring.SMS_ACCESS_KEY_SECRET)
    sharing.configure(keyring.SHARING_APP_KEY, keyring.SHARING_APP_SECRET)


def _setting(name: str) -> str:
    """The merchant's ids as this process's app reads them (the twin answers only to those)."""
    from app.config import SETTINGS

    return os.environ.get(name) or next(s.default for s in SETTINGS if s.name == name)
