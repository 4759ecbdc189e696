from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText

# Which roles each kind of account may hold. Staff belong to a department; operators to the platform.
ROLES_BY_KIND = {"staff": frozenset({"dept_admin", "clerk"}), "operator": frozenset({"operator", "auditor"})}


class StaffAccount(db.Model):
    """A console login. The password is an argon2 hash; an operator's TOTP secret is encrypted."""

    __tablename__ = "staff_accounts"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('staff', 'operator')", name="kind"),
        sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),
        # Staff always work for a department; operators never speak for one.
        sa.CheckConstraint(
            "(kind = 'staff' AND department_code IS NOT NULL) OR (kind = 'operator' AND department_code IS NULL)",
            name="department",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    department_code: Mapped[str | None] = mapped_column(sa.ForeignKey("departments.code"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An initial or reset password works for one thing only: choosing a new one.
    must_change_password: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    # The last TOTP time step accepted: a code seen once is never accepted again (replay).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
