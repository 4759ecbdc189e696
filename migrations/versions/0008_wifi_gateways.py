"""Wi-Fi gateways (id and secret) for the captive portal.

Revision ID: 0008_wifi_gateways
Revises: 0007_family_and_linking
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008_wifi_gateways"
down_revision = "0007_family_and_linking"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
