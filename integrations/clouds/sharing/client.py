"""Client of the sharing platform's population connector: does this name go with this ID number?

The platform answers only "一致" or "不一致"; it never hands out the record itself.
The name and ID number are personal data: request body only, never an exception message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamUnavailable
from integrations.http import post_json

PARTY = "sharing"
RESULTS = {"一致": "match", "不一致": "no_match"}


def sign(fields: dict, secret: str) -> str:
    """Hex HMAC-SHA256 over the fields as sorted "k=v" joined by "&" (the platform's query-string style)."""
    canonical = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


class PopulationClient:
    def __init__(self, base_url: str, app_key: str, app_secret: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.app_key, self.app_secret, self.timeout = app_key, app_secret, timeout

    def verify(self, name: str, id_number: str) -> str:
        """ "match" or "no_match"; the platform's failures raise from the integrations.errors family."""
        fields = {
            "appKey": self.app_key,
            "timestamp": int(time.time() * 1000),
            "nonce": uuid.uuid4().hex,
            "xm": name,
            "sfzh": id_number,
        }
        body = {**fields, "sign": sign(fields, self.app_secret)}
        answer = post_json(PARTY, f"{self.base_url}/population/verify", body, timeout=self.timeout)
        code = answer.get("code")
        if code == "0000":
            result = RESULTS.get((answer.get("data") or {}).get("result"))
            if result is None:
                raise UpstreamBadResponse(PARTY, "answered 0000 without a known result")
            return result
        # Only the code is echoed, never "msg": the platform may quote the request back.
        if isinstance(code, str) and code.startswith("E5"):
            raise UpstreamUnavailable(PARTY, f"failed on its side: {code[:8]}")
        if isinstance(code, str) and code.startswith("E"):
            raise UpstreamRejected(PARTY, f"refused the query: {code[:8]}")  # E401 bad signature, E400 bad fields
        raise UpstreamBadResponse(PARTY, "answered without a known code")
