"""The department's endpoint URL: the rules it must follow, and in production the one address we connect to.

Checked when a service or webhook URL is saved and again before every call (docs/department-contract.md, §1).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from flask import current_app, has_app_context

# Characters that reach the department exactly as we sign them (requests would re-encode anything else).
_PATH = re.compile(r"(/[A-Za-z0-9._~-]*)*")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class EndpointRefused(ValueError):
    """An endpoint URL we will not call. `reason` is a short code, `message` Chinese for the person who typed it."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason, self.message = reason, message


@dataclass(frozen=True)
class Endpoint:
    url: str  # checked, without a trailing slash unless a route was added with at()
    # Production: the vetted address, the only one we connect to (pinning.py). None: resolve as usual.
    address: str | None = None

    def at(self, route: str) -> Endpoint:
        return replace(self, url=self.url + route)


def local_endpoints_allowed() -> bool:
    """Outside production, http:// and loopback or private hosts are fine (the sandbox, tests, a laptop)."""
    if has_app_context():
        return current_app.config.get("APP_ENV") != "production"
    return os.environ.get("APP_ENV", "development") != "production"


def _public_address(host: str, port: int) -> str:
    """The address to connect to, once every address the name resolves to proved public."""
    # One private answer is enough to reach inside, so all are checked; the first is the one we use.
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise EndpointRefused("UNRESOLVABLE", "无法解析该地址的主机名") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not address.is_global or address.is_multicast or (mapped is not None and not mapped.is_global):
            raise EndpointRefused("INTERNAL_ADDRESS", "该地址指向内网或本机，不能作为部门接口地址")
    if not infos:
        raise EndpointRefused("UNRESOLVABLE", "无法解析该地址的主机名")
    return infos[0][4][0]


def vet_endpoint(url: str, allow_http: bool) -> Endpoint:
    """The endpoint without a trailing slash, or EndpointRefused.

    With allow_http off (production): https only, and the host must resolve to public addresses only, so a
    registered service cannot make us call into our own network (SSRF). The address vetted is kept: calls
    connect to it, so a name that resolves elsewhere a moment later (DNS rebinding) changes nothing.
    """
    if not isinstance(url, str) or not url or len(url) > 2048 or CONTROL_CHARACTERS.search(url) or " " in url:
        raise EndpointRefused("MALFORMED", "接口地址格式不正确")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise EndpointRefused("MALFORMED", "接口地址格式不正确") from None
    if parts.scheme not in ({"https", "http"} if allow_http else {"https"}):
        raise EndpointRefused("NOT_HTTPS", "接口地址必须以 https:// 开头")
    if "@" in parts.netloc:
        raise EndpointRefused("USERINFO", "接口地址中不能包含用户名或密码")
    if not parts.hostname or port == 0:
        raise EndpointRefused("MALFORMED", "接口地址缺少主机名或端口不正确")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise EndpointRefused("QUERY", "接口地址中不能包含查询参数或锚点")
    path = parts.path.rstrip("/")
    if not _PATH.fullmatch(path) or any(segment in {".", ".."} for segment in path.split("/")):
        raise EndpointRefused("PATH", "接口路径只能包含字母、数字和 . _ ~ - /")
    address = None if allow_http else _public_address(parts.hostname, port or 443)
    return Endpoint(f"{parts.scheme}://{parts.netloc}{path}", address)


def check_endpoint_url(url: str, allow_http: bool) -> str:
    """The endpoint without a trailing slash, or EndpointRefused (the rules of vet_endpoint)."""
    return vet_endpoint(url, allow_http).url
