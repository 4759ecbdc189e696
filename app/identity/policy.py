"""The one policy layer. Every view declares who may call it; the access-matrix test checks them all.

    @public                      anyone, no token needed
    @require_citizen             a citizen's access token
    @allow_citizen               anyone; a token, if sent, must be a citizen's
    @require_role("operator")    a staff or operator token carrying one of the roles
    @require_scope("catalog:write")  a department system's client token with the scope

The check runs before the view; `current_caller()` tells the view (and the services) who it is.
Object ownership is the services' job: they are given the caller.
"""

from __future__ import annotations

import functools

from flask import g, request
from flask_smorest.utils import deepupdate

from app.errors import AppError
from app.identity import tokens
from app.identity.tokens import ANONYMOUS, Caller

# Routes the framework adds, which cannot carry a decorator. Anything else undeclared fails the matrix test.
FRAMEWORK_PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "static"})


def endpoint_policy(app, endpoint: str, method: str) -> dict | None:
    """The policy a route declares for a method (None: undeclared, which the matrix test forbids)."""
    if endpoint in FRAMEWORK_PUBLIC_ENDPOINTS:
        return {"kind": "public"}
    view = app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    # Flask answers HEAD with the GET view.
    name = "get" if method.upper() == "HEAD" else method.lower()
    target = getattr(view_class, name, None) if view_class else view
    return getattr(target, "policy", None)


def current_caller() -> Caller:
    return g.get("caller", ANONYMOUS)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authenticate() -> Caller:
    token = bearer_token()
    if token is None:
        raise AppError("UNAUTHORIZED", "请先登录", 401, {}, {"WWW-Authenticate": "Bearer"})
    return tokens.verify(token)


def _declare(view, policy: dict, security: list, check):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        g.caller = check()
        return view(*args, **kwargs)

    guarded.policy = policy
    guarded._apidoc = deepupdate(getattr(view, "_apidoc", {}), {"manual_doc": {"security": security}})
    return guarded


def public(view):
    return _declare(view, {"kind": "public"}, [], lambda: ANONYMOUS)


def require_citizen(view):
    def check():
        caller = _authenticate()
        if caller.kind != "citizen":
            raise AppError("FORBIDDEN", "仅限市民使用", 403)
        return caller

    return _declare(view, {"kind": "citizen"}, [{"citizenToken": []}], check)


def allow_citizen(view):
    """Anyone; a token, if sent, must be a good citizen token. For services that some citizens use signed
    in and others not: whether this one needs a login is the service's rule, checked by the domain."""

    def check():
        if bearer_token() is None:
            return ANONYMOUS
        caller = _authenticate()
        if caller.kind != "citizen":
            raise AppError("FORBIDDEN", "仅限市民使用", 403)
        return caller

    return _declare(view, {"kind": "citizen_or_anonymous"}, [{}, {"citizenToken": []}], check)


def require_role(*roles: str):
    def decorate(view):
        def check():
            caller = _authenticate()
            if caller.kind not in {"staff", "operator"} or not caller.roles & set(roles):
                raise AppError("FORBIDDEN", "无权进行此操作", 403, {"needs_role": sorted(roles)})
            return caller

        return _declare(view, {"kind": "role", "roles": sorted(roles)}, [{"staffToken": []}], check)

    return decorate


def require_scope(*scopes: str):
    def decorate(view):
        def check():
            caller = _authenticate()
            if caller.kind != "client" or not set(scopes) <= caller.scopes:
                raise AppError("FORBIDDEN", "无权进行此操作", 403, {"needs_scope": sorted(scopes)})
            return caller

        return _declare(view, {"kind": "scope", "scopes": sorted(scopes)}, [{"departmentClient": list(scopes)}], check)

    return decorate


def require_any(roles: tuple[str, ...] = (), scopes: tuple[str, ...] = ()):
    """Staff or operators with one of `roles`, or department systems with all of `scopes`: for routes
    a department's clerk and its system both use. Which object each may touch is the service's call."""

    def decorate(view):
        def check():
            caller = _authenticate()
            if caller.kind in {"staff", "operator"} and caller.roles & set(roles):
                return caller
            if caller.kind == "client" and scopes and set(scopes) <= caller.scopes:
                return caller
            needs = {"needs_role": sorted(roles), "needs_scope": sorted(scopes)}
            raise AppError("FORBIDDEN", "无权进行此操作", 403, needs)

        policy = {"kind": "any", "roles": sorted(roles), "scopes": sorted(scopes)}
        security = [{"staffToken": []}, {"departmentClient": list(scopes)}] if scopes else [{"staffToken": []}]
        return _declare(view, policy, security, check)

    return decorate
