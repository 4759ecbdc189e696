"""The audit log table, and the ORM half of its append-only rule (the trigger in 0006 is the other half)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db

ACTOR_KINDS = ("staff", "operator", "client", "citizen", "system", "anonymous")
OUTCOMES = ("ok", "denied", "failed")


class AuditEntry(db.Model):
    """One recorded action. `details` holds ids and field names only, never personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.CheckConstraint(
            "actor_kind IN ('staff', 'operator', 'client', 'citizen', 'system', 'anonymous')", name="actor_kind"
        ),
        sa.CheckConstraint("outcome IN ('ok', 'denied', 'failed')", name="outcome"),
        # The auditor's filters, each ending in id for the newest-first keyset. text_pattern_ops lets
        # `action LIKE 'outbox.%'` use the index whatever the database's collation.
        sa.Index("ix_audit_log_actor", "actor_id", "id"),
        sa.Index("ix_audit_log_action", "action", "id", postgresql_ops={"action": "text_pattern_ops"}),
        sa.Index("ix_audit_log_object", "object_type", "object_id", "id"),
        sa.Index("ix_audit_log_at", "at"),
    )

    # Integer on SQLite: only INTEGER PRIMARY KEY counts up there.
    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(always=True), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[str | None] = mapped_column(sa.String(64))
    actor_department: Mapped[str | None] = mapped_column(sa.String(32))
    actor_roles: Mapped[list] = mapped_column(JSONType)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[str | None] = mapped_column(sa.String(128))
    outcome: Mapped[str] = mapped_column(sa.String(8))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    details: Mapped[dict] = mapped_column(JSONType)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context, instances) -> None:
    """Covers SQLite (no trigger there) and fails early on PostgreSQL."""
    for entry in session.deleted:
        if isinstance(entry, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries cannot be deleted")
    for entry in session.dirty:
        if isinstance(entry, AuditEntry) and session.is_modified(entry):
            raise AuditLogIsAppendOnly("audit entries cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """`session.execute(update(AuditEntry))` and the like skip the flush: stop them here."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditLogIsAppendOnly("audit entries cannot be changed or deleted")
