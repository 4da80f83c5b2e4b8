"""An index of the tracked threads that may have changed on Discord while the bot was away.

The start-up catch-up asks for the threads of a server that are neither deleted nor known to be
archived: a few thousand at most, among what may be millions of solved and archived ones. Without
this partial index that question read the whole table (seconds at a million threads).

Revision ID: 0011_unsettled_threads_index
Revises: 0010_archive_consent
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_unsettled_threads_index"
down_revision: str | None = "0010_archive_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_help_threads_unsettled",
            ["guild_id"],
            unique=False,
            sqlite_where=sa.text("deleted = 0 AND archived_on_discord = 0"),
            postgresql_where=sa.text("deleted = false AND archived_on_discord = false"),
        )


def downgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_help_threads_unsettled")
