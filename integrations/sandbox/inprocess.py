"""The sandbox answering our own outbound calls in this process, with no server listening.

`flask seed-demo` runs before `make run` starts gunicorn, yet the go-live checklist must reach the
department twin under PUBLIC_BASE_URL/_sandbox. `sandbox_in_process()` mounts, on this thread's pooled
session (integrations/http.py), a requests transport adapter that hands each request under the
sandbox's URL to the sandbox WSGI app through werkzeug's test client, and takes it off again after.

Written here rather than taken from PyPI: requests-wsgi-adapter, the one package that does this, has
had no release since 2019. This one is small, and keeps what our clients rely on: the status, the
headers, the raw body for `stream=True` and `iter_content`, and no redirects followed by itself.
Timeouts do not apply: the app answers in the calling thread (a twin told to be slow is slow).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import Client

from integrations.http import pooled_session

# Computed by werkzeug from the body it is given; a copy from requests could disagree with it.
_LEFT_TO_WERKZEUG = {"content-length", "host"}


class WSGIAdapter(BaseAdapter):
    """Sends requests whose URL starts with `base_url` to `wsgi_app`, mounted at that URL's path."""

    def __init__(self, wsgi_app: Callable, base_url: str):
        super().__init__()
        self.client = Client(wsgi_app)
        self.base_url = base_url.rstrip("/")
        self.script_root = urlsplit(self.base_url).path

    def send(self, request: PreparedRequest, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        path = parts.path[len(self.script_root) :] or "/"
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _LEFT_TO_WERKZEUG]
        answer = self.client.open(
            path,
            base_url=self.base_url,
            method=request.method,
            query_string=parts.query,
            headers=headers,
            data=body,
            buffered=True,
        )
        try:
            return self._response(request, answer.status_code, answer.status, answer.headers, answer.get_data())
        finally:
            answer.close()

    def _response(self, request: PreparedRequest, status_code: int, status: str, headers, data: bytes) -> Response:
        response = Response()
        response.status_code = status_code
        response.reason = status.partition(" ")[2]
        response.headers = CaseInsensitiveDict()
        for name, value in headers.items():
            known = response.headers.get(name)
            response.headers[name] = f"{known}, {value}" if known else value
        response.encoding = get_encoding_from_headers(response.headers)
        # A file-like raw body: requests reads it for stream=False, iter_content reads it in chunks.
        response.raw = io.BytesIO(data)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass


@contextmanager
def sandbox_in_process(base_url: str, wsgi_app: Callable | None = None) -> Iterator[WSGIAdapter]:
    """While inside, this thread's outbound calls to `base_url`... are served by the sandbox in process.

    `base_url` is where the sandbox is (to be) served, e.g. http://127.0.0.1:5000/_sandbox. Other
    threads, and other URLs, are untouched; the adapter mounted there before (if any) is put back.
    """
    if wsgi_app is None:
        from integrations.sandbox import create_sandbox_app

        wsgi_app = create_sandbox_app()
    adapter = WSGIAdapter(wsgi_app, base_url)
    prefix = adapter.base_url + "/"  # not /_sandboxes or /_sandbox-other
    session = pooled_session()
    before = session.adapters.get(prefix)
    session.mount(prefix, adapter)
    try:
        yield adapter
    finally:
        session.adapters.pop(prefix, None)
        if before is not None:
            session.mount(prefix, before)
