"""Where a department's system wants a signed webhook on each status change of its services.

Revision ID: 0011_department_webhooks
Revises: 0010_contract_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_department_webhooks"
down_revision = "0010_contract_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("webhook_url", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("webhook_url")
