"""Payment orders, the bills each pays, their refunds, every move of their state, and discrepancies."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, UTCDateTime
from app.extensions import db
from app.payments.states import STATES
from app.security.pii import EncryptedText

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # only INTEGER PRIMARY KEY counts up on SQLite
_STATE_LIST = ", ".join(f"'{state}'" for state in STATES)


class PaymentOrder(db.Model):
    """One payment of one bound account's bills through one channel. `out_trade_no` is what the channel
    knows it by; `id` is what the citizen sees."""

    __tablename__ = "payment_orders"
    __table_args__ = (
        sa.CheckConstraint(f"state IN ({_STATE_LIST})", name="state"),
        sa.CheckConstraint("channel IN ('wechat', 'alipay')", name="channel"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunds_within_payment"),
        # Same key from the same citizen → the same order (the key alone may collide between people).
        sa.UniqueConstraint("citizen_id", "idempotency_key", name="uq_payment_orders_citizen_key"),
        sa.Index("ix_payment_orders_citizen_newest", "citizen_id", "created_at"),
        # The expiry job's query: open orders past their time.
        sa.Index("ix_payment_orders_state_expires", "state", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("citizens.id"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    request_hash: Mapped[str] = mapped_column(sa.String(64))  # of the body that key was first sent with
    channel: Mapped[str] = mapped_column(sa.String(16))
    payer: Mapped[str] = mapped_column(sa.String(128))  # the channel's id of the citizen: openid, user id
    state: Mapped[str] = mapped_column(sa.String(24))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    refunded_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    subject: Mapped[str] = mapped_column(sa.String(128))
    # The bills' issuer: the configured connector, the kind of account and its number (for the write-off,
    # which must still work if the citizen unbinds the account meanwhile).
    connector: Mapped[str] = mapped_column(sa.String(64))
    account_kind: Mapped[str] = mapped_column(sa.String(16))
    account_no: Mapped[str] = mapped_column(EncryptedText)
    issuer: Mapped[str] = mapped_column(sa.String(80))  # the company or office as the bills name it
    channel_ref: Mapped[str | None] = mapped_column(sa.String(64))  # WeChat's prepay_id, Alipay's trade_no
    transaction_id: Mapped[str | None] = mapped_column(sa.String(64))  # the channel's id of the payment
    write_off_receipt: Mapped[str | None] = mapped_column(sa.String(64))  # the issuer's 销账流水号
    notice: Mapped[str | None] = mapped_column(sa.String(200))  # what the citizen is told (a rejection…)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderBill(db.Model):
    """A bill an order pays. While it `holds` (its order is open or paid), no other order can take the
    bill: the partial unique index makes "a bill is paid at most once" the database's rule."""

    __tablename__ = "payment_order_bills"
    __table_args__ = (
        sa.Index(
            "uq_payment_order_bills_holding",
            "bill_key",
            unique=True,
            postgresql_where=sa.text("holds"),
            sqlite_where=sa.text("holds"),
        ),
        sa.Index("ix_payment_order_bills_order", "order_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payment_orders.id"))
    bill_key: Mapped[str] = mapped_column(sa.String(64))  # keyed hash of issuer, account and bill id
    bill_id: Mapped[str] = mapped_column(sa.String(64))  # the issuer's bill number
    period: Mapped[str] = mapped_column(sa.String(16))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)  # the bill and its late fee, as re-checked
    late_fee_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    due_date: Mapped[str | None] = mapped_column(sa.String(10))
    holds: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class Refund(db.Model):
    __tablename__ = "payment_refunds"
    __table_args__ = (
        sa.CheckConstraint("state IN ('PROCESSING', 'SUCCEEDED', 'FAILED')", name="state"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.Index("ix_payment_refunds_order", "order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payment_orders.id"))
    out_refund_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(80))
    requested_by: Mapped[str] = mapped_column(sa.String(80))  # "system", "operator:<id>", "department:<code>"
    state: Mapped[str] = mapped_column(sa.String(16))
    channel_refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    failure: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Transition(db.Model):
    """Every move of an order's state, with why: the trail an operator reads."""

    __tablename__ = "payment_transitions"
    __table_args__ = (sa.Index("ix_payment_transitions_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payment_orders.id"))
    from_state: Mapped[str] = mapped_column(sa.String(24))
    to_state: Mapped[str] = mapped_column(sa.String(24))
    reason: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Discrepancy(db.Model):
    """Something a channel told us that disagrees with our record: kept, shown to operators, never
    resolved by overwriting the order. One row per (channel, out_trade_no, kind): repeats are counted."""

    __tablename__ = "payment_discrepancies"
    __table_args__ = (
        sa.UniqueConstraint("channel", "out_trade_no", "kind", name="uq_payment_discrepancies_what"),
        sa.Index("ix_payment_discrepancies_open", "resolved_at", "found_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    out_trade_no: Mapped[str] = mapped_column(sa.String(64))
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payment_orders.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))  # paid_after_close, amount_mismatch, unknown_order…
    details: Mapped[dict] = mapped_column(JSONType)  # ids and amounts only, never personal data
    seen: Mapped[int] = mapped_column(default=1)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(sa.String(200))
