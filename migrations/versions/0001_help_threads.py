"""First schema: servers, help channels, roles, help threads and their messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:30:12.675993
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guilds",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("escalation_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("leaderboard_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "guild_roles",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("guild_id", "role_id", "kind"),
    )
    op.create_table(
        "help_channels",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("last_seen_message_id", sa.BigInteger(), nullable=True),
        sa.Column("added_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    with op.batch_alter_table("help_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_channels_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "help_threads",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("asker_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_responder_id", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(length=200), nullable=True),
        sa.Column("dormant_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dormant_due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("welcome_message_id", sa.BigInteger(), nullable=True),
        sa.Column("dormant_note_pending", sa.Boolean(), nullable=False),
        sa.Column("last_seen_message_id", sa.BigInteger(), nullable=True),
        sa.Column("starter_deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.create_index("ix_help_threads_dormant_due", ["dormant_due_at"], unique=False)
        batch_op.create_index("ix_help_threads_guild_state", ["guild_id", "state"], unique=False)

    op.create_table(
        "thread_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("thread_messages", schema=None) as batch_op:
        batch_op.create_index("ix_thread_messages_thread_author", ["thread_id", "author_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("thread_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_thread_messages_thread_author")

    op.drop_table("thread_messages")
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_help_threads_guild_state")
        batch_op.drop_index("ix_help_threads_dormant_due")

    op.drop_table("help_threads")
    with op.batch_alter_table("help_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_channels_guild_id"))

    op.drop_table("help_channels")
    op.drop_table("guild_roles")
    op.drop_table("guilds")
