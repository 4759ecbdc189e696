"""The city-services backend. `create_app()` builds the whole product from the environment."""

from __future__ import annotations

import logging
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_config
from app.oauth.scopes import SCOPES as DEPARTMENT_SCOPES
from app.rate_limits import init_rate_limits
from app.version import VERSION

log = logging.getLogger(__name__)

SECURITY_SCHEMES = {
    "citizenToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "citizen access token from /api/v1/auth/wechat or /auth/alipay",
    },
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "department staff or platform operator token from the console login",
    },
    "departmentClient": {
        "type": "oauth2",
        "description": "a department system (client credentials; see docs/department-clients.md)",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": dict(DEPARTMENT_SCOPES)}},
    },
}


class CityFlask(Flask):
    """Flask, minus a per-request cost: it inspects every hook for `async def` on every request."""

    def ensure_sync(self, func):
        cache = self.__dict__.setdefault("_sync_cache", {})
        try:
            return cache[func]
        except KeyError:
            cache[func] = wrapped = super().ensure_sync(func)
            return wrapped
        except TypeError:  # an unhashable callable: no caching
            return super().ensure_sync(func)


class NoCookieSessions(SessionInterface):
    def open_session(self, app, request):
        return None  # Flask then uses a null session that refuses writes

    def save_session(self, app, session, response):
        return None


def create_app(environ: dict | None = None) -> Flask:
    """Build the app from `environ` (default: os.environ); tests pass their own."""
    from app.observability.logging import configure_logging

    config = load_config(environ)
    configure_logging(config["LOG_LEVEL"])

    app = CityFlask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.update(config)
    app.config.update(_api_settings())
    app.json.ensure_ascii = False  # Chinese as UTF-8, readable and a third of the size
    app.json.sort_keys = False
    # The API is stateless (bearer tokens): no cookie session to sign or read on every request.
    app.session_interface = NoCookieSessions()
    _configure_database(app)
    _init_extensions(app)
    _register_routes(app)
    init_rate_limits(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        # Client address and scheme only: the Host we answer for is not the client's to choose.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    if app.config["SANDBOX"]:
        _mount_sandbox(app)
    return app


def _api_settings() -> dict:
    return {
        "API_TITLE": "枣庄市民综合服务平台 City Services API",
        "API_VERSION": VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",  # served from the swagger-ui-bundle package: no CDN
        "API_SPEC_OPTIONS": {"components": {"securitySchemes": SECURITY_SCHEMES}},
    }


def _configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        Path(app.instance_path).mkdir(exist_ok=True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"check_same_thread": False},
            "hide_parameters": True,
        }
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # Bound values (phones, ID numbers) must not reach logs through error messages.
            "hide_parameters": True,
            # PgBouncer in transaction mode cannot keep server-side prepared statements.
            "connect_args": {"prepare_threshold": None} if app.config["DB_PGBOUNCER"] else {},
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_MAX_OVERFLOW"],
            "pool_pre_ping": app.config["DB_PRE_PING"],
            "pool_recycle": 1800,
        }


def _init_extensions(app: Flask) -> None:
    from app.errors import register_error_handlers
    from app.extensions import api, db, migrate, redis
    from app.http_guards import init_guards
    from app.jobs.celery_app import init_celery
    from app.observability import init_observability
    from app.observability.metrics import watch_pool

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"), render_as_batch=True
    )
    redis.init_app(app)
    init_observability(app)
    init_guards(app)
    api.init_app(app)
    register_error_handlers(app)
    init_celery(app)
    _load_keys(app)
    with app.app_context():
        watch_pool(db.engine)
    _import_models()


def _load_keys(app: Flask) -> None:
    """Parse every key at start, so a bad one stops the process now rather than a login later."""
    from app.security.keys import pii_keys, signing_keys

    app.extensions["signing_keys"] = signing_keys(app.config)
    app.extensions["pii_keys"] = pii_keys(app.config)


def _import_models() -> None:
    """Every model module, so metadata (and Alembic autogenerate) sees all tables."""
    import app.audit.models
    import app.catalog.models
    import app.catalog.tasks
    import app.city.models
    import app.connectors.models
    import app.identity.tasks  # the tasks modules register Celery tasks
    import app.inquiry.models
    import app.oauth.models
    import app.outbox.models
    import app.outbox.tasks
    import app.payments.models
    import app.payments.tasks
    import app.staff.models
    import app.wifi.models  # noqa: F401 - each import binds `app` again: only the last counts as unused


def _register_routes(app: Flask) -> None:
    from app.cli import register_cli
    from app.extensions import api
    from app.identity.policy import public
    from blueprints import auth, catalog, city, connectors, console, payments, services, status
    from blueprints.health import blp as health_blp
    from blueprints.oauth import blp as oauth_blp
    from blueprints.ops import blp as ops_blp

    app.register_blueprint(health_blp)
    app.register_blueprint(auth.wellknown)
    api.register_blueprint(status.blp)
    api.register_blueprint(city.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(oauth_blp)
    api.register_blueprint(console.blp)
    api.register_blueprint(catalog.blp)
    api.register_blueprint(services.blp)
    api.register_blueprint(payments.blp)
    api.register_blueprint(payments.ops_blp)
    api.register_blueprint(connectors.blp)
    api.register_blueprint(ops_blp)

    @app.get("/api/docs/assets/<path:filename>")
    @public
    def swagger_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)

    register_cli(app)


def _mount_sandbox(app: Flask) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from integrations.sandbox import create_sandbox_app

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/_sandbox": create_sandbox_app()})
    log.warning("SANDBOX=1: outside parties are served by their twins under /_sandbox")
