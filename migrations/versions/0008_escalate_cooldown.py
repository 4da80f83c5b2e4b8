"""An index for the `/escalate` cooldown: a member's latest request in a server.

Revision ID: 0008_escalate_cooldown
Revises: 0007
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_escalate_cooldown"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalation_threads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalation_threads_requester", ["guild_id", "requested_by_id", "requested_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("escalation_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_threads_requester")
