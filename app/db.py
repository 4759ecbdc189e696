"""Model base, portable column types and the one place that commits."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from app.extensions import db


class UTCDateTime(sa.TypeDecorator):
    """timestamptz on PostgreSQL; on SQLite stored as naive UTC. Always returns aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.clock.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        # PostgreSQL answers in the session's time zone; callers always get UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON elsewhere.
JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


@contextmanager
def unit_of_work():
    """The transaction boundary of a domain operation: commit on success, roll back on error.

    After the commit, hooks registered with `after_commit()` run (outbox dispatch uses it),
    so nothing leaves the process for work that was rolled back.

    A unit of work opened inside another joins it: only the outermost commits or rolls back,
    so a service can call another service and both succeed or fail together.
    """
    session = db.session
    depth = session.info.get("uow_depth", 0)
    session.info["uow_depth"] = depth + 1
    try:
        if depth:
            yield session
            return
        try:
            yield session
            _commit(session)
        except BaseException:
            session.rollback()
            session.info.pop("after_commit", None)
            raise
    finally:
        session.info["uow_depth"] = depth
    for hook in session.info.pop("after_commit", []):
        hook()


def _commit(session) -> None:
    """Commit; a connection lost during the commit leaves its outcome unknown, which the caller is told
    (a plain 503 would invite a retry, and a retry of a write that did commit would do it twice)."""
    from app.errors import AppError

    try:
        session.commit()
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        raise AppError("OUTCOME_UNKNOWN", "网络异常，操作结果未知，请刷新后查看", 503, {"retry_safe": False}) from error


def after_commit(hook) -> None:
    """Run `hook()` once the current unit of work has committed; dropped on rollback."""
    db.session.info.setdefault("after_commit", []).append(hook)


@contextmanager
def single_read():
    """A pooled connection in autocommit for one read-only query: no BEGIN and ROLLBACK round trips.

    For hot read paths only; never write through it (each statement would commit on its own).
    """
    with db.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def read_once(statement, params: dict | None = None) -> list:
    """All rows of one read-only statement through `single_read`, tried a second time on a fresh
    connection if the pooled one turns out dead (the database restarted): without a pre-ping per
    checkout, the first read after a restart would otherwise fail. Reads are safe to repeat."""
    for attempt in (1, 2):
        try:
            with single_read() as connection:
                return connection.execute(statement, params or {}).all()
        except sa.exc.DBAPIError as error:
            # SQLAlchemy has invalidated the whole pool by now: the second try connects afresh.
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")
