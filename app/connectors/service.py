"""Configuring connectors (platform operators) and building them from what is stored.

A configuration is checked against its kind's schema; its secret fields are stored encrypted and never
returned (an update may leave them out to keep them). Built connectors are kept per process for the
catalog generation, which a configuration change moves on: a publish or a new setting is seen at once.
"""

from __future__ import annotations

import json
import logging
import re
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.audit import service as audit
from app.catalog import reads
from app.city.models import Department
from app.clock import shown, utcnow
from app.connectors.models import ConnectorConfig
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db, redis
from app.identity.tokens import Caller
from app.security import pii
from integrations.clouds import load_connectors
from integrations.connectors import metrics
from integrations.connectors.base import REGISTRY, Connector
from integrations.connectors.cache import LocalAnswers, ResponseCache
from integrations.connectors.gateway import Gateway
from integrations.connectors.schemas import describe_connector, secret_fields

load_connectors()
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Built:
    connector: Connector
    department_code: str | None


_built: dict[str, tuple[int, Built | None]] = {}  # one assignment replaces an entry: safe across threads


class RedisTokens:
    """Access tokens fetched from a party, shared by every worker, sealed like personal data. With Redis
    down each call fetches a token of its own: slower, but the citizen still gets an answer."""

    def get(self, key):
        try:
            raw = redis.client.get(f"connector:{key}:token")
            return pii.decrypt(raw.decode()) if raw else None
        except (LookupError, ValueError, RedisError):
            return None  # sealed with a retired key, or Redis down: fetch a new one

    def put(self, key, token, ttl_seconds):
        with suppress(RedisError):
            redis.client.set(f"connector:{key}:token", pii.encrypt(token), ex=ttl_seconds)

    def drop(self, key):
        with suppress(RedisError):
            redis.client.delete(f"connector:{key}:token")


def kinds() -> list[dict]:
    """Every kind of connector there is, with its operations and configuration schema (no values)."""
    return [describe_connector(REGISTRY[kind]) for kind in sorted(REGISTRY)]


NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def configure(caller: Caller, name: str, body: dict) -> dict:
    if not NAME.fullmatch(name):
        raise AppError("INVALID_CONFIG", "连接器配置有误", 422, {"fields": {"name": ["小写字母开头，最长 64 位"]}})
    kind = body["kind"]
    cls = REGISTRY.get(kind)
    if cls is None:
        raise AppError("UNKNOWN_CONNECTOR_KIND", "没有这种连接器", 422, {"kinds": sorted(REGISTRY)})
    secret_names = secret_fields(cls.Config)
    with unit_of_work() as s:
        row = s.scalar(sa.select(ConnectorConfig).where(ConnectorConfig.name == name).with_for_update())
        kept = json.loads(row.secrets) if row is not None and row.kind == kind else {}
        try:
            loaded = cls.Config().load({**kept, **body["settings"]})
        except ma.ValidationError as error:
            # Marshmallow's messages name the rule, never the value: a secret is not echoed back.
            raise AppError("INVALID_CONFIG", "连接器配置有误", 422, {"fields": error.messages}) from None
        _check_where(loaded["base_url"])
        department = body["department"]
        known = s.scalar(sa.select(Department.code).where(Department.code == department)) if department else None
        if department is not None and known is None:
            raise AppError("INVALID_CONFIG", "连接器配置有误", 422, {"fields": {"department": ["没有这个部门"]}})
        before = _audited(row)
        if row is None:
            row = ConnectorConfig(name=name)
            s.add(row)
        row.kind, row.department_code, row.enabled = kind, department, body["enabled"]
        row.settings = {key: value for key, value in loaded.items() if key not in secret_names}
        row.secrets = json.dumps({key: loaded[key] for key in secret_names if key in loaded})
        row.updated_at, row.updated_by = utcnow(), f"{caller.kind}:{caller.subject}"
        changed = sorted(set(body["settings"]) & set(secret_names))
        details = {"kind": kind, "before": before, "after": _audited(row), "secrets_changed": changed}
        audit.record("connector.configure", "connector", name, details=details)
        reads.invalidate()  # after the commit: every worker builds the connector anew
    return view(row)


def _audited(row: ConnectorConfig | None) -> dict | None:
    """What an auditor needs to see changed: where citizens' data goes, whose it is, whether it is on."""
    if row is None:
        return None
    return {"base_url": row.settings.get("base_url"), "department": row.department_code, "enabled": row.enabled}


def _check_where(base_url: str) -> None:
    # Secrets and citizens' identities travel to this address: in production only over TLS.
    if current_app.config["APP_ENV"] == "production" and urlsplit(base_url).scheme != "https":
        raise AppError("INVALID_CONFIG", "连接器配置有误", 422, {"fields": {"base_url": ["生产环境须使用 https"]}})


def view(row: ConnectorConfig) -> dict:
    """What operators see of a configuration: everything but the secrets, and which secrets are set."""
    return {
        "name": row.name,
        "kind": row.kind,
        "title": REGISTRY[row.kind].title if row.kind in REGISTRY else row.kind,
        "department": row.department_code,
        "enabled": row.enabled,
        "settings": row.settings,
        "secrets_set": sorted(json.loads(row.secrets)),
        "updated_at": shown(row.updated_at),
    }


def overview() -> list[dict]:
    """Every configured connector with its breaker and the last quarter hour's figures."""
    rows = db.session.scalars(sa.select(ConnectorConfig).order_by(ConnectorConfig.name)).all()
    views = [(view(row), row.settings) for row in rows]
    db.session.rollback()  # nothing held while Redis is asked
    client, items = redis.client, []
    for shown_row, settings in views:
        name = shown_row["name"]
        breaker = gateway().breaker_for(name, settings.get("failure_threshold", 5), settings.get("open_seconds", 30))
        items.append(shown_row | {"breaker": breaker.state(), "figures": metrics.summary(client, name)})
    return items


def built(name: str) -> Built | None:
    """The configured connector of this name, built once per catalog generation; None if none is enabled."""
    generation = reads.generation()
    hit = _built.get(name)
    if hit is not None and hit[0] == generation:
        return hit[1]
    row = db.session.scalar(
        sa.select(ConnectorConfig).where(ConnectorConfig.name == name, ConnectorConfig.enabled.is_(True))
    )
    made = None
    if row is not None and row.kind in REGISTRY:
        cls = REGISTRY[row.kind]
        try:
            settings = cls.Config().load({**row.settings, **json.loads(row.secrets)})
            made = Built(cls(row.name, settings, RedisTokens()), row.department_code)
        except (ma.ValidationError, LookupError, ValueError):
            # A stored configuration this release no longer reads, or secrets under a retired key:
            # the connector is out of service until an operator configures it again.
            log.error("connector configuration unusable", extra={"connector": name})
    _built[name] = (generation, made)
    return made


def account_verifier(kind: str) -> tuple[str, str] | None:
    """(connector name, operation) of the enabled connector that verifies this kind of account."""
    rows = db.session.execute(
        sa.select(ConnectorConfig.name, ConnectorConfig.kind)
        .where(ConnectorConfig.enabled.is_(True))
        .order_by(ConnectorConfig.name)
    ).all()
    for name, connector_kind in rows:
        cls = REGISTRY.get(connector_kind)
        if cls is not None and kind in cls.accounts:
            return name, cls.accounts[kind]
    return None


def _cache_key_hash(raw: bytes) -> str:
    return pii.blind_index("connector-cache", raw.decode())


# This worker's copies of public answers, for the catalog generation they were read in: a connector's
# new settings (another system, say) move the generation on, and the copies with it.
_local: list[tuple[int, LocalAnswers]] = []


def _local_answers() -> LocalAnswers | None:
    seconds = current_app.config.get("CONNECTOR_LOCAL_CACHE_SECONDS", 0)
    generation = reads.generation()
    if not seconds or generation < 0:
        return None
    kept = _local[0] if _local else None
    if kept is None or kept[0] != generation:
        kept = (generation, LocalAnswers(seconds))
        _local[:] = [kept]
    return kept[1]


def gateway() -> Gateway:
    client = redis.client
    cache = ResponseCache(client, hasher=_cache_key_hash, seal=pii.encrypt, unseal=pii.decrypt, local=_local_answers())
    return Gateway(client, cache)
