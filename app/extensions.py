"""Extension singletons, wired to an app by `init_app`. Nothing here opens a connection."""

from __future__ import annotations

import logging

import redis as redis_lib
from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.api import CityApi
from app.db_naming import NAMING_CONVENTION
from app.jobs.celery_app import celery  # noqa: F401 - re-exported with the other singletons

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RedisExtension:
    """The current app's Redis client: real from REDIS_URL, or fakeredis in the embedded default.

    The client lives in app.extensions, so two apps in one process (tests) never share one by accident.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config["REDIS_URL"]
        if url:
            timeout = app.config["REDIS_TIMEOUT_SECONDS"]
            # from_url only builds a pool; the first command connects.
            client = redis_lib.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
            )
        else:
            import fakeredis

            client = fakeredis.FakeRedis()
            log.warning("REDIS_URL is not set: using the in-process Redis stand-in (embedded default only)")
        app.extensions["redis"] = client

    @property
    def client(self) -> redis_lib.Redis:
        return current_app.extensions["redis"]

    def __getattr__(self, name):
        return getattr(self.client, name)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = CityApi()
redis = RedisExtension()
