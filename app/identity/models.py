from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText

ACTIVE, ERASED, MERGED = "active", "erased", "merged"
RELATIONS = ("spouse", "child", "parent", "sibling", "other")
LINK_STATES = ("pending", "merged", "declined", "cancelled", "expired")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Citizen(db.Model):
    """A person using the mini-programs. Personal fields are encrypted; *_hash columns find them."""

    __tablename__ = "citizens"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'erased', 'merged')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    # A merged citizen is an empty shell: its logins and data moved to this one (app.identity.linking).
    merged_into: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("citizens.id"))
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


class FamilyMember(db.Model):
    """A person a citizen books for (就诊人/游客), real-name verified like the citizen. At most 5 each."""

    __tablename__ = "family_members"
    __table_args__ = (
        sa.UniqueConstraint("citizen_id", "id_number_hash", name="uq_family_members_person"),
        sa.CheckConstraint(_one_of("relation", RELATIONS), name="relation"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))  # first column of the unique key
    relation: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(EncryptedText)
    id_number: Mapped[str] = mapped_column(EncryptedText)
    id_number_hash: Mapped[str] = mapped_column(sa.String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkRequest(db.Model):
    """One account asks to join the account that holds a phone it proved; the holder confirms or declines."""

    __tablename__ = "link_requests"
    __table_args__ = (sa.CheckConstraint(_one_of("status", LINK_STATES), name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    requester_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"), index=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"), index=True)
    phone_hash: Mapped[str] = mapped_column(sa.String(64))  # the phone both sides share: keyed hash only
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
