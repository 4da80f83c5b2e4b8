"""Remember which tracked threads are archived on Discord, so start-up skips them.

A restart used to look up every tracked thread that was not dormant, imported and long-closed
ones included: one REST call each. An archived thread cannot change without becoming active again
(a message unarchives it; Discord refuses reactions there), so only threads not known to be
archived need a look.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_on_discord", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Dormant threads were archived by the bot and imported ones were archived history. Every
    # other thread is looked at once more at the next start-up, which records what it finds.
    op.execute(
        "UPDATE help_threads SET archived_on_discord = true WHERE state = 'dormant' OR origin = 'backfill'"
    )


def downgrade() -> None:
    with op.batch_alter_table("help_threads", schema=None) as batch_op:
        batch_op.drop_column("archived_on_discord")
