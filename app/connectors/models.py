"""A configured connector: which kind of system, whose, where it is and how we sign (docs/connectors.md)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText


class ConnectorConfig(db.Model):
    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What a service's binding names: {"type": "connector", "connector": <name>, "operation": ...}.
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(64))  # a key of integrations.connectors.base.REGISTRY
    # The department whose system it is; only its services may bind it. None: the platform's own
    # (the sharing platform), open to every department.
    department_code: Mapped[str | None] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    settings: Mapped[dict] = mapped_column(JSONType)  # the configuration without its secret fields
    secrets: Mapped[str] = mapped_column(EncryptedText)  # the secret fields, as encrypted JSON
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(sa.String(80))
