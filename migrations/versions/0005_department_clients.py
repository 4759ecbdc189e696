"""Department systems as OAuth2 clients (client credentials, hashed secrets, scopes).

Revision ID: 0005_department_clients
Revises: 0004_staff_accounts
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_department_clients"
down_revision = "0004_staff_accounts"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "department_clients",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        # SHA-256 hex of the secret; the secret itself is never stored.
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("secret_changed_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_department_clients_status")),
        sa.CheckConstraint("length(secret_hash) = 64", name=op.f("ck_department_clients_secret_hash")),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_department_clients_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_department_clients")),
    )
    op.create_index(op.f("ix_department_clients_department_code"), "department_clients", ["department_code"])


def downgrade():
    op.drop_index(op.f("ix_department_clients_department_code"), table_name="department_clients")
    op.drop_table("department_clients")
