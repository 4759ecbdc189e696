"""Staff and operator accounts for the console (passwords, lockout, TOTP).

Revision ID: 0004_staff_accounts
Revises: 0003_identity
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_staff_accounts"
down_revision = "0003_identity"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
