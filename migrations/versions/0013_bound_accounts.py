"""Accounts a citizen has bound after the department verified them (户号, 公积金账号, 社保卡号).

Revision ID: 0013_bound_accounts
Revises: 0012_connectors
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_bound_accounts"
down_revision = "0012_connectors"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "bound_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Text(), nullable=False),  # encrypted, "kid:base64"
        sa.Column("number_index", sa.String(length=64), nullable=False),  # keyed hash, for uniqueness
        sa.Column("holder", sa.String(length=40), nullable=False),  # masked by the department: 张*
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_bound_accounts_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bound_accounts")),
        sa.UniqueConstraint("citizen_id", "kind", "number_index", name="uq_bound_accounts_citizen_kind_number"),
    )


def downgrade():
    op.drop_table("bound_accounts")
