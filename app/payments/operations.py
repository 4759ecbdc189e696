"""What operators and departments do with payments: refund one, read one whole, list and resolve
discrepancies. Departments touch only payments of bills their own connectors issued."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.audit import service as audit
from app.clock import shown, utcnow
from app.connectors.models import ConnectorConfig
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from app.payments import orders, refunds
from app.payments.models import Discrepancy, PaymentOrder, Refund, Transition

DEPARTMENT_KINDS = ("staff", "client")


def _reachable(caller: Caller, order_id: uuid.UUID) -> PaymentOrder:
    """The order, if this caller may act on it: operators on any, a department on its connectors' only."""
    order = db.session.get(PaymentOrder, order_id)
    if order is None:
        raise AppError("PAYMENT_NOT_FOUND", "没有这笔缴费", 404)
    if caller.kind in DEPARTMENT_KINDS:
        owner = db.session.scalar(
            sa.select(ConnectorConfig.department_code).where(ConnectorConfig.name == order.connector)
        )
        if owner is None or owner != caller.department:
            raise AppError("PAYMENT_NOT_FOUND", "没有这笔缴费", 404)  # another department's: not even its existence
    return order


def refund(caller: Caller, order_id: uuid.UUID, body: dict) -> dict:
    """A refund asked by an operator or the issuing department. `refundable_fen` is what the caller saw
    still refundable: if a refund happened since, 412 and nothing is done, so a repeat is harmless."""
    order = _reachable(caller, order_id)
    partial = body.get("amount_fen") is not None and body["amount_fen"] < order.amount_fen - order.refunded_fen
    if partial and order.settled_at is None:
        # The issuer has not written the bills off yet: a partial refund would leave them unpaid there
        # with the rest of the money here. Refund all, or wait for the write-off.
        raise AppError("WRITE_OFF_PENDING", "缴费单位尚未销账，暂不能部分退款", 409, {"state": order.state})
    db.session.rollback()
    by = "operator" if caller.kind == "operator" else "department"
    return refunds.start(
        order_id,
        body.get("amount_fen"),
        f"{by}: {body['reason']}"[:80],
        f"{by}:{caller.subject}",
        expected_refundable=body["refundable_fen"],
        notice=body.get("notice"),
        audited=True,
    )


def detail(caller: Caller, order_id: uuid.UUID) -> dict:
    """The order as the citizen sees it, with its trail: every move, its refunds and discrepancies."""
    order = _reachable(caller, order_id)
    moves = db.session.scalars(sa.select(Transition).where(Transition.order_id == order.id).order_by(Transition.id))
    trail = [{"from": m.from_state or None, "to": m.to_state, "reason": m.reason, "at": shown(m.at)} for m in moves]
    asked = db.session.scalars(sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.created_at))
    refund_views = [refunds.view(r.id) for r in asked]
    found = db.session.scalars(sa.select(Discrepancy).where(Discrepancy.order_id == order.id).order_by(Discrepancy.id))
    problems = [discrepancy_view(d) for d in found]
    facts = {
        "out_trade_no": order.out_trade_no,
        "connector": order.connector,
        "write_off_receipt": order.write_off_receipt,
    }
    db.session.rollback()
    return orders.view(order_id) | facts | {"transitions": trail, "refunds": refund_views, "discrepancies": problems}


def discrepancy_view(row: Discrepancy) -> dict:
    return {
        "id": row.id,
        "channel": row.channel,
        "out_trade_no": row.out_trade_no,
        "payment_id": str(row.order_id) if row.order_id else None,
        "kind": row.kind,
        "details": row.details,
        "seen": row.seen,
        "found_at": shown(row.found_at),
        "resolved_at": shown(row.resolved_at),
        "resolution": row.resolution,
    }


def discrepancies(open_only: bool, limit: int) -> list[dict]:
    query = sa.select(Discrepancy).order_by(Discrepancy.found_at.desc(), Discrepancy.id.desc()).limit(limit)
    if open_only:
        query = query.where(Discrepancy.resolved_at.is_(None))
    rows = [discrepancy_view(row) for row in db.session.scalars(query)]
    db.session.rollback()
    return rows


def resolve(discrepancy_id: int, resolution: str) -> dict:
    """An operator closes a discrepancy with what was done (a refund, a manual write-off…). The order is
    changed only by what the operator does through its own routes, never by resolving."""
    with unit_of_work():
        row = db.session.get(Discrepancy, discrepancy_id, with_for_update=True)
        if row is None:
            raise AppError("DISCREPANCY_NOT_FOUND", "没有这条差异记录", 404)
        if row.resolved_at is not None:
            raise AppError("DISCREPANCY_RESOLVED", "该差异已处理", 409)
        row.resolved_at, row.resolution = utcnow(), resolution[:200]
        audit.record("payment.discrepancy.resolve", "payment_discrepancy", row.id, details={"kind": row.kind})
        shown_row = discrepancy_view(row)
    return shown_row
