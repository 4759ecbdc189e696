"""Serving a WSGI app on a free loopback port from a thread, for twins under test."""

import threading
from contextlib import contextmanager

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # the twins' access lines would bury the test output (and some carry one-time codes)


@contextmanager
def serving(wsgi_app):
    """Yields the base URL (http://127.0.0.1:PORT) while the app is served."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@contextmanager
def serving_twin(twin, name: str):
    """One twin alone, mounted where the sandbox mounts it; yields its base URL."""
    from flask import Flask

    app = Flask(f"{name}-twin-test")
    app.register_blueprint(twin.blueprint, url_prefix=f"/_sandbox/{name}")
    with serving(app) as url:
        yield f"{url}/_sandbox/{name}"
