"""Escalation: due deliveries per thread and tier, the digests that list them, claims and /escalate.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 05:01:14.189102
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_digests",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_digests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalation_digests_sending",
            ["guild_id"],
            unique=False,
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )

    op.create_table(
        "escalation_deliveries",
        sa.Column("thread_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tier", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("digest_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id", "tier"),
    )
    with op.batch_alter_table("escalation_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_deliveries_digest", ["digest_id", "position"], unique=False)
        batch_op.create_index(
            "ix_escalation_deliveries_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_escalation_deliveries_guild_status", ["guild_id", "status"], unique=False)

    op.create_table(
        "escalation_threads",
        sa.Column("thread_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_by_id", sa.BigInteger(), nullable=True),
        sa.Column("requested_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id"),
    )


def downgrade() -> None:
    op.drop_table("escalation_threads")
    with op.batch_alter_table("escalation_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_deliveries_guild_status")
        batch_op.drop_index(
            "ix_escalation_deliveries_due",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index("ix_escalation_deliveries_digest")

    op.drop_table("escalation_deliveries")
    with op.batch_alter_table("escalation_digests", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_escalation_digests_sending",
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        )

    op.drop_table("escalation_digests")
