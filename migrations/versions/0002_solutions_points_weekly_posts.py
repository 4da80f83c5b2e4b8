"""Solutions, the points ledger with maintained all-time totals, and weekly posts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:41:55.937054
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_points",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("solutions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id"),
    )
    with op.batch_alter_table("member_points", schema=None) as batch_op:
        batch_op.create_index("ix_member_points_rank", ["guild_id", "total"], unique=False)

    op.create_table(
        "points_ledger",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("awarded_by_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.BigInteger(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_points_member", ["guild_id", "member_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_points_window", ["guild_id", "created_at", "member_id", "amount", "revoked_at"], unique=False
        )
        batch_op.create_index(
            "ux_points_award_once",
            ["thread_id", "member_id", "kind"],
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL AND thread_id IS NOT NULL"),
            postgresql_where=sa.text("revoked_at IS NULL AND thread_id IS NOT NULL"),
        )

    op.create_table(
        "weekly_posts",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("scheduled_for", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "week", "kind"),
    )
    op.create_table(
        "solutions",
        sa.Column("thread_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("marked_by_id", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("marked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["help_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("thread_id"),
    )
    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_solutions_guild_id"), ["guild_id"], unique=False)

    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("solved_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("solved_note_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("discord_sync_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_column("discord_sync_pending")
        batch_op.drop_column("solved_note_message_id")
        batch_op.drop_column("solved_at")

    with op.batch_alter_table("solutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_solutions_guild_id"))

    op.drop_table("solutions")
    op.drop_table("weekly_posts")
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_points_award_once",
            sqlite_where=sa.text("revoked_at IS NULL AND thread_id IS NOT NULL"),
            postgresql_where=sa.text("revoked_at IS NULL AND thread_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_points_window")
        batch_op.drop_index("ix_points_member")

    op.drop_table("points_ledger")
    with op.batch_alter_table("member_points", schema=None) as batch_op:
        batch_op.drop_index("ix_member_points_rank")

    op.drop_table("member_points")
