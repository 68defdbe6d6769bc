"""The source ids a partitioned full read has seen (``partition_seen``).

Each page of a partition marks the source ids it saw, in the page's own transaction. Once every
partition of the plan is done, the task's record states with no mark are the records gone from
the source (one anti-join, not a walk of every state per partition), and the marks go with the
plan. A plan taken up again after a stopped run keeps the marks of the pages committed before.

A plan left unfinished by an earlier version has no marks for the pages it committed (its
partitions removed the records gone from their own ranges as each finished): every state of its
task is marked seen, so finishing it removes nothing its done partitions read. Only the records
gone from its unfinished ranges wait for the task's next full read to be removed.

Revision ID: 0008_partition_seen
Revises: 0007_task_partitions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_partition_seen"
down_revision = "0007_task_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``partition_seen``."""
    op.create_table(
        "partition_seen",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("task", sa.String(200), primary_key=True),
        sa.Column("source_id", sa.String(400), primary_key=True),
    )
    op.execute(
        "INSERT INTO partition_seen (project, task, source_id)"
        " SELECT r.project, r.task, r.source_id FROM record_state AS r"
        " WHERE EXISTS (SELECT 1 FROM task_partitions AS p"
        " WHERE p.project = r.project AND p.task = r.task)"
    )


def downgrade() -> None:
    """Drop ``partition_seen``."""
    op.drop_table("partition_seen")
