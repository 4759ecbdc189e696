"""Credentials shared by our clients and the twins when the sandbox stands in (never in production).

Both sides live in one process (make run mounts the sandbox; the tests serve it from a thread),
so keys generated here once per process are known to both.
"""

from __future__ import annotations

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
