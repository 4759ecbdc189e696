"""Keys that sign our calls to departments' own endpoints (the department contract).

Revision ID: 0010_contract_keys
Revises: 0009_catalog
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_contract_keys"
down_revision = "0009_catalog"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "contract_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),  # encrypted, "kid:base64"
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("retired_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_code"], ["departments.code"], name=op.f("fk_contract_keys_department_code_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_contract_keys_key_id")),
    )
    op.create_index(op.f("ix_contract_keys_department_code"), "contract_keys", ["department_code"])


def downgrade():
    op.drop_index(op.f("ix_contract_keys_department_code"), table_name="contract_keys")
    op.drop_table("contract_keys")
