from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText

ACTIVE, ERASED = "active", "erased"


class Citizen(db.Model):
    """A person using the mini-programs. Personal fields are encrypted; *_hash columns find them."""

    __tablename__ = "citizens"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'erased')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    nickname: Mapped[str | None] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    phone_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    real_name: Mapped[str | None] = mapped_column(EncryptedText)
    id_number: Mapped[str | None] = mapped_column(EncryptedText)
    id_number_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    real_name_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identities: Mapped[list[CitizenIdentity]] = relationship(back_populates="citizen")

    @property
    def logins(self) -> list[str]:
        return sorted({identity.provider for identity in self.identities})


class CitizenIdentity(db.Model):
    """One way in: a WeChat openid or an Alipay user of one app. A citizen may have several."""

    __tablename__ = "citizen_identities"
    __table_args__ = (
        sa.UniqueConstraint("provider", "app_id", "subject", name="uq_citizen_identities_login"),
        sa.CheckConstraint("provider IN ('wechat', 'alipay')", name="provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    app_id: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.String(128))  # openid, or Alipay user_id/open_id
    union_id: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)

    citizen: Mapped[Citizen] = relationship(back_populates="identities")


class AuthSession(db.Model):
    """One login on one device: the family of its refresh tokens, and the `sid` in its access tokens."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    principal_kind: Mapped[str] = mapped_column(sa.String(16))  # citizen (staff and clients later)
    principal_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))


class RefreshToken(db.Model):
    """Stored as a SHA-256 hash; used once. A second use of a used token revokes its session."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'used', 'revoked')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
