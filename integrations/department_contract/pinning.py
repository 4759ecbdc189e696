"""Connecting to the address we vetted, not to whatever the name resolves to a moment later (DNS rebinding).

In production check_endpoint_url resolves the department's host and refuses private addresses. If requests
then resolved the name again to connect, a hostile DNS server with TTL 0 could answer a public address for
the check and 10.x or 169.254.169.254 for the connection. So the URL we connect to carries the vetted
address, while TLS (SNI and the certificate's name) and the Host header keep the registered name: the
adapter hands the name to urllib3 as its `server_hostname` and `assert_hostname` pool keys, through the
extension point requests documents (HTTPAdapter.build_connection_pool_key_attributes).
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import idna
import requests
from requests.adapters import HTTPAdapter

from integrations.http import pooled_session

_local = threading.local()


class PinnedAddressAdapter(HTTPAdapter):
    """HTTPS to the address in the URL, speaking TLS for the name in the request's Host header.

    The name is part of the pool key, so a kept-alive connection is only reused for the same address and name.
    """

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = tls_name(request.headers.get("Host"))
        if host_params["scheme"] == "https" and name:
            pool_kwargs = {**pool_kwargs, "server_hostname": name, "assert_hostname": name}
        return host_params, pool_kwargs


def pinned_session() -> requests.Session:
    """This thread's session for pinned calls: kept-alive connections, like integrations.http.pooled_session."""
    # Its own session, not a mount on the shared one: other parties' requests never go through this adapter.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.headers.update(pooled_session().headers)
        session.mount("https://", PinnedAddressAdapter())
    return session


def ascii_host(hostname: str) -> str:
    """The name as it goes on the wire (Host, SNI): an internationalised name in its xn-- form, as requests does."""
    return hostname if hostname.isascii() else idna.encode(hostname, uts46=True).decode("ascii")


def tls_name(host_header: str | None) -> str | None:
    """The name in a Host header, without port or IPv6 brackets."""
    return urlsplit(f"//{host_header}").hostname if host_header else None


def pin(url: str, address: str) -> tuple[str, str]:
    """(`url` with `address` in place of its host, the Host header naming the host and port as `url` did)."""
    parts = urlsplit(url)
    name = ascii_host(parts.hostname)
    port = f":{parts.port}" if parts.port else ""
    host = f"[{name}]" if ":" in name else name
    at = f"[{address}]" if ":" in address else address
    return urlunsplit(parts._replace(netloc=f"{at}{port}")), f"{host}{port}"
