"""Configuring connectors (platform operators) and building them from what is stored.

A configuration is checked against its kind's schema; its secret fields are stored encrypted and never
returned (an update may leave them out to keep them). Built connectors are kept per process for the
catalog generation, which a configuration change moves on: a publish or a new setting is seen at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa

from app.audit import service as audit
from app.catalog import reads
from app.city.models import Department
from app.clock import shown, utcnow
from app.connectors.models import ConnectorConfig
from app.db import after_commit, unit_of_work
from app.errors import AppError
from app.extensions import db, redis
from app.identity.tokens import Caller
from app.security import pii
from integrations.clouds import load_connectors
from integrations.connectors import metrics
from integrations.connectors.base import REGISTRY, Connector
from integrations.connectors.cache import ResponseCache
from integrations.connectors.gateway import Gateway
from integrations.connectors.schemas import describe_connector, secret_fields

load_connectors()


@dataclass(frozen=True)
class Built:
    connector: Connector
    department_code: str | None


_built: dict[str, tuple[int, Built | None]] = {}
_lock = threading.Lock()


class RedisTokens:
    """Access tokens fetched from a party, shared by every worker, sealed like personal data."""

    def get(self, key):
        raw = redis.client.get(f"connector:{key}:token")
        try:
            return pii.decrypt(raw.decode()) if raw else None
        except (LookupError, ValueError):
            return None  # sealed with a retired key: fetch a new one

    def put(self, key, token, ttl_seconds):
        redis.client.set(f"connector:{key}:token", pii.encrypt(token), ex=ttl_seconds)

    def drop(self, key):
        redis.client.delete(f"connector:{key}:token")


def kinds() -> list[dict]:
    """Every kind of connector there is, with its operations and configuration schema (no values)."""
    return [describe_connector(REGISTRY[kind]) for kind in sorted(REGISTRY)]


def configure(caller: Caller, name: str, body: dict) -> dict:
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
        department = body.get("department")
        known = s.scalar(sa.select(Department.code).where(Department.code == department)) if department else None
        if department is not None and known is None:
            raise AppError("INVALID_CONFIG", "连接器配置有误", 422, {"fields": {"department": ["没有这个部门"]}})
        if row is None:
            row = ConnectorConfig(name=name)
            s.add(row)
        row.kind, row.department_code, row.enabled = kind, department, body.get("enabled", True)
        row.settings = {key: value for key, value in loaded.items() if key not in secret_names}
        row.secrets = json.dumps({key: loaded[key] for key in secret_names if key in loaded})
        row.updated_at, row.updated_by = utcnow(), f"{caller.kind}:{caller.subject}"
        changed = sorted(set(body["settings"]) & set(secret_names))
        audit.record("connector.configure", "connector", name, details={"kind": kind, "secrets_changed": changed})
        after_commit(reads.invalidate)
    return view(row)


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
    db.session.rollback()
    client, items = redis.client, []
    for row in rows:
        settings = row.settings
        breaker = gateway().breaker_for(row.name, settings["failure_threshold"], settings["open_seconds"])
        items.append(view(row) | {"breaker": breaker.state(), "figures": metrics.summary(client, row.name)})
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
        settings = cls.Config().load({**row.settings, **json.loads(row.secrets)})
        made = Built(cls(row.name, settings, RedisTokens()), row.department_code)
    with _lock:
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


def account_kinds() -> set[str]:
    return {kind for cls in REGISTRY.values() for kind in cls.accounts}


def _cache_key_hash(raw: bytes) -> str:
    return pii.blind_index("connector-cache", raw.decode())


def gateway() -> Gateway:
    client = redis.client
    return Gateway(client, ResponseCache(client, hasher=_cache_key_hash, seal=pii.encrypt, unseal=pii.decrypt))
