"""Record state: what each source record last became in each leg, and whether it is pending.

Revision ID: 0002_record_state
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_record_state"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``record_state``."""
    op.create_table(
        "record_state",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("task", sa.String(200), primary_key=True),
        sa.Column("source_id", sa.String(400), primary_key=True),
        sa.Column("record_key", sa.String(400), nullable=False),
        sa.Column("leg_keys", sa.Text),
        sa.Column("pending", sa.Boolean, nullable=False),
    )
    op.create_index("ix_record_state_pending", "record_state", ["project", "task", "pending"])


def downgrade() -> None:
    """Drop ``record_state``."""
    op.drop_table("record_state")
