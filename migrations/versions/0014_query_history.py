"""Each citizen's inquiries, inputs masked, for GET /api/v1/me/queries.

Revision ID: 0014_query_history
Revises: 0013_bound_accounts
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014_query_history"
down_revision = "0013_bound_accounts"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "query_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("inputs", JSON, nullable=False),  # masked before they are written
        sa.Column("outcome", sa.String(length=40), nullable=False),  # ok, stale, or the error code
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_query_history_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_history")),
    )
    op.create_index("ix_query_history_citizen_newest", "query_history", ["citizen_id", "id"])


def downgrade():
    op.drop_index("ix_query_history_citizen_newest", table_name="query_history")
    op.drop_table("query_history")
