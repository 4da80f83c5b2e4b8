"""Lossless restarts: the solved-emoji reactions last seen, and an outbox of owed bot messages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 05:10:50.233438
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("key", sa.String(length=25), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unsent",
            ["guild_id"],
            unique=False,
            sqlite_where=sa.text("sent_message_id IS NULL"),
            postgresql_where=sa.text("sent_message_id IS NULL"),
        )

    op.create_table(
        "solution_reactions",
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "user_id", "emoji"),
    )
    with op.batch_alter_table("solution_reactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_solution_reactions_thread_id"), ["thread_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("solution_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_solution_reactions_thread_id"))

    op.drop_table("solution_reactions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsent",
            sqlite_where=sa.text("sent_message_id IS NULL"),
            postgresql_where=sa.text("sent_message_id IS NULL"),
        )

    op.drop_table("outbox")
