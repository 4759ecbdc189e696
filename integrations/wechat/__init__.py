"""WeChat mini-program: the client (login, phone number) and its sandbox twin (integrations.wechat.sandbox)."""

from integrations.wechat.client import (
    CODE_USED,
    INVALID_CODE,
    RISKY_USER,
    WeChatBadResponse,
    WeChatError,
    WeChatMiniProgram,
    WeChatSession,
    WeChatTimeout,
    WeChatUnavailable,
)

__all__ = [
    "CODE_USED",
    "INVALID_CODE",
    "RISKY_USER",
    "WeChatBadResponse",
    "WeChatError",
    "WeChatMiniProgram",
    "WeChatSession",
    "WeChatTimeout",
    "WeChatUnavailable",
]
