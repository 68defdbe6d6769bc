"""Partitioned full reads: a task's plan of key ranges, each with its own checkpoint.

A full read of a big source is cut into key ranges (partitions) that each commit their own
resume point (the key of the last record a committed page held) with their pages, so a run
stopped mid-partition goes on from there; ``snapshot`` is the task's change checkpoint taken
before the load, stored as the task's checkpoint once every partition is done. Counts still go
into the task's ``task_runs`` row (each page adds to it), so the run's counts are the sum of
its partitions'.

Revision ID: 0007_task_partitions
Revises: 0006_pending_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_task_partitions"
down_revision = "0006_pending_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``task_partitions``."""
    op.create_table(
        "task_partitions",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("task", sa.String(200), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("lower", sa.Text),
        sa.Column("upper", sa.Text),
        sa.Column("resume", sa.Text),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("snapshot", sa.Text),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop ``task_partitions``."""
    op.drop_table("task_partitions")
