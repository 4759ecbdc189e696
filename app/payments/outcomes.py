"""What a channel says became of an order, applied under the order's row lock: a payment (from a
notification or a query), or the close of an unpaid order. Whatever disagrees with our record is kept as a
discrepancy, never written over it."""

from __future__ import annotations

import logging
from datetime import datetime

from app.clock import utcnow
from app.db import unit_of_work
from app.extensions import db
from app.payments import channels, ledger, settlement, states
from app.payments.models import PaymentOrder

log = logging.getLogger(__name__)
MOVED, ALREADY, DISCREPANCY, UNKNOWN = "moved", "already", "discrepancy", "unknown"


def paid(channel: str, out_trade_no: str, transaction_id: str, amount_fen: int, paid_at: datetime | None,
         source: str) -> str:  # fmt: skip
    """Apply "the citizen paid": moved (PAID, write-off queued), already (a repeat), discrepancy or unknown."""
    facts = {"transaction_id": transaction_id, "amount_fen": amount_fen, "source": source}
    with unit_of_work():
        order = ledger.locked_by_trade_no(out_trade_no)
        if order is None or order.channel != channel:
            ledger.discrepancy(channel, out_trade_no, "unknown_order", facts)
            return UNKNOWN
        if amount_fen != order.amount_fen:
            ledger.discrepancy(channel, out_trade_no, "amount_mismatch", facts | {"ours_fen": order.amount_fen}, order)
            return DISCREPANCY
        if order.state in states.OPEN:
            order.transaction_id, order.paid_at = transaction_id, paid_at or utcnow()
            if order.state == states.CREATED:  # paid before we heard the prepay answer: the channel had it
                ledger.move(order, states.PAYING, "the channel had the order (its answer was lost)")
            ledger.move(order, states.PAID, f"paid ({source})")
            settlement.enqueue_write_off(order)
            return MOVED
        if order.transaction_id == transaction_id:
            return ALREADY
        kind = "paid_after_close" if order.state == states.CLOSED else "second_payment"
        ledger.discrepancy(channel, out_trade_no, kind, facts | {"our_state": order.state}, order)
        return DISCREPANCY


def sync(order_id) -> str:
    """Ask the channel about an open order and apply a payment it reports (a notification may be lost)."""
    order = db.session.get(PaymentOrder, order_id)
    open_now = order is not None and order.state in states.OPEN
    channel, out_trade_no = (order.channel, order.out_trade_no) if open_now else (None, None)
    db.session.rollback()
    if not open_now:
        return ALREADY
    found = channels.query(channel, out_trade_no)
    if found is not None and found.state == "paid":
        return paid(channel, out_trade_no, found.transaction_id or "", found.amount_fen, found.paid_at, "query")
    return "unpaid"


def close(order_id, reason: str) -> str:
    """Close an unpaid order, the channel's first: its state afterwards (PAID when the citizen paid it
    meanwhile). Raises IntegrationError while the channel cannot be asked, leaving the order open."""
    order = db.session.get(PaymentOrder, order_id)
    state = order.state if order is not None else "missing"
    channel, out_trade_no = (order.channel, order.out_trade_no) if order is not None else (None, None)
    db.session.rollback()
    if state not in states.OPEN:
        return state
    # Asked first: a payment whose notification never came is found here, not closed away.
    if sync(order_id) == MOVED:
        return states.PAID
    if not channels.close(channel, out_trade_no):
        # The channel will not close it: the citizen paid. Take the payment; if it cannot be taken (the
        # query lags, the amount disagrees), the order stays open and the money is an operator's to see.
        if sync(order_id) != MOVED:
            with unit_of_work():
                ledger.discrepancy(channel, out_trade_no, "paid_but_not_applied", {"reason": reason[:80]},
                                   ledger.locked(order_id))  # fmt: skip
        state = db.session.get(PaymentOrder, order_id).state
        db.session.rollback()
        return state
    with unit_of_work():
        order = ledger.locked(order_id)
        if order.state in states.OPEN:
            order.closed_at = utcnow()
            ledger.move(order, states.CLOSED, reason)
        return order.state
