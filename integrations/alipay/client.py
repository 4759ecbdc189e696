"""Alipay mini-program login through python-alipay-sdk, with its failures mapped to integrations.errors.

The SDK signs our request (RSA2 over the sorted parameters), sends it as a GET to the gateway and checks
the reply's signature with Alipay's public key. We add: an explicit timeout, Beijing timestamps, and error
replies read whole (the SDK's AliPayException keeps the reply only in a private field, not its sub_code).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from integrations.errors import (
    IntegrationError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from integrations.http import RETRYABLE_STATUSES

PARTY = "alipay"
SUCCESS = "10000"
# The gateway reads `timestamp` as Beijing time, but the SDK stamps datetime.now(), which is only right when
# the process runs with TZ=Asia/Shanghai. We pass our own, converted explicitly (China has no DST: +08:00).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


class AlipayError(UpstreamRejected):
    """Alipay understood and refused, e.g. sub_code "isv.code-invalid" for a used or unknown auth code."""

    def __init__(self, message: str, *, alipay_code: str, sub_code: str, sub_msg: str = ""):
        # `code` is taken (our error family's code), hence alipay_code. sub_msg stays out of the message:
        # Alipay may echo our signed parameters in it.
        super().__init__(PARTY, message)
        self.alipay_code, self.sub_code, self.sub_msg = alipay_code, sub_code, sub_msg


@dataclass(frozen=True)
class AlipayUser:
    user_id: str | None  # "2088...": apps created since Alipay's move to open_id may get only open_id
    open_id: str | None


def _refusal(body: dict) -> IntegrationError:
    code, sub_code = str(body.get("code", "")), str(body.get("sub_code", ""))
    message = f"gateway answered {code} {sub_code}".strip()
    # 20000 / isp.* / *SYSTEM_ERROR are Alipay's own trouble: trying again later may work.
    if code == "20000" or sub_code.startswith("isp.") or sub_code.endswith("SYSTEM_ERROR"):
        return UpstreamUnavailable(PARTY, message)
    return AlipayError(message, alipay_code=code, sub_code=sub_code, sub_msg=str(body.get("sub_msg", "")))


class _Sdk(AliPay):
    def _verify_and_return_sync_response(self, raw_string, response_type):
        """Raise our errors for error replies, then let the SDK verify the signature of a success."""
        reply = json.loads(raw_string)  # ValueError: mapped to UpstreamBadResponse by the caller
        body = (reply.get("error_response") or reply.get(response_type)) if isinstance(reply, dict) else None
        if not isinstance(body, dict):
            raise UpstreamBadResponse(PARTY, f"reply holds neither {response_type} nor error_response")
        # Error replies are not verified, as in the SDK: Alipay leaves some unsigned, and a forged refusal
        # can only deny a login, never grant one.
        if "error_response" in reply or body.get("code", SUCCESS) != SUCCESS:
            raise _refusal(body)
        if "sign" not in reply:
            raise UpstreamBadResponse(PARTY, "reply is not signed")
        return super()._verify_and_return_sync_response(raw_string, response_type)


class AlipayMiniProgram:
    def __init__(
        self,
        app_id: str,
        app_private_key_pem: str,
        alipay_public_key_pem: str,
        gateway_url: str,
        timeout: float = 5.0,
    ):
        # The SDK's one HTTP call is urlopen(url, timeout=config.timeout); its default would be 15 s.
        self._sdk = _Sdk(
            app_id,
            None,
            app_private_key_pem,
            alipay_public_key_pem,
            sign_type="RSA2",
            config=AliPayConfig(timeout=timeout),
        )
        self._sdk._gateway = gateway_url
        parts = urlsplit(gateway_url)
        self._where = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self.timeout = timeout

    def oauth_token(self, auth_code: str) -> AlipayUser:
        """Exchange the code from my.getAuthCode for the user's ids (the code is single-use)."""
        reply = self._call("alipay.system.oauth.token", grant_type="authorization_code", code=auth_code)
        user = AlipayUser(user_id=reply.get("user_id") or None, open_id=reply.get("open_id") or None)
        if user.user_id is None and user.open_id is None:
            raise UpstreamBadResponse(PARTY, "token reply names no user")
        return user

    def _call(self, method: str, **params) -> dict:
        params.setdefault("timestamp", datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
        where = self._where
        try:
            return self._sdk.server_api(method, **params)
        except urllib.error.HTTPError as error:
            # The gateway answers 200 even for refusals: another status is the HTTP layer's.
            status = error.code
            error.close()
            if status >= 500 or status in RETRYABLE_STATUSES:
                raise UpstreamUnavailable(PARTY, f"{where} answered HTTP {status}", status) from None
            raise UpstreamRejected(PARTY, f"{where} answered HTTP {status}", status) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise UpstreamTimeout(PARTY, f"no answer from {where} within {self.timeout}s") from None
            raise UpstreamUnavailable(PARTY, f"cannot reach {where}: {type(error.reason).__name__}") from None
        except TimeoutError:
            raise UpstreamTimeout(PARTY, f"no answer from {where} within {self.timeout}s") from None
        except AliPayValidationError:
            raise UpstreamBadResponse(PARTY, "reply signature does not verify with Alipay's public key") from None
        except (AliPayException, ValueError):
            raise UpstreamBadResponse(PARTY, f"{where} answered with a body that is not a gateway reply") from None
        except (OSError, http.client.HTTPException) as error:
            raise UpstreamUnavailable(PARTY, f"{where} broke off: {type(error).__name__}") from None
