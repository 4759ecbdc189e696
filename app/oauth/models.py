from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db

ACTIVE, DISABLED = "active", "disabled"


class DepartmentClient(db.Model):
    """A department system allowed to call the API with its own token (client credentials).

    The secret is kept only as its SHA-256 hex digest (see app.oauth.service.secret_hash); the CHECK on
    its length refuses a clear secret written here by mistake.
    """

    __tablename__ = "department_clients"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),
        sa.CheckConstraint("length(secret_hash) = 64", name="secret_hash"),
    )

    client_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    department_code: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("departments.code"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONType)  # the most a token of this client may carry
    status: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    secret_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
