"""The payments' periodic work: close unpaid orders past their time (asking the channel first), catch
payments whose notification never came, and finish refunds the channel has not yet confirmed."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.payments import channels, outcomes, refunds, states
from app.payments.models import PaymentOrder, Refund
from integrations.errors import IntegrationError
from integrations.wechatpay.client import WeChatPayRefused

log = logging.getLogger(__name__)
QUIET_SECONDS = 60  # a notification usually comes within seconds; after this, ask the channel
BATCH = 200


def expire_due() -> dict[str, int]:
    """Close open orders past their expiry. One channel being down leaves its orders for the next run."""
    ids = _ids(PaymentOrder.state.in_(states.OPEN), PaymentOrder.expires_at <= utcnow())
    counts: dict[str, int] = {}
    for order_id in ids:
        try:
            state = outcomes.close(order_id, "expired unpaid")
        except IntegrationError:
            state = "channel_unavailable"
            log.warning("could not close an expired order; next run", extra={"order_id": str(order_id)})
        counts[state] = counts.get(state, 0) + 1
    return counts


def sync_quiet() -> int:
    """Ask the channel about orders being paid that have heard nothing for a while; the payments found."""
    quiet_since = utcnow() - timedelta(seconds=QUIET_SECONDS)
    found = 0
    for order_id in _ids(PaymentOrder.state == states.PAYING, PaymentOrder.updated_at <= quiet_since):
        try:
            found += outcomes.sync(order_id) == outcomes.MOVED
        except IntegrationError:
            log.warning("could not ask the channel about an order", extra={"order_id": str(order_id)})
    return found


def push_refunds() -> int:
    """Refunds still PROCESSING after a while: WeChat is asked how it went, Alipay (synchronous) is asked
    again with the same request number."""
    quiet_since = utcnow() - timedelta(seconds=QUIET_SECONDS)
    rows = db.session.execute(
        sa.select(Refund.id, Refund.out_refund_no, PaymentOrder.channel)
        .join(PaymentOrder, PaymentOrder.id == Refund.order_id)
        .where(Refund.state == refunds.PROCESSING, Refund.created_at <= quiet_since)
        .order_by(Refund.created_at)
        .limit(BATCH)
    ).all()
    db.session.rollback()
    for refund_id, out_refund_no, channel in rows:
        try:
            if channel == channels.WECHAT:
                try:
                    answer = channels.wechat().query_refund(out_refund_no)
                except WeChatPayRefused as refusal:
                    if refusal.wechat_code != "RESOURCE_NOT_EXISTS":
                        raise
                    refunds.push(refund_id)  # the first ask never reached WeChat: ask again, same number
                    continue
                if answer.status == "SUCCESS":
                    refunds.finish(out_refund_no, True, answer.refund_id)
                elif answer.status in ("CLOSED", "ABNORMAL"):
                    refunds.finish(out_refund_no, False, answer.refund_id, f"channel status {answer.status}")
            else:
                refunds.push(refund_id)
        except IntegrationError:
            log.warning("refund still unconfirmed", extra={"refund": out_refund_no})
    return len(rows)


def _ids(*conditions) -> list:
    ids = db.session.scalars(
        sa.select(PaymentOrder.id).where(*conditions).order_by(PaymentOrder.expires_at).limit(BATCH)
    ).all()
    db.session.rollback()
    return list(ids)
