"""Outbox messages may carry link buttons and archive their thread once sent.

The "This solved it" note (with links to the earlier thread) and the close of its thread now go
through the outbox like every other owed message, so a crash between the commit and Discord
loses neither.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("links", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("archive_after", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("archive_after")
        batch_op.drop_column("links")
