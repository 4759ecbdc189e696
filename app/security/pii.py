"""Personal data at rest: AES-GCM with a key id, a keyed hash to find it, and masks to show it.

Stored form: "<kid>:<base64(nonce || ciphertext+tag)>". Rotation adds a key, makes it active,
then `flask keys rotate` re-encrypts; old keys stay until nothing uses them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from app.security.keys import PiiKeys


def _keys() -> PiiKeys:
    return current_app.extensions["pii_keys"]


def encrypt(plaintext: str, keys: PiiKeys | None = None) -> str:
    keys = keys or _keys()
    nonce = os.urandom(12)
    sealed = AESGCM(keys.keys[keys.active_kid]).encrypt(nonce, plaintext.encode(), None)
    return f"{keys.active_kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, keys: PiiKeys | None = None) -> str:
    keys = keys or _keys()
    kid, _, blob = stored.partition(":")
    if kid not in keys.keys:
        raise LookupError(f"personal data encrypted with key {kid!r}, which is not configured")
    raw = base64.b64decode(blob)
    try:
        return AESGCM(keys.keys[kid]).decrypt(raw[:12], raw[12:], None).decode()
    except InvalidTag:
        raise ValueError("personal data failed its integrity check") from None


def key_id(stored: str) -> str:
    return stored.partition(":")[0]


def blind_index(kind: str, value: str) -> str:
    """Keyed hash for lookups and uniqueness: equal values match, nobody without the key can guess."""
    return hmac.new(_keys().hash_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedText(sa.TypeDecorator):
    """A column whose value is encrypted on the way in and decrypted on the way out."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


def mask_phone(phone: str | None) -> str | None:
    return None if not phone else f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(number: str | None) -> str | None:
    """First 4 and last 4 characters, stars between: enough for a person to recognise their own."""
    if not number:
        return None
    number = "".join(number.split()).upper()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str | None) -> str | None:
    return None if not name else name[0] + "*" * (len(name) - 1)
