"""Creating, reading and cancelling payment orders.

An order pays chosen bills of one bound account through one channel. Creating one is idempotent twice
over: the citizen's Idempotency-Key (same key and body → the same order; another body → 409), and the
bills themselves (a bill held by an open order is not put in a second one: a double tap with a fresh key
gets the open order back, and "paid at most once" is a unique index, not a hope).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.catalog.form_inputs import mask_account
from app.clock import local, shown, utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.models import CitizenIdentity
from app.identity.tokens import Caller
from app.inquiry import accounts
from app.inquiry.models import BoundAccount
from app.payments import bills as bill_source
from app.payments import channels, ledger, outcomes, states
from app.payments.models import OrderBill, PaymentOrder, Transition
from integrations.errors import IntegrationError

MAX_BILLS = 24


def request_hash(body: dict) -> str:
    canonical = {
        "account_id": str(body["account_id"]),
        "bill_ids": sorted(body["bill_ids"]),
        "channel": body["channel"],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def new_out_trade_no() -> str:
    """26 characters WeChat and Alipay both take: ZZ, the Beijing time to the second, 10 random digits."""
    return f"ZZ{local(utcnow()):%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


def create(caller: Caller, idempotency_key: str, body: dict) -> tuple[dict, bool]:
    """The order and whether it is new."""
    channels.offered(body["channel"])
    digest = request_hash(body)
    citizen_id = uuid.UUID(caller.subject)
    try:
        found = _by_key(citizen_id, idempotency_key)
        if found is not None:
            return _again(found, digest), False
        citizen = accounts.citizen_of(caller)
        account = db.session.get(BoundAccount, body["account_id"])
        if account is None or account.citizen_id != citizen.id:
            raise AppError("ACCOUNT_NOT_FOUND", "没有这个绑定账户", 404)
        source = bill_source.source_of(account, citizen)
        if source is None:
            raise AppError("ACCOUNT_HAS_NO_BILLS", "这个账户没有可缴的账单", 422, {"kind": account.kind})
        payer = _payer(citizen.id, body["channel"])
        snapshot = (account.connector, account.kind, account.number)
    finally:
        db.session.rollback()  # nothing held while the issuer re-checks the bills
    issuer, chosen = bill_source.recheck(source, list(dict.fromkeys(body["bill_ids"])))
    order = _new_order(citizen_id, idempotency_key, digest, body["channel"], payer, issuer, snapshot, chosen)
    try:
        with unit_of_work() as session:
            session.add(order)
            session.flush()  # the order row first: the bills refer to it
            session.add_all(_order_bills(order, snapshot, chosen))
            session.add(Transition(order_id=order.id, from_state="", to_state=states.CREATED, reason="ordered",
                                   at=order.created_at))  # fmt: skip
    except IntegrityError:
        db.session.rollback()
        return _lost_race(citizen_id, idempotency_key, digest, order, snapshot, chosen)
    return _opened(order.id), True


def _new_order(citizen_id, key, digest, channel, payer, issuer, snapshot, chosen) -> PaymentOrder:
    connector, kind, number = snapshot
    now = utcnow()
    amount = sum(int(bill["amount_fen"]) + int(bill.get("late_fee_fen") or 0) for bill in chosen)
    if amount <= 0:
        raise AppError("NOTHING_TO_PAY", "所选账单无需缴费", 422)
    periods = sorted({bill["period"] for bill in chosen})
    subject = f"{issuer} {accounts.KIND_NAMES.get(kind, kind)}{mask_account(number)} {periods[0]}" + (
        f"至{periods[-1]}" if len(periods) > 1 else ""
    )
    return PaymentOrder(
        id=uuid.uuid4(),
        out_trade_no=new_out_trade_no(),
        citizen_id=citizen_id,
        idempotency_key=key,
        request_hash=digest,
        channel=channel,
        payer=payer,
        state=states.CREATED,
        amount_fen=amount,
        refunded_fen=0,
        subject=subject[:128],
        connector=connector,
        account_kind=kind,
        account_no=number,
        issuer=issuer,
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["PAYMENT_EXPIRY_MINUTES"]),
        updated_at=now,
    )


def _order_bills(order: PaymentOrder, snapshot, chosen) -> list[OrderBill]:
    connector, kind, number = snapshot
    return [
        OrderBill(
            order_id=order.id,
            bill_key=bill_source.bill_key(connector, kind, number, str(bill["bill_id"])),
            bill_id=str(bill["bill_id"])[:64],
            period=str(bill["period"])[:16],
            amount_fen=int(bill["amount_fen"]) + int(bill.get("late_fee_fen") or 0),
            late_fee_fen=int(bill.get("late_fee_fen") or 0),
            due_date=str(bill.get("due_date") or "")[:10] or None,
            holds=True,
        )
        for bill in chosen
    ]


def _lost_race(citizen_id, key, digest, order, snapshot, chosen) -> tuple[dict, bool]:
    """Another request got there first: with the same key, or holding one of these bills."""
    found = _by_key(citizen_id, key)
    if found is not None:
        return _again(found, digest), False
    connector, kind, number = snapshot
    keys = [bill_source.bill_key(connector, kind, number, str(bill["bill_id"])) for bill in chosen]
    holder = db.session.scalar(
        sa.select(PaymentOrder)
        .join(OrderBill, OrderBill.order_id == PaymentOrder.id)
        .where(OrderBill.bill_key.in_(keys), OrderBill.holds.is_(True))
        .limit(1)
    )
    if holder is None:  # released between the insert and this read: let the citizen simply try again
        raise AppError("TRY_AGAIN", "请稍后重试", 409)
    if holder.state not in states.OPEN:
        raise AppError("BILL_ALREADY_PAID", "账单已缴费，正在等待销账", 409, {"payment_id": _own(holder, citizen_id)})
    same = holder.citizen_id == citizen_id and holder.channel == order.channel and _same_bills(holder.id, keys)
    if same:  # a double tap with a fresh key: the open order, not a second one
        db.session.rollback()
        return _opened(holder.id), False
    raise AppError(
        "BILL_IN_PAYMENT", "账单正在支付中，请完成或取消该订单", 409, {"payment_id": _own(holder, citizen_id)}
    )


def _own(order: PaymentOrder, citizen_id) -> str | None:
    return str(order.id) if order.citizen_id == citizen_id else None  # another person's order stays theirs


def _same_bills(order_id, keys: list[str]) -> bool:
    held = db.session.scalars(sa.select(OrderBill.bill_key).where(OrderBill.order_id == order_id)).all()
    return sorted(held) == sorted(keys)


def _by_key(citizen_id, key: str) -> PaymentOrder | None:
    return db.session.scalar(
        sa.select(PaymentOrder).where(PaymentOrder.citizen_id == citizen_id, PaymentOrder.idempotency_key == key)
    )


def _again(order: PaymentOrder, digest: str) -> dict:
    if order.request_hash != digest:
        raise AppError("IDEMPOTENCY_KEY_REUSED", "同一请求标识用于了不同的缴费请求", 409)
    order_id = order.id
    db.session.rollback()
    return _opened(order_id)


def _payer(citizen_id, channel: str) -> str:
    provider, app_id = (
        ("wechat", current_app.config["WECHAT_APP_ID"]) if channel == channels.WECHAT
        else ("alipay", current_app.config["ALIPAY_APP_ID"])
    )  # fmt: skip
    subject = db.session.scalar(
        sa.select(CitizenIdentity.subject).where(
            CitizenIdentity.citizen_id == citizen_id,
            CitizenIdentity.provider == provider,
            CitizenIdentity.app_id == app_id,
        )
    )
    if subject is None:
        raise AppError(
            "CHANNEL_NOT_LINKED", f"请在{channels.NAMES[channel]}小程序中登录后缴费", 422, {"channel": channel}
        )
    return subject


def _opened(order_id) -> dict:
    """The order, with the channel's order made first if it is not yet (a retry after the channel was
    down resumes here; the channel answers the same prepay id or trade number for the same order)."""
    order = db.session.get(PaymentOrder, order_id)
    if order.state == states.CREATED and order.expires_at > utcnow():
        facts = (order.channel, order.out_trade_no, order.amount_fen, order.subject, order.payer, order.expires_at)
        db.session.rollback()
        try:
            ref = channels.open_order(*facts)
        except IntegrationError as error:
            raise AppError(
                "PAYMENT_CHANNEL_UNAVAILABLE", f"{channels.NAMES[facts[0]]}暂时不可用，请稍后用同一请求重试", 503,
                {"payment_id": str(order_id), "channel": facts[0]}, {"Retry-After": "5"},
            ) from error  # fmt: skip
        with unit_of_work():
            order = ledger.locked(order_id)
            if order.state == states.CREATED:
                order.channel_ref = ref
                ledger.move(order, states.PAYING, states.TRANSITIONS[(states.CREATED, states.PAYING)])
    return view(order_id, with_pay_params=True)


def view(order_id, *, with_pay_params: bool = False) -> dict:
    order = db.session.get(PaymentOrder, order_id)
    rows = db.session.scalars(sa.select(OrderBill).where(OrderBill.order_id == order_id).order_by(OrderBill.id)).all()
    shown_order = {
        "id": str(order.id),
        "state": order.state,
        "finished": order.state in states.FINISHED,
        "channel": order.channel,
        "amount_fen": order.amount_fen,
        "refunded_fen": order.refunded_fen,
        "refundable_fen": order.amount_fen - order.refunded_fen if order.state in states.REFUNDABLE else 0,
        "subject": order.subject,
        "issuer": order.issuer,
        "account": {"kind": order.account_kind, "account_no": mask_account(order.account_no)},
        "bills": [
            {"bill_id": row.bill_id, "period": row.period, "amount_fen": row.amount_fen, "due_date": row.due_date}
            for row in rows
        ],
        "transaction_id": order.transaction_id,
        "notice": order.notice,
        "created_at": shown(order.created_at),
        "expires_at": shown(order.expires_at),
        "paid_at": shown(order.paid_at),
        "settled_at": shown(order.settled_at),
        "pay_params": None,
    }
    payable = order.state == states.PAYING and order.expires_at > utcnow()
    channel, ref = order.channel, order.channel_ref
    db.session.rollback()
    if with_pay_params and payable:
        shown_order["pay_params"] = channels.pay_params(channel, ref)
    return shown_order


def owned(caller: Caller, order_id: uuid.UUID) -> PaymentOrder:
    order = db.session.get(PaymentOrder, order_id)
    if order is None or str(order.citizen_id) != caller.subject:
        raise AppError("PAYMENT_NOT_FOUND", "没有这笔缴费", 404)
    return order


def mine(caller: Caller, order_id: uuid.UUID) -> dict:
    owned(caller, order_id)
    return view(order_id, with_pay_params=True)


def listing(caller: Caller, limit: int = 50) -> list[dict]:
    ids = db.session.scalars(
        sa.select(PaymentOrder.id)
        .where(PaymentOrder.citizen_id == uuid.UUID(caller.subject))
        .order_by(PaymentOrder.created_at.desc())
        .limit(limit)
    ).all()
    return [view(order_id) for order_id in ids]


def cancel(order_id) -> str:
    """The citizen changed their mind (or wants the other channel): close it unless it is paid."""
    try:
        return outcomes.close(order_id, "cancelled by the citizen")
    except IntegrationError as error:
        raise AppError(
            "PAYMENT_CHANNEL_UNAVAILABLE", "支付渠道暂时不可用，请稍后再试", 503, {}, {"Retry-After": "5"}
        ) from error
