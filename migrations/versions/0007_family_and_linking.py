"""Family members of citizens, and links of a WeChat and an Alipay login through a verified phone.

Revision ID: 0007_family_and_linking
Revises: 0006_audit_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_family_and_linking"
down_revision = "0006_audit_log"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    # Batch: SQLite (the embedded default) rebuilds the table to change a CHECK and add a foreign key.
    with op.batch_alter_table("citizens") as batch:
        batch.add_column(sa.Column("merged_into", sa.Uuid(), nullable=True))
        batch.create_foreign_key(op.f("fk_citizens_merged_into_citizens"), "citizens", ["merged_into"], ["id"])
        batch.drop_constraint(op.f("ck_citizens_status"), type_="check")
        batch.create_check_constraint(op.f("ck_citizens_status"), "status IN ('active', 'erased', 'merged')")
    op.create_table(
        "family_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        # Encrypted personal data ("kid:base64") and the keyed hash that keeps one person once per citizen.
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "relation IN ('spouse', 'child', 'parent', 'sibling', 'other')", name=op.f("ck_family_members_relation")
        ),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"], name=op.f("fk_family_members_citizen_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_members")),
        sa.UniqueConstraint("citizen_id", "id_number_hash", name="uq_family_members_person"),
    )
    op.create_table(
        "link_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'merged', 'declined', 'cancelled', 'expired')", name=op.f("ck_link_requests_status")
        ),
        sa.ForeignKeyConstraint(["holder_id"], ["citizens.id"], name=op.f("fk_link_requests_holder_id_citizens")),
        sa.ForeignKeyConstraint(["requester_id"], ["citizens.id"], name=op.f("fk_link_requests_requester_id_citizens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_requests")),
    )
    op.create_index(op.f("ix_link_requests_holder_id"), "link_requests", ["holder_id"])
    op.create_index(op.f("ix_link_requests_requester_id"), "link_requests", ["requester_id"])


def downgrade():
    op.drop_index(op.f("ix_link_requests_requester_id"), table_name="link_requests")
    op.drop_index(op.f("ix_link_requests_holder_id"), table_name="link_requests")
    op.drop_table("link_requests")
    op.drop_table("family_members")
    # Merged accounts are empty shells; going back, they read as erased ones (no data, no logins).
    op.execute("UPDATE citizens SET status = 'erased', erased_at = updated_at WHERE status = 'merged'")
    with op.batch_alter_table("citizens") as batch:
        batch.drop_constraint(op.f("ck_citizens_status"), type_="check")
        batch.create_check_constraint(op.f("ck_citizens_status"), "status IN ('active', 'erased')")
        batch.drop_constraint(op.f("fk_citizens_merged_into_citizens"), type_="foreignkey")
        batch.drop_column("merged_into")
