"""RSA-2048 keypairs as PEM text with 64-character lines: the form python-alipay-sdk loads."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class KeyPair:
    private_pem: str  # PKCS#8, "BEGIN PRIVATE KEY"
    public_pem: str  # SubjectPublicKeyInfo, "BEGIN PUBLIC KEY", as the Alipay console shows its key


def generate_keypair() -> KeyPair:
    """A fresh keypair, for the sandbox and tests (cryptography already wraps PEM at 64 characters)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private_pem=private.decode(), public_pem=public.decode())


def pem_from_base64(body: str, *, private: bool) -> str:
    """Wrap a key as the Alipay console gives it (one bare base64 line) into PEM with 64-character lines."""
    label = "PRIVATE KEY" if private else "PUBLIC KEY"
    lines = "\n".join(textwrap.wrap("".join(body.split()), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"
