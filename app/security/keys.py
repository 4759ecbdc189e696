"""Key material from configuration. Outside production, missing keys are derived from SECRET_KEY,
so the embedded default and the tests work with no setup and every worker derives the same keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import KeySet, OKPKey

from app.config import ConfigError


def derive(secret: str, purpose: str, length: int = 32) -> bytes:
    """A stable key for `purpose` from SECRET_KEY (development and tests only)."""
    return hmac.new(secret.encode(), f"zz-city-services/{purpose}".encode(), hashlib.sha256).digest()[:length]


def _json_object(config: dict, name: str) -> dict[str, str]:
    try:
        value = json.loads(config[name])
    except ValueError:
        raise ConfigError(f"{name} is not valid JSON") from None
    if not isinstance(value, dict) or not value:
        raise ConfigError(f'{name} must be a JSON object {{"kid": "key"}} with at least one key')
    return value


@dataclass(frozen=True, eq=False)  # hashed by identity: verified tokens are cached per key set
class SigningKeys:
    active_kid: str
    private: KeySet  # every configured key: signs with the active one, verifies with any
    public_jwks: dict


def signing_keys(config: dict) -> SigningKeys:
    if config["JWT_PRIVATE_KEYS"]:
        pems = _json_object(config, "JWT_PRIVATE_KEYS")
        keys = []
        for kid, pem in pems.items():
            try:
                private = serialization.load_pem_private_key(pem.encode(), password=None)
            except ValueError:
                raise ConfigError(f"JWT_PRIVATE_KEYS[{kid!r}] is not a PEM private key") from None
            if not isinstance(private, Ed25519PrivateKey):
                raise ConfigError(f"JWT_PRIVATE_KEYS[{kid!r}] must be an Ed25519 key")
            keys.append(OKPKey.import_key(pem, parameters={"kid": kid, "use": "sig", "alg": "Ed25519"}))
    else:
        seed = derive(config["SECRET_KEY"], "jwt-signing")
        pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        keys = [OKPKey.import_key(pem, parameters={"kid": "dev-1", "use": "sig", "alg": "Ed25519"})]
    kids = [k.kid for k in keys]
    active = config["JWT_ACTIVE_KID"] or kids[0]
    if active not in kids:
        raise ConfigError(f"JWT_ACTIVE_KID={active!r} is not one of JWT_PRIVATE_KEYS ({', '.join(kids)})")
    key_set = KeySet(keys)
    return SigningKeys(active, key_set, key_set.as_dict(private=False))


@dataclass(frozen=True)
class PiiKeys:
    active_kid: str
    keys: dict[str, bytes]
    hash_key: bytes


def _b64_key(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ConfigError(f"{name} is not base64") from None
    if len(raw) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes (it has {len(raw)})")
    return raw


def pii_keys(config: dict) -> PiiKeys:
    secret = config["SECRET_KEY"]
    if config["PII_KEYS"]:
        keys = {kid: _b64_key(f"PII_KEYS[{kid!r}]", v) for kid, v in _json_object(config, "PII_KEYS").items()}
    else:
        keys = {"dev-1": derive(secret, "pii-encryption")}
    active = config["PII_ACTIVE_KID"] or next(iter(keys))
    if active not in keys:
        raise ConfigError(f"PII_ACTIVE_KID={active!r} is not one of PII_KEYS")
    if ":" in "".join(keys):
        raise ConfigError("PII key ids must not contain ':'")
    hash_key = (
        _b64_key("PII_HASH_KEY", config["PII_HASH_KEY"]) if config["PII_HASH_KEY"] else derive(secret, "pii-hash")
    )
    return PiiKeys(active, keys, hash_key)
