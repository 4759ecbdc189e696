"""Write-off (销账): a PAID order tells its issuer, through the outbox, until the issuer acknowledges.

The message is written in the same transaction as the PAID move, so a payment is never left untold; the
issuer de-duplicates by our out_trade_no, so a retry after a lost answer is harmless. An issuer's refusal
for good (the bill was paid at a counter meanwhile, the amount no longer matches) refunds the citizen in
full and tells them why; any other failure is retried with backoff for three days, then left as a dead
letter for operators (GET /api/v1/ops/outbox).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.connectors import service as connectors
from app.db import unit_of_work
from app.extensions import db
from app.identity.models import Citizen
from app.inquiry import accounts
from app.outbox import service as outbox
from app.outbox.delivery import Claimed, attempts_covering, outbox_handler
from app.payments import ledger, refunds, states
from app.payments.models import OrderBill, PaymentOrder
from integrations.errors import IntegrationError, UpstreamRejected, UpstreamUnavailable

log = logging.getLogger(__name__)
WRITE_OFF = "payments.write_off"
PATIENCE = timedelta(days=3)
REJECTED_NOTICE = "缴费单位未能销账，款项将原路退回"


def enqueue_write_off(order: PaymentOrder) -> None:
    """In the caller's unit of work (the one moving the order to PAID)."""
    outbox.enqueue(
        WRITE_OFF,
        f"connector:{order.connector}",
        {"order_id": str(order.id)},
        idempotency_key=f"write-off:{order.out_trade_no}",
        max_attempts=attempts_covering(PATIENCE),
    )


@outbox_handler(WRITE_OFF)
def deliver_write_off(message: Claimed) -> None:
    order = db.session.get(PaymentOrder, uuid.UUID(message.payload["order_id"]))
    if order is not None and order.state == states.REFUNDING:
        db.session.rollback()
        raise UpstreamUnavailable(order.connector, "a refund is under way: the write-off waits for its outcome")
    if order is None or order.write_off_receipt is not None or order.state != states.PAID:
        db.session.rollback()
        return  # settled already, or refunded before the issuer was reached: nothing to tell
    target = connectors.built(order.connector)
    if target is None:
        db.session.rollback()
        raise UpstreamUnavailable(order.connector, "connector disabled or unusable: the write-off waits")
    rows = db.session.scalars(sa.select(OrderBill).where(OrderBill.order_id == order.id).order_by(OrderBill.id)).all()
    inputs = {
        "kind": order.account_kind,
        "account_no": order.account_no,
        "bill_ids": [row.bill_id for row in rows],
        "amount_fen": order.amount_fen,
        "payment_id": order.out_trade_no,
        "channel": order.channel,
        "transaction_id": order.transaction_id or "",
        "paid_at": (order.paid_at or utcnow()).isoformat(),
    }
    identity = None
    if target.connector.operations["write_off"].identity:
        identity = accounts.identity_of(db.session.get(Citizen, order.citizen_id))
    order_id = order.id
    db.session.rollback()  # nothing held while the issuer answers
    try:
        outcome = connectors.gateway().call(target.connector, "write_off", inputs, identity, use_cache=False)
    except UpstreamRejected as refusal:
        if refusal.reason != "rejected":
            raise  # our credentials or our question refused: an operator must look (dead letter)
        words = f"{refusal.public_message[:100]}，款项将原路退回" if refusal.public_message else REJECTED_NOTICE
        _refund_rejected(order_id, words)
        return
    except IntegrationError:
        raise  # the issuer is down or slow: the outbox retries
    with unit_of_work():
        order = ledger.locked(order_id)
        order.write_off_receipt = str(outcome.result["receipt_no"])[:64]
        order.settled_at = utcnow()
        if order.state == states.PAID:
            ledger.move(order, states.SETTLED, "the issuer acknowledged the write-off")
        else:  # refunded meanwhile, yet the issuer has it paid: an operator must square the two
            ledger.discrepancy(order.channel, order.out_trade_no, "written_off_after_refund",
                               {"state": order.state, "receipt_no": order.write_off_receipt}, order)  # fmt: skip


def _refund_rejected(order_id, words: str) -> None:
    log.warning("issuer refused the write-off; refunding", extra={"order_id": str(order_id)})
    refunds.start(order_id, None, "issuer_rejected", "system", notice=words)
