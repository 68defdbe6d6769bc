"""Partitioned incremental reads: a plan may cut the changes since a checkpoint.

``since`` holds the checkpoint a plan of change ranges reads from (every range reads the
changes after it, in its own bounds); a plan of a full read has none. A plan with ``since``
removes nothing when it finishes (an incremental read sees no deletions), and its ``snapshot``
becomes the task's checkpoint as a full read's does.

Revision ID: 0009_change_partitions
Revises: 0008_partition_seen
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_change_partitions"
down_revision = "0008_partition_seen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``task_partitions.since``."""
    with op.batch_alter_table("task_partitions") as batch:
        batch.add_column(sa.Column("since", sa.Text))


def downgrade() -> None:
    """Drop ``task_partitions.since``."""
    with op.batch_alter_table("task_partitions") as batch:
        batch.drop_column("since")
