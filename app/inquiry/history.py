"""A citizen's inquiries, newest first, with inputs masked as they are written (docs: GET /me/queries)."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from app.catalog.form_inputs import mask_inputs
from app.clock import shown, utcnow
from app.db import unit_of_work
from app.extensions import db
from app.identity.tokens import Caller
from app.inquiry.models import QueryRecord

log = logging.getLogger(__name__)


def record(citizen_id: str, code: str, form: dict, inputs: dict, outcome: str) -> None:
    """Best effort: the department's answer (or its clear error) reaches the citizen even if this fails."""
    try:
        with unit_of_work() as s:
            s.add(
                QueryRecord(
                    citizen_id=uuid.UUID(citizen_id),
                    service_code=code,
                    inputs=mask_inputs(form, inputs),
                    outcome=outcome,
                    created_at=utcnow(),
                )
            )
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("query not written to history", extra={"service": code})


def listing(caller: Caller, cursor: int | None, limit: int) -> dict:
    statement = (
        sa.select(QueryRecord)
        .where(QueryRecord.citizen_id == uuid.UUID(caller.subject))
        .order_by(QueryRecord.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        statement = statement.where(QueryRecord.id < cursor)
    rows = db.session.scalars(statement).all()
    items = [
        {
            "service": row.service_code,
            "inputs": row.inputs,
            "outcome": row.outcome,
            "at": shown(row.created_at),
        }
        for row in rows[:limit]
    ]
    return {"items": items, "next_cursor": rows[limit - 1].id if len(rows) > limit else None}
