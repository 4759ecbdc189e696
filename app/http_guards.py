"""Request guards shared by every API route."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import UnsupportedMediaType

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def accepts_any_body(view):
    """Mark a view (a function, or a MethodView class) that takes a non-JSON body (e.g. Alipay's
    form-encoded notifications)."""
    view.accepts_any_body = True
    return view


def init_guards(app: Flask) -> None:
    @app.before_request
    def _json_only():
        if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
            return None
        if request.routing_exception is not None:
            return None  # 404/405 say more than 415 would
        has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
        if not has_body or request.is_json:
            return None
        view = current_app.view_functions.get(request.endpoint)
        marked = getattr(view, "accepts_any_body", False) or getattr(
            getattr(view, "view_class", None), "accepts_any_body", False
        )
        if marked:
            return None
        raise UnsupportedMediaType()
