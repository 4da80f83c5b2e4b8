"""One table of owed Discord actions replaces the outbox, the note markers and the sync flag.

Everything owed still is moved over as pending actions: unsent outbox messages, welcome and
dormancy notes a crash left unposted (``welcome_message_id IS NULL``, ``dormant_note_pending``),
threads whose look lagged their state (``discord_sync_pending``, closed threads' archive). A thread's
"Solved" note id moves to its appearance row, so the note is still edited rather than posted again.

Revision ID: 0009_owed_actions
Revises: 0008_escalate_cooldown
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_owed_actions"
down_revision: str | None = "0008_escalate_cooldown"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A note owed before the upgrade can no longer be rendered with the server's own words here.
WELCOME = "👋 Welcome to your help thread! Mark the answer that worked with ✅ or `/solved`."
DORMANT = "💤 This thread has been quiet for a while, so I archived it. Write here to open it again."

outbox = sa.table(
    "outbox",
    sa.column("key", sa.String),
    sa.column("guild_id", sa.BigInteger),
    sa.column("channel_id", sa.BigInteger),
    sa.column("content", sa.Text),
    sa.column("links", sa.JSON),
    sa.column("archive_after", sa.Boolean),
    sa.column("created_at", storage.types.UTCDateTime()),
    sa.column("sent_message_id", sa.BigInteger),
)
owed = sa.table(
    "owed_actions",
    sa.column("key", sa.String),
    sa.column("guild_id", sa.BigInteger),
    sa.column("channel_id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("uncertain", sa.Boolean),
    sa.column("created_at", storage.types.UTCDateTime()),
    sa.column("queued_at", storage.types.UTCDateTime()),
    sa.column("next_attempt_at", storage.types.UTCDateTime()),
    sa.column("result", sa.BigInteger),
)


def upgrade() -> None:
    op.create_table(
        "owed_actions",
        sa.Column("key", sa.String(length=25), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("uncertain", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.BigInteger(), nullable=True),
        sa.Column("refusal", sa.String(length=200), nullable=True),
        sa.Column("settled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("owed_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_owed_actions_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_owed_actions_refused",
            ["guild_id"],
            unique=False,
            sqlite_where=sa.text("status = 'refused'"),
            postgresql_where=sa.text("status = 'refused'"),
        )
    _move_owed_work()
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_column("welcome_message_id")
        batch_op.drop_column("dormant_note_pending")
        batch_op.drop_column("solved_note_message_id")
        batch_op.drop_column("discord_sync_pending")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_unsent")
    op.drop_table("outbox")


def _row(
    key: str, guild: int, channel: int, kind: str, payload: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    now = datetime.now(UTC)
    row = {
        "key": key,
        "guild_id": guild,
        "channel_id": channel,
        "kind": kind,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "version": 0,
        "uncertain": True,  # it may have gone out just before the upgrade: look before sending
        "created_at": now,
        "queued_at": now,
        "next_attempt_at": now,
        "result": None,
    }
    row.update(extra)
    return row


def _move_owed_work() -> None:
    conn = op.get_bind()
    rows: dict[str, dict[str, Any]] = {}
    unsent = conn.execute(
        sa.select(
            outbox.c.key,
            outbox.c.guild_id,
            outbox.c.channel_id,
            outbox.c.content,
            outbox.c.links,
            outbox.c.archive_after,
        )
        .where(outbox.c.sent_message_id.is_(None))
        .order_by(outbox.c.created_at, outbox.c.key)
    ).all()
    appearance: dict[int, dict[str, Any]] = {}
    for key, guild, channel, content, links, archive_after in unsent:
        rows[key] = _row(key, guild, channel, "send", {"content": content, "links": links or []})
        if archive_after:
            appearance[channel] = _row(f"a{channel}", guild, channel, "appearance", {})
    threads = conn.execute(
        sa.text(
            "SELECT id, guild_id, welcome_message_id, dormant_note_pending, solved_note_message_id,"
            " discord_sync_pending, deleted FROM help_threads"
            " WHERE welcome_message_id IS NULL OR dormant_note_pending OR discord_sync_pending"
            " OR solved_note_message_id IS NOT NULL"
        )
    ).all()
    for thread, guild, welcome, dormant, solved_note, sync, deleted in threads:
        if deleted:
            continue
        if welcome is None:
            rows[f"w{thread}"] = _row(f"w{thread}", guild, thread, "send", {"content": WELCOME})
        if dormant:
            rows[f"d{thread}"] = _row(f"d{thread}", guild, thread, "send", {"content": DORMANT})
        if dormant or sync or thread in appearance:
            appearance[thread] = _row(
                f"a{thread}", guild, thread, "appearance", {"note": bool(sync)}, result=solved_note
            )
        elif solved_note:
            appearance[thread] = _row(
                f"a{thread}", guild, thread, "appearance", {}, result=solved_note, status="done"
            )
    values = list(rows.values()) + list(appearance.values())
    if values:
        conn.execute(owed.insert(), values)


def downgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("key", sa.String(length=25), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.Column("archive_after", sa.Boolean(), server_default=sa.false(), nullable=False),
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
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discord_sync_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("solved_note_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("dormant_note_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("welcome_message_id", sa.BigInteger(), nullable=True))
    # Pending actions are not moved back: a downgrade forgets what was owed (nothing is posted twice).
    op.drop_table("owed_actions")
