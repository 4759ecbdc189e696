"""Refunds, full or partial, through the channel's refund API.

One refund at a time per order (the order is REFUNDING meanwhile). The caller may state the amount it
believes is still refundable: if that is stale (another refund happened), 412, nothing done. The total
refunded never exceeds the payment: checked under the order's lock, and a database CHECK besides.
A refund the channel has not answered stays PROCESSING and is asked again by the refund job with the
same out_refund_no (the channel de-duplicates it), so a refund is never made twice.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from flask import current_app

from app.audit import service as audit
from app.clock import shown, utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.payments import channels, ledger, states
from app.payments.models import PaymentOrder, Refund
from integrations.errors import IntegrationError, UpstreamRejected

log = logging.getLogger(__name__)
PROCESSING, SUCCEEDED, FAILED = "PROCESSING", "SUCCEEDED", "FAILED"
REASONS = {"issuer_rejected": "缴费单位未能销账", "operator": "平台退款", "department": "缴费单位退款"}


def start(order_id, amount_fen: int | None, reason: str, requested_by: str, *, expected_refundable: int | None = None,
          notice: str | None = None, audited: bool = False) -> dict:  # fmt: skip
    """Ask for a refund (None: all that is refundable) and take it to the channel."""
    with unit_of_work():
        order = ledger.locked(order_id)
        if order is None:
            raise AppError("PAYMENT_NOT_FOUND", "没有这笔缴费", 404)
        if order.state not in states.REFUNDABLE:
            raise AppError("NOT_REFUNDABLE", "该订单当前不可退款", 409, {"state": order.state})
        refundable = order.amount_fen - order.refunded_fen
        if expected_refundable is not None and expected_refundable != refundable:
            raise AppError("REFUNDABLE_CHANGED", "可退金额已变化，请刷新后重试", 412, {"refundable_fen": refundable})
        amount = refundable if amount_fen is None else amount_fen
        if not 0 < amount <= refundable:
            raise AppError("REFUND_TOO_LARGE", "退款金额超过可退金额", 422, {"refundable_fen": refundable})
        count = db.session.scalar(sa.select(sa.func.count()).where(Refund.order_id == order.id))
        refund = Refund(
            id=uuid.uuid4(),
            order_id=order.id,
            out_refund_no=f"RF{order.out_trade_no[2:]}{count + 1:02d}",
            amount_fen=amount,
            reason=reason[:80],
            requested_by=requested_by[:80],
            state=PROCESSING,
            created_at=utcnow(),
        )
        db.session.add(refund)
        if notice:
            order.notice = notice[:200]
        ledger.move(order, states.REFUNDING, f"refund {refund.out_refund_no} of {amount} fen: {reason}")
        refund_id = refund.id
        if audited:  # an operator's or a department's decision over a citizen's money
            audit.record("payment.refund", "payment", order.id, details={"amount_fen": amount, "reason": reason[:80]})
    push(refund_id)
    return view(refund_id)


def push(refund_id) -> None:
    """Take a PROCESSING refund to its channel (again: the same out_refund_no is the same refund there)."""
    refund = db.session.get(Refund, refund_id)
    order = db.session.get(PaymentOrder, refund.order_id)
    if refund.state != PROCESSING:
        db.session.rollback()
        return
    facts = (order.channel, order.out_trade_no, refund.out_refund_no, refund.amount_fen, order.amount_fen)
    words = REASONS.get(refund.reason, refund.reason)
    db.session.rollback()
    channel, out_trade_no, out_refund_no, amount, total = facts
    try:
        if channel == channels.WECHAT:
            answer = channels.wechat().refund(
                out_trade_no, out_refund_no, amount, total, words, current_app.config["WECHATPAY_NOTIFY_URL"]
            )
            if answer.status == "SUCCESS":
                finish(out_refund_no, True, answer.refund_id)
            elif answer.status in ("CLOSED", "ABNORMAL"):
                finish(out_refund_no, False, answer.refund_id, f"channel status {answer.status}")
            # PROCESSING: the refund notification (or the refund job's query) finishes it
        else:
            channels.alipay().refund(out_trade_no, out_refund_no, amount, words)
            finish(out_refund_no, True, None)  # Alipay refunds synchronously
    except UpstreamRejected as refusal:
        finish(out_refund_no, False, None, f"refused: {refusal}"[:200])
    except IntegrationError:
        log.warning("refund not yet taken by the channel; the refund job asks again", extra={"refund": out_refund_no})
    except Exception:
        log.exception("refund not taken by the channel; the refund job asks again", extra={"refund": out_refund_no})


def finish(out_refund_no: str, succeeded: bool, channel_refund_id: str | None, failure: str | None = None) -> None:
    """Apply the channel's last word on a refund, once: later repeats change nothing."""
    with unit_of_work():
        refund = db.session.scalar(sa.select(Refund).where(Refund.out_refund_no == out_refund_no).with_for_update())
        if refund is None or refund.state != PROCESSING:
            return
        order = ledger.locked(refund.order_id)
        refund.state, refund.finished_at = (SUCCEEDED if succeeded else FAILED), utcnow()
        refund.channel_refund_id, refund.failure = channel_refund_id, failure
        if succeeded:
            order.refunded_fen += refund.amount_fen
            target = states.REFUNDED if order.refunded_fen == order.amount_fen else states.PARTIALLY_REFUNDED
            ledger.move(order, target, f"refund {out_refund_no} succeeded")
        else:
            back = states.PARTIALLY_REFUNDED if order.refunded_fen else (
                states.SETTLED if order.settled_at else states.PAID
            )  # fmt: skip
            ledger.move(order, back, f"refund {out_refund_no} failed: {failure}")
            # The money is still the citizen's to get back (or the department's to keep): an operator decides.
            ledger.discrepancy(order.channel, order.out_trade_no, "refund_failed",
                               {"out_refund_no": out_refund_no, "amount_fen": refund.amount_fen}, order)  # fmt: skip


def view(refund_id) -> dict:
    refund = db.session.get(Refund, refund_id)
    return {
        "id": str(refund.id),
        "payment_id": str(refund.order_id),
        "amount_fen": refund.amount_fen,
        "reason": refund.reason,
        "state": refund.state,
        "created_at": shown(refund.created_at),
        "finished_at": shown(refund.finished_at),
    }
