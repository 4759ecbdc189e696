"""A service and its versions. The service is the stable identity (code, department, cloud, kind);
each version holds what citizens see and what it is bound to, and moves through the lifecycle."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import JSONType, UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText

KINDS = ("inquiry", "payment", "appointment", "report", "link")
STATUSES = ("DRAFT", "SUBMITTED", "APPROVED", "REJECTED", "LIVE", "SUSPENDED", "RETIRED")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Service(db.Model):
    __tablename__ = "services"
    __table_args__ = (sa.CheckConstraint(_in("kind", KINDS), name="kind"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    department_code: Mapped[str] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    cloud: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # The version citizens see now; swapped in one UPDATE when a newer one is published.
    live_version_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    uses: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceVersion(db.Model):
    __tablename__ = "service_versions"
    __table_args__ = (
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.UniqueConstraint("service_id", "number", name="uq_service_versions_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("services.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    # What citizens see and what the service is bound to: names, descriptions, icon, keywords,
    # districts, audience, login/real-name rules, privacy notice, contact, form, binding.
    content: Mapped[dict] = mapped_column(JSONType)
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(80))  # "staff:<id>" or "client:<id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(80))

    service: Mapped[Service] = relationship()


class ContractKey(db.Model):
    """A key a department's endpoint checks our signatures with (docs/department-contract.md).
    Issued by the platform, shown to the department once, kept encrypted: signing needs it in clear."""

    __tablename__ = "contract_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    department_code: Mapped[str] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    secret: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
