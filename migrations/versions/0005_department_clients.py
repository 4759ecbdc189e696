"""Department systems as OAuth2 clients (client credentials, hashed secrets, scopes).

Revision ID: 0005_department_clients
Revises: 0004_staff_accounts
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_department_clients"
down_revision = "0004_staff_accounts"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
