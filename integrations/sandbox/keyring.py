"""Credentials shared by our clients and the twins when the sandbox stands in (never in production).

Both sides live in one process (make run mounts the sandbox; the tests serve it from a thread),
so keys generated here once per process are known to both.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

SMS_ACCESS_KEY_ID = "city-sms"  # the default SMS_ACCESS_KEY_ID
SMS_ACCESS_KEY_SECRET = "sandbox-sms-secret"  # noqa: S105 - the twin's, not a real provider's
SHARING_APP_KEY = "city-services"  # the default SHARING_APP_KEY
SHARING_APP_SECRET = "sandbox-sharing-secret"  # noqa: S105
WECHAT_APP_SECRET = "sandbox-wechat-secret"  # noqa: S105


@lru_cache(maxsize=1)
def alipay_keys() -> dict[str, str]:
    """Our app's RSA2 keypair and the twin's, as PEM."""
    from integrations.alipay.keys import generate_keypair

    app, alipay = generate_keypair(), generate_keypair()
    return {
        "app_private": app.private_pem,
        "app_public": app.public_pem,
        "alipay_private": alipay.private_pem,
        "alipay_public": alipay.public_pem,
    }


# The department contract (docs/department-contract.md): one key per demo department, the same in every
# process and on every machine, because the demo catalog stores it when it is seeded (before the server
# starts) and the department twin checks signatures with it later.
DEPARTMENT_CONTRACT_SEED = "sandbox-department-contract-not-secret"


def department_contract_key_id(department: str) -> str:
    return f"{department}-sandbox"


def department_contract_secret(department: str) -> str:
    return hmac.new(DEPARTMENT_CONTRACT_SEED.encode(), department.encode(), hashlib.sha256).hexdigest()


# The clouds' twins (integrations/clouds/<cloud>/sandbox.py): an app key and secret per cloud, the same on
# every machine, because seed-demo stores them in the connectors' configuration before the server starts.
CLOUD_SEED = "sandbox-cloud-connectors-not-secret"


def cloud_app_key(cloud: str) -> str:
    return f"city-services-{cloud}"


def cloud_app_secret(cloud: str) -> str:
    return hmac.new(CLOUD_SEED.encode(), cloud.encode(), hashlib.sha256).hexdigest()


# WeChat Pay v3 (public-key mode) and Alipay trades: keys generated once per process, like alipay_keys().
WECHATPAY_MCH_ID = "1900000109"  # the default WECHATPAY_MCH_ID: the sandbox merchant
ALIPAY_SELLER_ID = "2088102000000001"  # the default ALIPAY_SELLER_ID: the sandbox merchant's PID


@lru_cache(maxsize=1)
def wechatpay_keys() -> dict[str, str]:
    """The merchant's API keypair and certificate serial (we sign requests, the twin checks them), the
    platform's keypair and public key id (the twin signs answers and notifications, we check them), and
    the APIv3 key (32 characters) that encrypts notification resources."""
    import secrets

    from integrations.alipay.keys import generate_keypair

    merchant, platform = generate_keypair(), generate_keypair()
    return {
        "merchant_private": merchant.private_pem,
        "merchant_public": merchant.public_pem,
        "merchant_serial": secrets.token_hex(20).upper(),
        "platform_private": platform.private_pem,
        "platform_public": platform.public_pem,
        "public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "api_v3_key": secrets.token_hex(16),
    }
