"""Payments: orders, the bills they pay (a bill held by one open or paid order at a time), refunds,
state transitions and discrepancies.

Revision ID: 0015_payments
Revises: 0014_query_history
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_payments"
down_revision = "0014_query_history"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
STATES = "'CREATED', 'PAYING', 'PAID', 'SETTLED', 'CLOSED', 'REFUNDING', 'REFUNDED', 'PARTIALLY_REFUNDED'"


def upgrade():
    op.create_table(
        "payment_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("payer", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("account_kind", sa.String(length=16), nullable=False),
        sa.Column("account_no", sa.Text(), nullable=False),  # encrypted, "kid:base64"
        sa.Column("issuer", sa.String(length=80), nullable=False),
        sa.Column("channel_ref", sa.String(length=64), nullable=True),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("write_off_receipt", sa.String(length=64), nullable=True),
        sa.Column("notice", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("paid_at", TIMESTAMP, nullable=True),
        sa.Column("settled_at", TIMESTAMP, nullable=True),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_payment_orders_state")),
        sa.CheckConstraint("channel IN ('wechat', 'alipay')", name=op.f("ck_payment_orders_channel")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_orders_amount_positive")),
        sa.CheckConstraint(
            "refunded_fen >= 0 AND refunded_fen <= amount_fen", name=op.f("ck_payment_orders_refunds_within_payment")
        ),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_payment_orders_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_orders")),
        sa.UniqueConstraint("out_trade_no", name=op.f("uq_payment_orders_out_trade_no")),
        sa.UniqueConstraint("citizen_id", "idempotency_key", name="uq_payment_orders_citizen_key"),
    )
    op.create_index("ix_payment_orders_citizen_newest", "payment_orders", ["citizen_id", "created_at"])
    op.create_index("ix_payment_orders_state_expires", "payment_orders", ["state", "expires_at"])

    op.create_table(
        "payment_order_bills",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("bill_key", sa.String(length=64), nullable=False),
        sa.Column("bill_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.String(length=10), nullable=True),
        sa.Column("holds", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["payment_orders.id"], name=op.f("fk_payment_order_bills_order_id_payment_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_order_bills")),
    )
    op.create_index(
        "uq_payment_order_bills_holding",
        "payment_order_bills",
        ["bill_key"],
        unique=True,
        postgresql_where=sa.text("holds"),
        sqlite_where=sa.text("holds"),
    )
    op.create_index("ix_payment_order_bills_order", "payment_order_bills", ["order_id"])

    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("out_refund_no", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_refund_id", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("state IN ('PROCESSING', 'SUCCEEDED', 'FAILED')", name=op.f("ck_payment_refunds_state")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_payment_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["payment_orders.id"], name=op.f("fk_payment_refunds_order_id_payment_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint("out_refund_no", name=op.f("uq_payment_refunds_out_refund_no")),
    )
    op.create_index("ix_payment_refunds_order", "payment_refunds", ["order_id"])

    op.create_table(
        "payment_transitions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["payment_orders.id"], name=op.f("fk_payment_transitions_order_id_payment_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transitions")),
    )
    op.create_index("ix_payment_transitions_order", "payment_transitions", ["order_id", "id"])

    op.create_table(
        "payment_discrepancies",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("out_trade_no", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("details", JSON, nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("found_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["payment_orders.id"], name=op.f("fk_payment_discrepancies_order_id_payment_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_discrepancies")),
        sa.UniqueConstraint("channel", "out_trade_no", "kind", name="uq_payment_discrepancies_what"),
    )
    op.create_index("ix_payment_discrepancies_open", "payment_discrepancies", ["resolved_at", "found_at"])


def downgrade():
    op.drop_table("payment_discrepancies")
    op.drop_table("payment_transitions")
    op.drop_table("payment_refunds")
    op.drop_table("payment_order_bills")
    op.drop_table("payment_orders")
