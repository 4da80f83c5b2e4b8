"""Similar threads: answer reuses, backfill progress, and where a thread came from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:50:41.116830
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backfill_progress",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("scanned", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.BigInteger(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "channel_id"),
    )
    op.create_table(
        "thread_reuses",
        sa.Column("thread_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source_thread_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("reused_by_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id"),
    )
    with op.batch_alter_table("thread_reuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_thread_reuses_source_thread_id"), ["source_thread_id"], unique=False
        )

    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=8), nullable=False, server_default="live"))


def downgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_column("origin")

    with op.batch_alter_table("thread_reuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_reuses_source_thread_id"))

    op.drop_table("thread_reuses")
    op.drop_table("backfill_progress")
