"""Service catalog: services and their versions.

Revision ID: 0009_catalog
Revises: 0008_wifi_gateways
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_catalog"
down_revision = "0008_wifi_gateways"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
KINDS = "kind IN ('inquiry', 'payment', 'appointment', 'report', 'link')"
STATUSES = "status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED', 'LIVE', 'SUSPENDED', 'RETIRED')"


def upgrade():
    op.create_table(
        "services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("cloud", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("live_version_id", sa.Uuid(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_services_kind")),
        sa.ForeignKeyConstraint(
            ["department_code"], ["departments.code"], name=op.f("fk_services_department_code_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("code", name=op.f("uq_services_code")),
    )
    op.create_index(op.f("ix_services_department_code"), "services", ["department_code"])
    op.create_table(
        "service_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.CheckConstraint(STATUSES, name=op.f("ck_service_versions_status")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_service_versions_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint("service_id", "number", name="uq_service_versions_number"),
    )
    op.create_index(op.f("ix_service_versions_service_id"), "service_versions", ["service_id"])
    op.create_index(op.f("ix_service_versions_status"), "service_versions", ["status"])


def downgrade():
    op.drop_index(op.f("ix_service_versions_status"), table_name="service_versions")
    op.drop_index(op.f("ix_service_versions_service_id"), table_name="service_versions")
    op.drop_table("service_versions")
    op.drop_index(op.f("ix_services_department_code"), table_name="services")
    op.drop_table("services")
