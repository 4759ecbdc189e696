"""Twins of outside parties. Each module has `blueprint` (mounted at /<name>) and `reset()`.

Every cloud's twin is `integrations/clouds/<cloud>/sandbox.py`, mounted at /<cloud>.
`configure_twins()` hands each twin the credentials our clients use in the sandbox (keyring.py).
"""

from importlib import import_module

from integrations.alipay import sandbox as alipay
from integrations.clouds import CLOUD_PACKAGES
from integrations.clouds.sharing import sandbox as sharing
from integrations.sandbox import keyring
from integrations.sandbox.twins import department
from integrations.sms import sandbox as sms
from integrations.wechat import sandbox as wechat

TWINS = {"department": department, "wechat": wechat, "alipay": alipay, "sms": sms}
TWINS |= {cloud: import_module(f"integrations.clouds.{cloud}.sandbox") for cloud in CLOUD_PACKAGES}


def configure_twins() -> None:
    keys = keyring.alipay_keys()
    alipay.configure(keys["app_public"], keys["alipay_private"])
    sms.configure(keyring.SMS_ACCESS_KEY_ID, keyring.SMS_ACCESS_KEY_SECRET)
    sharing.configure(keyring.SHARING_APP_KEY, keyring.SHARING_APP_SECRET)
