"""The public archive's consent: per-server settings, published channels, members' choices.

Messages in published channels keep their text (``thread_messages.content``) so a thread page can
show the conversation; a deleted message keeps only its ids (``deleted``). A forum post's tags are
kept (``help_threads.tags``) for its page.

Revision ID: 0010_archive_consent
Revises: 0009_owed_actions
Create Date: 2026-12-01 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_archive_consent"
down_revision: str | None = "0009_owed_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_settings",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("members_default", sa.String(length=8), nullable=False),
        sa.Column("hide_leavers", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("guild_id"),
    )
    op.create_table(
        "archive_channels",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled_by_id", sa.BigInteger(), nullable=False),
        sa.Column("enabled_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guild_id"], ["guilds.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    with op.batch_alter_table("archive_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_channels_guild_id"), ["guild_id"], unique=False)
    op.create_table(
        "archive_members",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("left_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("forgotten_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id"),
    )
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
    with op.batch_alter_table("thread_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("thread_messages", schema=None) as batch_op:
        batch_op.drop_column("deleted")
        batch_op.drop_column("content")
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_column("tags")
    op.drop_table("archive_members")
    with op.batch_alter_table("archive_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_channels_guild_id"))
    op.drop_table("archive_channels")
    op.drop_table("archive_settings")
