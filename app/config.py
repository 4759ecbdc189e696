"""Every setting the product reads, from environment variables, in one place.

The README's settings table mirrors `SETTINGS` below; a test keeps them in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Every outside party's base URL; empty means its sandbox twin, which production refuses.
OUTSIDE_BASE_URLS = (
    "DEPARTMENT_SYSTEM_BASE_URL",
    "WECHAT_BASE_URL",
    "ALIPAY_GATEWAY_URL",
    "SMS_BASE_URL",
    "SHARING_BASE_URL",
    "WECHATPAY_BASE_URL",
)
# Secrets with no safe default: production refuses to start without each of them.
REQUIRED_SECRETS = (
    "JWT_PRIVATE_KEYS",
    "PII_KEYS",
    "PII_HASH_KEY",
    "WECHAT_APP_SECRET",
    "ALIPAY_APP_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
    "SMS_ACCESS_KEY_SECRET",
    "SHARING_APP_SECRET",
)
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-not-secret-change-me"  # noqa: S105 - the known default production refuses
EMBEDDED_DATABASE_URL = f"sqlite:///{ROOT / 'instance' / 'city.db'}"


class ConfigError(RuntimeError):
    """The configuration cannot run; the message says which setting and why."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


# name, default, what it does. Defaults are the embedded default (`make run`).
SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", "development", "development, test or production; production refuses unsafe settings"),
    Setting("SECRET_KEY", DEFAULT_SECRET_KEY, "Flask secret; production needs 32+ random characters"),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "where this server is reached; builds callback URLs"),
    Setting("DATABASE_URL", "", "SQLAlchemy URL; empty = embedded SQLite in instance/city.db"),
    Setting("DB_POOL_SIZE", "10", "database connections kept per process (PostgreSQL)"),
    Setting("DB_MAX_OVERFLOW", "10", "extra connections a process may open under load"),
    Setting("DB_PRE_PING", "0", "1 pings each pooled connection before use (a round trip per request)"),
    Setting("DB_PGBOUNCER", "0", "1 when DATABASE_URL goes through PgBouncer in transaction mode"),
    Setting("REDIS_URL", "", "redis:// URL; empty = in-process stand-in (embedded default only)"),
    Setting("REDIS_TIMEOUT_SECONDS", "0.5", "connect and socket timeout for Redis calls"),
    Setting("CELERY_BROKER_URL", "", "Celery broker; empty = REDIS_URL"),
    Setting("CELERY_EAGER", "", "1 runs tasks inline; empty = on only without REDIS_URL"),
    Setting("SANDBOX", "1", "1 serves the twins of every outside party under /_sandbox; never in production"),
    Setting("DEPARTMENT_SYSTEM_BASE_URL", "", "generic department system; empty = its sandbox twin"),
    Setting("CLOUDS_SANDBOX_BASE_URL", "", "seed-demo points the demo connectors at <url>/<cloud>; empty = /_sandbox"),
    Setting("MAX_CONTENT_LENGTH", "1048576", "largest request body in bytes (413 above)"),
    Setting("RATELIMIT_DEFAULT", "300 per minute", "limit per route and caller (citizen, client, staff; else IP)"),
    Setting("RATELIMIT_ENABLED", "1", "0 turns rate limiting off (benchmarks only)"),
    Setting("CONNECTOR_LOCAL_CACHE_SECONDS", "2", "a worker keeps public (and guests' finished) answers; 0 = off"),
    Setting("USE_COUNT_BATCH_SECONDS", "1", "a worker counts service uses in Redis once per this; 0 = at each run"),
    Setting("RATELIMIT_BATCH_SECONDS", "0.1", "a worker adds batched rate-limit counts to Redis this often; 0 = exact"),
    Setting("TRUSTED_PROXIES", "0", "reverse proxies in front (nginx = 1) whose X-Forwarded-* headers are trusted"),
    Setting("OUTBOX_MAX_ATTEMPTS", "8", "delivery attempts before a message is dead-lettered"),
    Setting("OUTBOX_BACKOFF_SECONDS", "5", "first retry delay; doubles each attempt"),
    Setting("OUTBOX_BACKOFF_MAX_SECONDS", "3600", "longest delay between two attempts"),
    Setting("OUTBOX_SWEEP_SECONDS", "10", "how often beat looks for due outbox messages"),
    Setting("OUTBOX_HTTP_TIMEOUT_SECONDS", "5", "read timeout of one outbox HTTP delivery"),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    Setting("ACCESS_LOG", "1", "0 silences the per-request JSON access line"),
    Setting("GIT_COMMIT", "", "commit shown at /api/v1/status; empty = read from .git at start"),
    # Identity: tokens and personal data
    Setting("JWT_PRIVATE_KEYS", "", 'JSON {"kid": "Ed25519 private key PEM"}; every key verifies, one signs'),
    Setting("JWT_ACTIVE_KID", "", "kid of the key that signs new tokens; empty = the first"),
    Setting("ACCESS_TOKEN_SECONDS", "900", "lifetime of an access token"),
    Setting("REFRESH_TOKEN_DAYS", "30", "lifetime of a refresh token (each use rotates it)"),
    Setting("OAUTH_CLIENT_RATE_LIMIT", "30 per minute", "/oauth calls per client id and IP address, failures included"),
    Setting("STAFF_SESSION_HOURS", "12", "console sessions end after this long without a refresh"),
    Setting("STAFF_LOCKOUT_FAILURES", "5", "wrong passwords or TOTP codes in a row that lock a console account"),
    Setting("STAFF_LOCKOUT_MINUTES", "15", "how long a locked console account stays locked"),
    Setting("PII_KEYS", "", 'JSON {"kid": "base64 of 32 random bytes"}: AES-GCM keys for personal data'),
    Setting("PII_ACTIVE_KID", "", "kid of the PII key that encrypts new values; empty = the first"),
    Setting("PII_HASH_KEY", "", "base64 key of the keyed hash used to look personal data up"),
    # Outside parties (empty base URL = the sandbox twin)
    Setting("WECHAT_APP_ID", "wx0000demo0000mini", "mini-program appid"),
    Setting("WECHAT_APP_SECRET", "", "mini-program AppSecret"),
    Setting("WECHAT_BASE_URL", "", "WeChat API base, https://api.weixin.qq.com/"),
    Setting("ALIPAY_APP_ID", "2021000000000000", "Alipay mini-program app id"),
    Setting("ALIPAY_APP_PRIVATE_KEY", "", "our RSA2 private key (PEM) for Alipay"),
    Setting("ALIPAY_PUBLIC_KEY", "", "Alipay's RSA2 public key (PEM)"),
    Setting("ALIPAY_GATEWAY_URL", "", "Alipay gateway, https://openapi.alipay.com/gateway.do"),
    Setting("SMS_BASE_URL", "", "SMS provider API base"),
    Setting("SMS_ACCESS_KEY_ID", "city-sms", "SMS provider access key id"),
    Setting("SMS_ACCESS_KEY_SECRET", "", "SMS provider access key secret"),
    Setting("SMS_SIGN_NAME", "枣庄市民服务", "signature shown in SMS texts"),
    Setting("SHARING_BASE_URL", "", "information-sharing platform (population database) API base"),
    Setting("SHARING_APP_KEY", "city-services", "our app key at the sharing platform"),
    Setting("SHARING_APP_SECRET", "", "our app secret at the sharing platform"),
    # Payments (docs/payments.md). Keys are PEM text or a path to a PEM file.
    Setting("PAYMENT_CHANNELS", "wechat,alipay", "payment channels offered; in production each needs its keys"),
    Setting("PAYMENT_EXPIRY_MINUTES", "15", "an unpaid order closes (with the channel's order) after this"),
    Setting("WECHATPAY_MCH_ID", "1900000109", "WeChat Pay merchant id (商户号)"),
    Setting("WECHATPAY_CERT_SERIAL_NO", "", "serial number of our merchant API certificate"),
    Setting("WECHATPAY_PRIVATE_KEY", "", "our merchant API private key (apiclient_key.pem)"),
    Setting("WECHATPAY_PUBLIC_KEY", "", "WeChat Pay platform public key (public-key mode)"),
    Setting("WECHATPAY_PUBLIC_KEY_ID", "", "its id, PUB_KEY_ID_…"),
    Setting("WECHATPAY_API_V3_KEY", "", "APIv3 key (32 characters): decrypts notifications"),
    Setting("WECHATPAY_BASE_URL", "", "WeChat Pay API base, https://api.mch.weixin.qq.com"),
    Setting("WECHATPAY_NOTIFY_URL", "", "where WeChat Pay notifies us; empty = PUBLIC_BASE_URL's"),
    Setting("ALIPAY_SELLER_ID", "2088102000000001", "our Alipay merchant PID (seller_id in notifications)"),
    Setting("ALIPAY_NOTIFY_URL", "", "where Alipay notifies us; empty = PUBLIC_BASE_URL's"),
)
# Identifiers whose defaults belong to the demo: production must name its own.
DEMO_IDS = (
    "WECHAT_APP_ID",
    "ALIPAY_APP_ID",
    "SMS_ACCESS_KEY_ID",
    "SHARING_APP_KEY",
    "WECHATPAY_MCH_ID",
    "ALIPAY_SELLER_ID",
)
# Each payment channel's keys: without them (and without the sandbox) the channel cannot start.
CHANNEL_KEYS = {
    "wechat": (
        "WECHATPAY_CERT_SERIAL_NO",
        "WECHATPAY_PRIVATE_KEY",
        "WECHATPAY_PUBLIC_KEY",
        "WECHATPAY_PUBLIC_KEY_ID",
        "WECHATPAY_API_V3_KEY",
    ),
    "alipay": ("ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"),
}
PEM_SETTINGS = ("WECHATPAY_PRIVATE_KEY", "WECHATPAY_PUBLIC_KEY")
# Settings passed to the app as they are (strings); the identity modules parse their own.
PASSTHROUGH = (
    "JWT_PRIVATE_KEYS",
    "JWT_ACTIVE_KID",
    "PII_KEYS",
    "PII_ACTIVE_KID",
    "PII_HASH_KEY",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "ALIPAY_APP_ID",
    "ALIPAY_APP_PRIVATE_KEY",
    "ALIPAY_PUBLIC_KEY",
    "SMS_ACCESS_KEY_ID",
    "SMS_ACCESS_KEY_SECRET",
    "SMS_SIGN_NAME",
    "SHARING_APP_KEY",
    "SHARING_APP_SECRET",
)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: dict, name: str, kind=int):
    raw = env[name]
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def database_url(raw: str) -> str:
    """Empty -> embedded SQLite; postgres:// and postgresql:// -> the psycopg 3 driver we ship."""
    if not raw:
        return EMBEDDED_DATABASE_URL
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def load_config(environ: dict | None = None) -> dict:
    """Read the settings and return a Flask config mapping. Raises ConfigError."""
    source = os.environ if environ is None else environ
    env = {s.name: source.get(s.name, s.default) for s in SETTINGS}
    redis_url = env["REDIS_URL"].strip()
    sandbox = _bool(env["SANDBOX"])
    base = env["PUBLIC_BASE_URL"].rstrip("/")
    eager = _bool(env["CELERY_EAGER"]) if env["CELERY_EAGER"] else not redis_url
    config = {
        "APP_ENV": env["APP_ENV"],
        "SECRET_KEY": env["SECRET_KEY"],
        "PUBLIC_BASE_URL": base,
        "SQLALCHEMY_DATABASE_URI": database_url(env["DATABASE_URL"]),
        "DB_POOL_SIZE": _number(env, "DB_POOL_SIZE"),
        "DB_MAX_OVERFLOW": _number(env, "DB_MAX_OVERFLOW"),
        "DB_PGBOUNCER": _bool(env["DB_PGBOUNCER"]),
        "DB_PRE_PING": _bool(env["DB_PRE_PING"]),
        "REDIS_URL": redis_url,
        "REDIS_TIMEOUT_SECONDS": _number(env, "REDIS_TIMEOUT_SECONDS", float),
        "CELERY_BROKER_URL": env["CELERY_BROKER_URL"] or redis_url or "memory://",
        "CELERY_EAGER": eager,
        "SANDBOX": sandbox,
        "DEPARTMENT_SYSTEM_BASE_URL": env["DEPARTMENT_SYSTEM_BASE_URL"] or f"{base}/_sandbox/department",
        "CLOUDS_SANDBOX_BASE_URL": env["CLOUDS_SANDBOX_BASE_URL"] or f"{base}/_sandbox",
        "MAX_CONTENT_LENGTH": _number(env, "MAX_CONTENT_LENGTH"),
        "RATELIMIT_DEFAULT": env["RATELIMIT_DEFAULT"],
        "RATELIMIT_ENABLED": _bool(env["RATELIMIT_ENABLED"]),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # X-RateLimit-* headers cost Redis round trips on every request; a 429 still says Retry-After.
        "RATELIMIT_HEADERS_ENABLED": False,
        # Flask-Limiter sends Retry-After on every answer; a 200 should not tell clients to wait.
        "RATELIMIT_HEADER_RETRY_AFTER": "X-RateLimit-Retry-After",
        # If Redis is down, serve without limits rather than fail every request; /readyz reports it.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "USE_COUNT_BATCH_SECONDS": _number(env, "USE_COUNT_BATCH_SECONDS", float),
        "RATELIMIT_BATCH_SECONDS": _number(env, "RATELIMIT_BATCH_SECONDS", float),
        "CONNECTOR_LOCAL_CACHE_SECONDS": _number(env, "CONNECTOR_LOCAL_CACHE_SECONDS", float),
        "TRUSTED_PROXIES": _number(env, "TRUSTED_PROXIES"),
        "OUTBOX_MAX_ATTEMPTS": _number(env, "OUTBOX_MAX_ATTEMPTS"),
        "OUTBOX_BACKOFF_SECONDS": _number(env, "OUTBOX_BACKOFF_SECONDS", float),
        "OUTBOX_BACKOFF_MAX_SECONDS": _number(env, "OUTBOX_BACKOFF_MAX_SECONDS", float),
        "OUTBOX_SWEEP_SECONDS": _number(env, "OUTBOX_SWEEP_SECONDS", float),
        "OUTBOX_HTTP_TIMEOUT_SECONDS": _number(env, "OUTBOX_HTTP_TIMEOUT_SECONDS", float),
        "LOG_LEVEL": env["LOG_LEVEL"].upper(),
        "ACCESS_LOG": _bool(env["ACCESS_LOG"]),
        "GIT_COMMIT": env["GIT_COMMIT"],
        "ACCESS_TOKEN_SECONDS": _number(env, "ACCESS_TOKEN_SECONDS"),
        "REFRESH_TOKEN_DAYS": _number(env, "REFRESH_TOKEN_DAYS"),
        "OAUTH_CLIENT_RATE_LIMIT": env["OAUTH_CLIENT_RATE_LIMIT"],
        "STAFF_SESSION_HOURS": _number(env, "STAFF_SESSION_HOURS"),
        "STAFF_LOCKOUT_FAILURES": _number(env, "STAFF_LOCKOUT_FAILURES"),
        "STAFF_LOCKOUT_MINUTES": _number(env, "STAFF_LOCKOUT_MINUTES"),
        "WECHAT_BASE_URL": env["WECHAT_BASE_URL"] or f"{base}/_sandbox/wechat/",
        "ALIPAY_GATEWAY_URL": env["ALIPAY_GATEWAY_URL"] or f"{base}/_sandbox/alipay/gateway.do",
        "SMS_BASE_URL": env["SMS_BASE_URL"] or f"{base}/_sandbox/sms",
        "SHARING_BASE_URL": env["SHARING_BASE_URL"] or f"{base}/_sandbox/sharing",
        **{name: env[name] for name in PASSTHROUGH},
        **_payments(env, base, env["APP_ENV"] == "production"),
    }
    for name in ("USE_COUNT_BATCH_SECONDS", "CONNECTOR_LOCAL_CACHE_SECONDS"):
        if not 0 <= config[name] <= 60:
            raise ConfigError(f"{name}={config[name]!r}: use 0 (off) to 60 seconds")
    if not 0 <= config["RATELIMIT_BATCH_SECONDS"] <= 1:
        raise ConfigError(f"RATELIMIT_BATCH_SECONDS={config['RATELIMIT_BATCH_SECONDS']!r}: use 0 (exact) to 1 second")
    if config["LOG_LEVEL"] not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"LOG_LEVEL={config['LOG_LEVEL']!r}: use DEBUG, INFO, WARNING or ERROR")
    if config["APP_ENV"] not in {"development", "test", "production"}:
        raise ConfigError(f"APP_ENV={config['APP_ENV']!r}: use development, test or production")
    if config["APP_ENV"] == "production":
        missing = [f"{name} must be set (empty means the sandbox twin)" for name in OUTSIDE_BASE_URLS if not env[name]]
        missing += [
            f"{name} must be set (it has no safe default)" for name in REQUIRED_SECRETS if not env[name].strip()
        ]
        defaults = {s.name: s.default for s in SETTINGS}
        missing += [f"{name} is still the demo value" for name in DEMO_IDS if env[name] == defaults[name]]
        check_production(config, missing)
    return config


def _pem(name: str, value: str) -> str:
    """PEM text as given, or read from the path given."""
    value = value.strip()
    if not value or value.startswith("-----BEGIN"):
        return value
    try:
        return Path(value).read_text()
    except OSError as error:
        raise ConfigError(f"{name}: cannot read the PEM file {value!r} ({error.strerror})") from None


def _payments(env: dict, base: str, production: bool) -> dict:
    """Outside production an empty key means the sandbox twin's (made at start, as for login); in
    production an enabled channel without its keys stops the start, naming them."""
    channels = tuple(name for name in (part.strip() for part in env["PAYMENT_CHANNELS"].split(",")) if name)
    unknown = sorted(set(channels) - set(CHANNEL_KEYS))
    if unknown:
        raise ConfigError(f"PAYMENT_CHANNELS: unknown channel(s) {', '.join(unknown)}; use wechat, alipay")
    config = {name: _pem(name, env[name]) for name in PEM_SETTINGS}
    for channel in channels:
        missing = [name for name in CHANNEL_KEYS[channel] if not (config.get(name) or env[name]).strip()]
        if missing and production:
            raise ConfigError(
                f"payment channel {channel} is enabled (PAYMENT_CHANNELS) but {', '.join(missing)} "
                "not set: set them, or take the channel out of PAYMENT_CHANNELS"
            )
    key = env["WECHATPAY_API_V3_KEY"]
    if key and len(key.encode()) != 32:
        raise ConfigError("WECHATPAY_API_V3_KEY must be the 32-character APIv3 key")
    minutes = _number(env, "PAYMENT_EXPIRY_MINUTES")
    if not 5 <= minutes <= 120:
        raise ConfigError(f"PAYMENT_EXPIRY_MINUTES={minutes}: use 5 to 120")
    return {
        **config,
        "PAYMENT_CHANNELS": channels,
        "PAYMENT_EXPIRY_MINUTES": minutes,
        "WECHATPAY_MCH_ID": env["WECHATPAY_MCH_ID"],
        "WECHATPAY_CERT_SERIAL_NO": env["WECHATPAY_CERT_SERIAL_NO"],
        "WECHATPAY_PUBLIC_KEY_ID": env["WECHATPAY_PUBLIC_KEY_ID"],
        "WECHATPAY_API_V3_KEY": key,
        "WECHATPAY_BASE_URL": (env["WECHATPAY_BASE_URL"] or f"{base}/_sandbox/wechatpay").rstrip("/"),
        "WECHATPAY_NOTIFY_URL": env["WECHATPAY_NOTIFY_URL"] or f"{base}/api/v1/payments/notify/wechat",
        "ALIPAY_SELLER_ID": env["ALIPAY_SELLER_ID"],
        "ALIPAY_NOTIFY_URL": env["ALIPAY_NOTIFY_URL"] or f"{base}/api/v1/payments/notify/alipay",
    }


def check_production(config: dict, missing: list[str]) -> None:
    """Refuse to run a real city on demo settings."""
    problems = list(missing)
    if config["SANDBOX"]:
        problems.append("SANDBOX=1 (the fake outside parties) is not allowed in production")
    secret = config["SECRET_KEY"].strip()
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32 or len(set(secret)) < 8:
        problems.append("SECRET_KEY is the default, shorter than 32 characters or not random")
    if not config["PUBLIC_BASE_URL"].startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be the public https:// address (payment callbacks use it)")
    if not config["RATELIMIT_ENABLED"]:
        problems.append("RATELIMIT_ENABLED=0 is for benchmarks, not production")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("DATABASE_URL must point to PostgreSQL")
    if not config["REDIS_URL"]:
        problems.append("REDIS_URL must be set (the in-process stand-in is for the embedded default only)")
    if config["CELERY_EAGER"]:
        problems.append("CELERY_EAGER must be off (tasks belong to the workers)")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))
