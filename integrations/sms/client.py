"""Client of the SMS provider, shaped like Aliyun Dysms SendSms: signed JSON in, a BizId out.

The phone number and the template parameters (a verification code!) are secrets to us:
they go in the request body only, never into an exception message or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from datetime import UTC, datetime

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamUnavailable
from integrations.http import post_json

PARTY = "sms"
# Provider-side failures ("isp." is Aliyun's prefix for its own faults): trying later may help.
UNAVAILABLE_CODES = {"ServiceUnavailable", "InternalError"}
_SAFE_TOKEN = re.compile(r"[\w.\-]{1,80}")  # what a provider code or request id looks like


def _safe(value) -> str:
    # Only echo upstream tokens that look like codes, so nothing odd (or personal) reaches our logs.
    return value if isinstance(value, str) and _SAFE_TOKEN.fullmatch(value) else "?"


def sign(body: dict, secret: str) -> str:
    """Base64 HMAC-SHA256 over the body's fields as sorted "k=v" joined by "&"."""
    canonical = "&".join(f"{key}={body[key]}" for key in sorted(body))
    return base64.b64encode(hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()).decode()


class SmsRejected(UpstreamRejected):
    """The provider refused the message; `provider_code` says why (e.g. isv.MOBILE_NUMBER_ILLEGAL).

    `code` stays UPSTREAM_REJECTED like the rest of the family: our API's error codes do not leak the provider's.
    """

    def __init__(self, provider_code: str, request_id: str | None = None):
        super().__init__(PARTY, f"refused the message: {provider_code} (RequestId {request_id or '?'})")
        self.provider_code, self.request_id = provider_code, request_id


class SmsClient:
    def __init__(self, base_url: str, access_key_id: str, access_key_secret: str, sign_name: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.timeout = sign_name, timeout

    def send(self, phone: str, template_code: str, params: dict) -> str:
        """Send one templated message; return the provider's BizId (to trace delivery receipts)."""
        body = {
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "AccessKeyId": self.access_key_id,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SignatureNonce": str(uuid.uuid4()),  # the provider refuses replays of a signed request
        }
        headers = {"X-Signature": sign(body, self.access_key_secret)}
        answer = post_json(PARTY, f"{self.base_url}/send", body, headers=headers, timeout=self.timeout)
        code, request_id = answer.get("Code"), _safe(answer.get("RequestId"))
        if code == "OK":
            if not answer.get("BizId"):
                raise UpstreamBadResponse(PARTY, f"answered OK without a BizId (RequestId {request_id})")
            return str(answer["BizId"])
        if not isinstance(code, str) or not code:
            raise UpstreamBadResponse(PARTY, f"answered without a Code (RequestId {request_id})")
        if code.startswith("isp.") or code in UNAVAILABLE_CODES:
            raise UpstreamUnavailable(PARTY, f"failed on its side: {_safe(code)} (RequestId {request_id})")
        # The provider's "Message" is deliberately dropped: it may quote the number back.
        raise SmsRejected(_safe(code), request_id)
