"""What the WeChat Pay twin (sandbox.py) says on the wire: the merchant's Authorization checked, answers and
notifications signed by the platform key, notification resources sealed with the APIv3 key, WeChat-shaped ids.

It signs and verifies with `cryptography`, never with wechatpayv3, so the twin and our client check each other.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrations.sandbox.twin_kit import BEIJING, NonceMemory, timestamp_problem

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
SIGN_ERROR = (401, "SIGN_ERROR", "签名错误")
TAMPERS = (None, "signature", "timestamp", "amount", "appid", "mchid", "ciphertext", "serial")
STALE_SECONDS = 600  # a "timestamp" tampered notification is this old: well past the 5 minutes a receiver allows

_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
_AUTH_NAMES = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")


@dataclass(frozen=True)
class Setup:
    """The merchant as WeChat Pay knows it, and the platform's own key: given by configure(), kept by reset()."""

    mchid: str
    appid: str
    merchant_public: object  # RSAPublicKey: checks the merchant's requests
    merchant_serial: str  # the merchant API certificate's serial, named in every Authorization
    platform_private: object  # RSAPrivateKey: signs answers and notifications
    public_key_id: str  # PUB_KEY_ID_…: the Wechatpay-Serial of everything the platform signs
    api_v3_key: bytes  # 32 bytes: AES-256-GCM key of notification resources

    @classmethod
    def load(cls, mchid, appid, merchant_public_pem, merchant_serial, platform_private_pem, public_key_id, api_v3_key):
        key = api_v3_key.encode()
        if len(key) != 32:
            raise ValueError("the APIv3 key is 32 characters")
        return cls(
            mchid=mchid,
            appid=appid,
            merchant_public=serialization.load_pem_public_key(merchant_public_pem.encode()),
            merchant_serial=merchant_serial,
            platform_private=serialization.load_pem_private_key(platform_private_pem.encode(), password=None),
            public_key_id=public_key_id,
            api_v3_key=key,
        )


def authorization_problem(setup: Setup, header: str, method: str, path: str, body: bytes, nonces: NonceMemory):
    """None when `header` is the merchant's valid Authorization for this request; else (status, code, message).

    The signed message is METHOD, the path with its query, timestamp, nonce and the raw body, each line ended
    by a newline. The nonce is remembered only once the signature holds, so a forger cannot burn nonces."""
    scheme, _, rest = header.partition(" ")
    fields = dict(_AUTH_FIELD.findall(rest))
    if scheme != SIGNATURE_TYPE or any(not fields.get(name) for name in _AUTH_NAMES):
        return SIGN_ERROR
    if fields["mchid"] != setup.mchid:
        return 400, "MCH_NOT_EXISTS", "商户号不存在"
    if fields["serial_no"] != setup.merchant_serial or timestamp_problem(fields["timestamp"]):
        return SIGN_ERROR
    message = f"{method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
    try:
        signature = base64.b64decode(fields["signature"], validate=True)
        setup.merchant_public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return SIGN_ERROR
    if nonces.seen_before(fields["nonce_str"]):
        return SIGN_ERROR  # a replay
    return None


def canonical(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(setup: Setup, body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The platform's signature headers over `timestamp\\nnonce\\nbody\\n`, as on every answer and notification."""
    stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(16)
    message = f"{stamp}\n{nonce}\n{body}\n".encode()
    signature = setup.platform_private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Serial": setup.public_key_id,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def seal(setup: Setup, plaintext: dict, associated_data: str) -> dict:
    """A notification's `resource`: the plaintext sealed with AEAD_AES_256_GCM (ciphertext and tag, base64)."""
    nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
    sealed = AESGCM(setup.api_v3_key).encrypt(nonce.encode(), canonical(plaintext).encode(), associated_data.encode())
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def notification(setup: Setup, plaintext: dict, *, event_type: str, summary: str, original_type: str,
                 amount_key: str, tamper: str | None = None, timestamp: int | None = None):  # fmt: skip
    """(headers, raw body) of one notification: a fresh id and nonce each time, as WeChat's retries have.

    `tamper` makes the forgeries a receiver must refuse (see sandbox.py's docstring for each kind)."""
    if tamper not in TAMPERS:
        raise ValueError(f"tamper is one of {TAMPERS}")
    plaintext = copy.deepcopy(plaintext)
    if tamper == "amount":
        plaintext["amount"][amount_key] += 1  # validly signed and sealed: only a cross-check catches it
    elif tamper in ("appid", "mchid"):
        plaintext[tamper] = _other_id(plaintext.get(tamper) or "")
    resource = seal(setup, plaintext, original_type)
    if tamper == "ciphertext":
        sealed = bytearray(base64.b64decode(resource["ciphertext"]))
        sealed[0] ^= 0xFF
        resource["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    body = canonical(
        {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(datetime.now(BEIJING)),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
        }
    )
    if tamper == "timestamp":
        timestamp = int(time.time()) - STALE_SECONDS
    headers = signed_headers(setup, body, timestamp=timestamp)
    if tamper == "signature":
        signature = bytearray(base64.b64decode(headers["Wechatpay-Signature"]))
        signature[0] ^= 0xFF
        headers["Wechatpay-Signature"] = base64.b64encode(bytes(signature)).decode()
    elif tamper == "serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_" + secrets.token_hex(16).upper()  # another platform key
    headers["Content-Type"] = "application/json"
    return headers, body.encode()


def _other_id(value: str) -> str:
    if value.startswith("wx"):
        return "wx" + secrets.token_hex(8)
    return str(int(value) + 1) if value.isdigit() else "1900000001"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def prepay_id(now: datetime) -> str:
    """Like wx201410272009395522657a690389285100: "wx", the time to the second, 20 more characters."""
    return "wx" + now.astimezone(BEIJING).strftime("%Y%m%d%H%M%S") + secrets.token_hex(10)


def transaction_id(now: datetime) -> str:
    """28 digits like 4200002166202406250324636876: 4200, 6 digits, the date, 10 digits."""
    return "4200" + _digits(6) + now.astimezone(BEIJING).strftime("%Y%m%d") + _digits(10)


def refund_id(now: datetime) -> str:
    """29 digits like 50302709992024070991956632208: 503, 7 digits, the date, 11 digits."""
    return "503" + _digits(7) + now.astimezone(BEIJING).strftime("%Y%m%d") + _digits(11)
