"""Staff and operator accounts for the console (passwords, lockout, TOTP).

Revision ID: 0004_staff_accounts
Revises: 0003_identity
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_staff_accounts"
down_revision = "0003_identity"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("password_changed_at", TIMESTAMP, nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("last_login_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('staff', 'operator')", name=op.f("ck_staff_accounts_kind")),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_staff_accounts_status")),
        sa.CheckConstraint(
            "(kind = 'staff' AND department_code IS NOT NULL) OR (kind = 'operator' AND department_code IS NULL)",
            name=op.f("ck_staff_accounts_department"),
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["departments.code"],
            name=op.f("fk_staff_accounts_department_code_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_index(op.f("ix_staff_accounts_department_code"), "staff_accounts", ["department_code"])


def downgrade():
    op.drop_index(op.f("ix_staff_accounts_department_code"), table_name="staff_accounts")
    op.drop_table("staff_accounts")
