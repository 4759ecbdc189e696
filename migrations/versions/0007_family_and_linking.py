"""Family members of citizens, and links of a WeChat and an Alipay login through a verified phone.

Revision ID: 0007_family_and_linking
Revises: 0006_audit_log
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007_family_and_linking"
down_revision = "0006_audit_log"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
