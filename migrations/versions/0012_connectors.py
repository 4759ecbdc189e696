"""Configured connectors to the clouds and the sharing platform, their secrets encrypted.

Revision ID: 0012_connectors
Revises: 0011_department_webhooks
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_connectors"
down_revision = "0011_department_webhooks"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),  # encrypted JSON, "kid:base64"
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"], ["departments.code"], name=op.f("fk_connectors_department_code_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_connectors_name")),
    )
    op.create_index(op.f("ix_connectors_department_code"), "connectors", ["department_code"])


def downgrade():
    op.drop_index(op.f("ix_connectors_department_code"), table_name="connectors")
    op.drop_table("connectors")
