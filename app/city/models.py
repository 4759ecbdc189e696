from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType
from app.extensions import db


class District(db.Model):
    __tablename__ = "districts"

    # GB/T 2260 administrative division code, e.g. 370402 for 市中区.
    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Department(db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # Cloud codes from app.city.clouds that this department leads.
    clouds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Where its system gets a signed webhook on each status change of its services (app/catalog/webhooks.py).
    webhook_url: Mapped[str | None] = mapped_column(sa.Text)
