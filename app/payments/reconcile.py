"""The daily reconciliation (对账): a channel's trade statement of one Beijing day against our orders and
refunds, every disagreement kept as a discrepancy for operators. No order's state is ever changed here.

Kinds recorded (ledger.discrepancy: one row per channel, out_trade_no and kind, counted on repeats):
  missing_here                 the statement has a payment we never took (no order, or not paid here)
  missing_in_statement         an order paid here that day the statement lacks
  statement_amount_mismatch    both have the payment, for different amounts
  refund_missing_here / refund_missing_in_statement / refund_amount_mismatch   the same for refunds
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from app.clock import CITY_TZ, local, utcnow
from app.db import unit_of_work
from app.extensions import db, redis
from app.payments import channels, ledger, states
from app.payments.models import PaymentOrder, Refund
from app.payments.refunds import SUCCEEDED
from app.payments.statements import ReconcileError, Statement, StatementError, parse_alipay, parse_wechat
from integrations.errors import IntegrationError, UpstreamUnavailable
from integrations.wechatpay.client import WeChatPayRefused

__all__ = ["ReconcileError", "StatementError", "StatementNotReady", "StatementUnavailable", "reconcile"]

log = logging.getLogger(__name__)

PAID_HERE = frozenset({states.PAID, states.SETTLED, states.REFUNDING, states.REFUNDED, states.PARTIALLY_REFUNDED})
KINDS = ("missing_here", "missing_in_statement", "statement_amount_mismatch",
         "refund_missing_here", "refund_missing_in_statement", "refund_amount_mismatch")  # fmt: skip
LOOKUP_BATCH = 500
# Both channels publish day D's statement by about 10:00 on D+1 (Beijing); the job waits until then.
READY_AT = time(10, 30)
CLAIM_SECONDS = 3600  # one job run at a time per channel and day; a crashed run frees it after this
DONE_SECONDS = 3 * 86400  # a day reconciled by the job is not reconciled again by it


class StatementNotReady(ReconcileError):
    """The channel has not published the day's statement yet: try again later."""


class StatementUnavailable(ReconcileError):
    """The statement could not be had (the channel down, refusing, or answering something else)."""


def beijing_today() -> date:
    return local(utcnow()).date()


def reconcile(channel: str, day: date) -> dict:
    """Compare `channel`'s statement of the Beijing `day` with our record; the summary of what was found."""
    if channel not in channels.NAMES:
        raise ValueError(f"unknown channel {channel!r}")
    if day >= beijing_today():
        raise StatementNotReady(f"{channel} {day}: a day's statement exists from the next day (Beijing) on")
    start = datetime.combine(day, time(), CITY_TZ)
    ours_paid, ours_refunds = _ours(channel, start, start + timedelta(days=1))
    db.session.rollback()  # nothing held open while the channel is asked
    content = _download(channel, day)
    if content is None:
        if (ours_paid or ours_refunds) and day >= beijing_today() - timedelta(days=1):
            # Either channel may answer "no statement" before it has made yesterday's; with our own trades
            # that day that is far likelier than a channel that lost them, so ask again later.
            raise StatementNotReady(
                f"{channel} {day}: the channel says there is no statement, but we have {len(ours_paid)} "
                f"payments and {len(ours_refunds)} refunds that day; not compared (try again later)"
            )
        statement = Statement()
    else:
        statement = parse_wechat(content) if channel == channels.WECHAT else parse_alipay(content)

    found: Counter[str] = Counter()
    with unit_of_work():
        matched = _compare_payments(channel, day, statement, ours_paid, found)
        matched += _compare_refunds(channel, day, statement, ours_refunds, found)
    succeeded = [refund for refund in statement.refunds if refund.status == "SUCCESS"]
    summary = {
        "channel": channel,
        "day": day.isoformat(),
        "statement_payments": len(statement.payments),
        "statement_refunds": len(succeeded),
        "ours_payments": len(ours_paid),
        "ours_refunds": len(ours_refunds),
        "matched": matched,
        "discrepancies": {kind: found[kind] for kind in KINDS if found[kind]},
        "no_statement": content is None,  # the channel said it has no statement of the day (no trades)
    }
    log.info("payments reconciled", extra={key: summary[key] for key in ("channel", "day", "matched")}
             | {"discrepancies": sum(found.values())})  # fmt: skip
    return summary


def _ours(channel: str, start: datetime, end: datetime) -> tuple[dict, dict]:
    """Our payments of the day (by paid_at, the channel's own success time) and refunds of the day."""
    paid = db.session.execute(
        sa.select(PaymentOrder.id, PaymentOrder.out_trade_no, PaymentOrder.amount_fen, PaymentOrder.transaction_id)
        .where(PaymentOrder.channel == channel, PaymentOrder.state.in_(PAID_HERE))
        .where(PaymentOrder.paid_at >= start, PaymentOrder.paid_at < end)
    ).all()
    # WeChat dates a refund's line by when it was asked for (its status as of the download); Alipay refunds
    # at once. So the day of a WeChat refund is when we asked, of an Alipay one when it was done.
    when = Refund.created_at if channel == channels.WECHAT else Refund.finished_at
    refunds = db.session.execute(
        sa.select(Refund.id, Refund.order_id, Refund.out_refund_no, Refund.amount_fen, PaymentOrder.out_trade_no)
        .join(PaymentOrder, PaymentOrder.id == Refund.order_id)
        .where(PaymentOrder.channel == channel, Refund.state == SUCCEEDED, when >= start, when < end)
    ).all()
    return {row.out_trade_no: row for row in paid}, {row.out_refund_no: row for row in refunds}


def _download(channel: str, day: date) -> bytes | None:
    """The statement's bytes, or None when the channel says there is none because nothing happened."""
    name, bill_date = channels.NAMES[channel], day.isoformat()
    try:
        if channel == channels.WECHAT:
            try:
                return channels.wechat().trade_bill(bill_date)
            except WeChatPayRefused as refusal:
                if refusal.wechat_code == "NO_STATEMENT_EXIST":  # no trades that day
                    return None
                if refusal.wechat_code == "STATEMENT_CREATING":
                    raise StatementNotReady(f"{channel} {day}: {name} is still making the statement") from None
                raise StatementUnavailable(f"{channel} {day}: {name} refused the statement ({refusal.wechat_code})"
                                           ) from None  # fmt: skip
        return channels.alipay().trade_bill(bill_date)
    except UpstreamUnavailable as error:
        # The Alipay client files isp.* answers as Alipay's own trouble and keeps the sub_code only in the
        # message; isp.bill_not_exist is its answer for a past day without trades (and for one not yet made).
        if channel == channels.ALIPAY and "isp.bill_not_exist" in error.message:
            return None
        raise StatementUnavailable(f"{channel} {day}: the statement could not be had: {error.message}") from None
    except IntegrationError as error:
        raise StatementUnavailable(f"{channel} {day}: the statement could not be had: {error.message}") from None


def _compare_payments(channel: str, day: date, statement: Statement, ours: dict, found: Counter) -> int:
    orders = _orders([payment.out_trade_no for payment in statement.payments])
    matched = 0
    for payment in statement.payments:
        order = orders.get(payment.out_trade_no)
        facts = {"day": day.isoformat(), "transaction_id": payment.transaction_id, "statement_fen": payment.amount_fen}
        if order is None or order.channel != channel or order.state not in PAID_HERE:
            our_state = order.state if order is not None else None
            _record(channel, payment.out_trade_no, "missing_here", facts | {"our_state": our_state}, order, found)
        elif order.amount_fen != payment.amount_fen:
            facts |= {"ours_fen": order.amount_fen}
            _record(channel, payment.out_trade_no, "statement_amount_mismatch", facts, order, found)
        else:
            matched += 1  # ours too, even if we took it on a neighbouring day (around midnight)
    listed = {payment.out_trade_no for payment in statement.payments}
    for out_trade_no, row in ours.items():
        if out_trade_no not in listed:
            facts = {"day": day.isoformat(), "transaction_id": row.transaction_id, "ours_fen": row.amount_fen}
            _record(channel, out_trade_no, "missing_in_statement", facts, row, found)
    return matched


def _compare_refunds(channel: str, day: date, statement: Statement, ours: dict, found: Counter) -> int:
    # Only refunds the channel reports done count; one still PROCESSING (WeChat) is not yet a refund.
    done = [refund for refund in statement.refunds if refund.status == "SUCCESS"]
    known = _rows(
        (Refund.out_refund_no, Refund.order_id, Refund.state, Refund.amount_fen),
        [refund.out_refund_no for refund in done],
    )
    orders = _orders([refund.out_trade_no for refund in done])
    matched = 0
    for refund in done:
        mine, order = known.get(refund.out_refund_no), orders.get(refund.out_trade_no)
        facts = {"day": day.isoformat(), "out_refund_no": refund.out_refund_no, "statement_fen": refund.amount_fen}
        if mine is None or order is None or mine.order_id != order.id or mine.state != SUCCEEDED:
            our_state = mine.state if mine is not None else None
            _record(channel, _refund_key(refund.out_trade_no, refund.out_refund_no), "refund_missing_here",
                    facts | {"our_state": our_state}, order, found)  # fmt: skip
        elif mine.amount_fen != refund.amount_fen:
            facts |= {"ours_fen": mine.amount_fen}
            _record(channel, _refund_key(refund.out_trade_no, refund.out_refund_no), "refund_amount_mismatch", facts,
                    order, found)  # fmt: skip
        else:
            matched += 1
    listed = {refund.out_refund_no for refund in statement.refunds}  # PROCESSING there, done here: listed
    for out_refund_no, row in ours.items():
        if out_refund_no not in listed:
            facts = {"day": day.isoformat(), "out_refund_no": out_refund_no, "ours_fen": row.amount_fen}
            _record(channel, _refund_key(row.out_trade_no, out_refund_no), "refund_missing_in_statement", facts,
                    _Order(row.order_id), found)  # fmt: skip
    return matched


def _refund_key(out_trade_no: str, out_refund_no: str) -> str:
    """Two refunds of one payment are two discrepancies, not one counted twice."""
    return f"{out_trade_no}/{out_refund_no}"[:64]


class _Order(NamedTuple):
    id: uuid.UUID  # all that ledger.discrepancy reads of an order (rows of _orders() and _ours() have it too)


def _orders(out_trade_nos: list[str]) -> dict:
    # Only the columns compared: loading whole orders would decrypt every citizen's account number.
    columns = (PaymentOrder.out_trade_no, PaymentOrder.id, PaymentOrder.channel, PaymentOrder.state,
               PaymentOrder.amount_fen)  # fmt: skip
    return _rows(columns, out_trade_nos)


def _rows(columns: tuple, keys: list[str]) -> dict:
    """Rows of `columns` whose first column is one of `keys`, by that key (asked in batches)."""
    found = {}
    for i in range(0, len(keys), LOOKUP_BATCH):
        for row in db.session.execute(sa.select(*columns).where(columns[0].in_(keys[i : i + LOOKUP_BATCH]))):
            found[row[0]] = row
    return found


def _record(channel: str, out_trade_no: str, kind: str, details: dict, order, found: Counter) -> None:
    ledger.discrepancy(channel, out_trade_no, kind, details, order)
    found[kind] += 1


# -- the daily job ----------------------------------------------------------------------------------------


def reconcile_yesterday(now: datetime | None = None) -> dict:
    """Reconcile yesterday (Beijing) for each enabled channel once the statements are out. Run every hour:
    a day done is remembered (Redis) and skipped; one that failed is tried again on the next run."""
    moment = local(now or utcnow())
    day = moment.date() - timedelta(days=1)
    if moment.time() < READY_AT:
        return {"day": day.isoformat(), "waiting_until": READY_AT.isoformat()}
    results: dict = {"day": day.isoformat()}
    for channel in current_app.config["PAYMENT_CHANNELS"]:
        key = f"payments:reconciled:{channel}:{day.isoformat()}"
        if not redis.set(key, "running", nx=True, ex=CLAIM_SECONDS):
            results[channel] = "done or running"
            continue
        try:
            summary = reconcile(channel, day)
        except ReconcileError as error:
            redis.delete(key)
            log.warning("payment statement not reconciled; the next run tries again",
                        extra={"channel": channel, "day": day.isoformat(), "error": str(error)})  # fmt: skip
            results[channel] = f"not reconciled: {error}"
            continue
        except BaseException:
            redis.delete(key)
            raise
        redis.set(key, "done", ex=DONE_SECONDS)
        results[channel] = summary
    return results
