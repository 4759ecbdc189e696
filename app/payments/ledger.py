"""Moving an order's state (only through the transition table) and recording what disagrees with it."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.clock import utcnow
from app.extensions import db
from app.payments import states
from app.payments.models import Discrepancy, OrderBill, PaymentOrder, Transition

log = logging.getLogger(__name__)


def locked(order_id) -> PaymentOrder | None:
    """The order, its row locked until the unit of work ends: every move reads and writes under it."""
    return db.session.get(PaymentOrder, order_id, with_for_update=True, populate_existing=True)


def locked_by_trade_no(out_trade_no: str) -> PaymentOrder | None:
    return db.session.scalar(
        sa.select(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no).with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip


def move(order: PaymentOrder, target: str, reason: str) -> None:
    """Move a locked order; ILLEGAL_TRANSITION (409) for a move the table does not have."""
    states.check(order.state, target)
    now = utcnow()
    db.session.add(Transition(order_id=order.id, from_state=order.state, to_state=target, reason=reason[:200], at=now))
    order.state, order.updated_at = target, now
    if target in (states.CLOSED, states.REFUNDED):
        # The bills are free again: unpaid at the issuer (closed), or paid back (refunded).
        db.session.execute(sa.update(OrderBill).where(OrderBill.order_id == order.id).values(holds=False))
    log.info("payment order moved", extra={"order_id": str(order.id), "state": target})


def discrepancy(channel: str, out_trade_no: str, kind: str, details: dict, order: PaymentOrder | None = None) -> None:
    """Record (or count again) a disagreement between a channel and our record, in the caller's unit of
    work. Operators see it (GET /api/v1/ops/payments/discrepancies); nothing is overwritten."""
    table = Discrepancy.__table__
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(table)
        .values(
            channel=channel,
            out_trade_no=out_trade_no[:64],
            order_id=order.id if order is not None else None,
            kind=kind,
            details=details,
            seen=1,
            found_at=utcnow(),
        )
        # Seen again after an operator resolved it: open again, with the newest facts.
        .on_conflict_do_update(
            index_elements=["channel", "out_trade_no", "kind"],
            set_={"seen": table.c.seen + 1, "details": details, "resolved_at": None, "resolution": None},
        )
    )
    log.warning("payment discrepancy", extra={"channel": channel, "out_trade_no": out_trade_no, "kind": kind})
