"""Can this process serve? Database reachable, Redis reachable, schema at the migrations' head."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import ROOT
from app.extensions import db, redis

MIGRATIONS_DIR = ROOT / "migrations"


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _database() -> tuple[bool, str]:
    try:
        versions = {row[0] for row in db.session.execute(sa.text("SELECT version_num FROM alembic_version"))}
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is reported
        db.session.rollback()
        return False, f"database: {type(error).__name__}"
    finally:
        db.session.rollback()
    heads = migration_heads()
    if versions != heads:
        return False, f"migrations: database at {sorted(versions) or 'none'}, code at {sorted(heads)}"
    return True, "ok"


def _redis() -> tuple[bool, str]:
    try:
        redis.ping()
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return False, f"redis: {type(error).__name__}"
    return True, "ok"


def check() -> dict[str, tuple[bool, str]]:
    return {"database": _database(), "redis": _redis()}
