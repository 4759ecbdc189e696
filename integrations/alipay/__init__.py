"""Alipay: mini-program login. The gateway's twin is integrations.alipay.sandbox (not imported here)."""

from integrations.alipay.client import AlipayError, AlipayMiniProgram, AlipayUser
from integrations.alipay.keys import KeyPair, generate_keypair, pem_from_base64

__all__ = ["AlipayError", "AlipayMiniProgram", "AlipayUser", "KeyPair", "generate_keypair", "pem_from_base64"]
