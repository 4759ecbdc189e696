"""Identity: citizens, their logins, sessions and refresh tokens.

Revision ID: 0003_identity
Revises: 0002_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_identity"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "citizens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("nickname", sa.String(length=40), nullable=True),
        # Encrypted personal data ("kid:base64") and keyed hashes to look it up.
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("real_name", sa.Text(), nullable=True),
        sa.Column("id_number", sa.Text(), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("real_name_verified_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("erased_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("status IN ('active', 'erased')", name=op.f("ck_citizens_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizens")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_citizens_id_number_hash")),
        sa.UniqueConstraint("phone_hash", name=op.f("uq_citizens_phone_hash")),
    )
    op.create_table(
        "citizen_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("union_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_login_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("provider IN ('wechat', 'alipay')", name=op.f("ck_citizen_identities_provider")),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_citizen_identities_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_identities")),
        sa.UniqueConstraint("provider", "app_id", "subject", name="uq_citizen_identities_login"),
    )
    op.create_index(op.f("ix_citizen_identities_citizen_id"), "citizen_identities", ["citizen_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
    )
    op.create_index(op.f("ix_auth_sessions_principal_id"), "auth_sessions", ["principal_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("status IN ('active', 'used', 'revoked')", name=op.f("ck_refresh_tokens_status")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["auth_sessions.id"], name=op.f("fk_refresh_tokens_session_id_auth_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"])


def downgrade():
    op.drop_table("refresh_tokens")
    op.drop_table("auth_sessions")
    op.drop_table("citizen_identities")
    op.drop_table("citizens")
