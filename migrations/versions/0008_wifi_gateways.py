"""Wi-Fi gateways (id and secret) for the captive portal.

Revision ID: 0008_wifi_gateways
Revises: 0007_family_and_linking
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_wifi_gateways"
down_revision = "0007_family_and_linking"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "wifi_gateways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gw_id", sa.String(length=64), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        # Encrypted ("kid:base64"), not hashed: RADIUS and HMAC checks need it in clear.
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_wifi_gateways_status")),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_wifi_gateways_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wifi_gateways")),
        sa.UniqueConstraint("gw_id", name=op.f("uq_wifi_gateways_gw_id")),
    )
    op.create_index(op.f("ix_wifi_gateways_site_code"), "wifi_gateways", ["site_code"])


def downgrade():
    op.drop_index(op.f("ix_wifi_gateways_site_code"), table_name="wifi_gateways")
    op.drop_table("wifi_gateways")
