from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime
from app.extensions import db
from app.security.pii import EncryptedText


class WifiGateway(db.Model):
    """An access gateway at a hotspot, known by the `gw_id` it sends in every WiFiDog call.

    Its secret is encrypted, not hashed: a RADIUS shared secret and an HMAC key must be read back
    in clear to check what the gateway signs.
    """

    __tablename__ = "wifi_gateways"
    __table_args__ = (sa.CheckConstraint("status IN ('active', 'disabled')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gw_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    site_code: Mapped[str] = mapped_column(sa.String(32), index=True)  # a hotspot of the demo city's wifi_sites
    district_code: Mapped[str | None] = mapped_column(sa.ForeignKey("districts.code"))
    name: Mapped[str] = mapped_column(sa.String(100))
    secret: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
