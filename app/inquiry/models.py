"""What a citizen keeps with us for inquiries: accounts bound after verification, and their history."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText


class BoundAccount(db.Model):
    """An account (户号, 公积金账号, 社保卡号) the department confirmed the citizen may use."""

    __tablename__ = "bound_accounts"
    __table_args__ = (
        sa.UniqueConstraint("citizen_id", "kind", "number_index", name="uq_bound_accounts_citizen_kind_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))  # water, power, gas, property, gjj, si
    connector: Mapped[str] = mapped_column(sa.String(64))  # the configured connector that verified it
    number: Mapped[str] = mapped_column(EncryptedText)
    number_index: Mapped[str] = mapped_column(sa.String(64))
    holder: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QueryRecord(db.Model):
    __tablename__ = "query_history"
    # Newest first is this index read backwards.
    __table_args__ = (sa.Index("ix_query_history_citizen_newest", "citizen_id", "id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    service_code: Mapped[str] = mapped_column(sa.String(64))
    inputs: Mapped[dict] = mapped_column(JSONType)  # masked before they are written
    outcome: Mapped[str] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
