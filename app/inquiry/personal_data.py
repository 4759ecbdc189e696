"""What the inquiries keep of a citizen (bound accounts, query history), for their export and erasure."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.clock import shown
from app.extensions import db
from app.inquiry.models import BoundAccount, QueryRecord


def export_accounts(citizen_id: uuid.UUID) -> list[dict]:
    rows = db.session.scalars(
        sa.select(BoundAccount).where(BoundAccount.citizen_id == citizen_id).order_by(BoundAccount.created_at)
    )
    return [
        {"kind": row.kind, "account_no": row.number, "holder": row.holder, "label": row.label,
         "bound_at": shown(row.created_at)}
        for row in rows
    ]  # fmt: skip


def export_queries(citizen_id: uuid.UUID) -> list[dict]:
    rows = db.session.scalars(
        sa.select(QueryRecord).where(QueryRecord.citizen_id == citizen_id).order_by(QueryRecord.id)
    )
    return [
        {"service": row.service_code, "inputs": row.inputs, "outcome": row.outcome, "at": shown(row.created_at)}
        for row in rows
    ]


def erase_all(citizen_id: uuid.UUID) -> None:
    """Inside the erasure's unit of work."""
    db.session.execute(sa.delete(BoundAccount).where(BoundAccount.citizen_id == citizen_id))
    db.session.execute(sa.delete(QueryRecord).where(QueryRecord.citizen_id == citizen_id))
