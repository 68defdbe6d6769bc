"""How records failed (transient or on their data, since which run, when next), records still
failing the same way, and each task's mapping fingerprint.

Revision ID: 0003_failures_and_mappings
Revises: 0002_record_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_failures_and_mappings"
down_revision = "0002_record_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the failure columns and ``task_mappings``."""
    with op.batch_alter_table("record_state") as table:
        table.add_column(sa.Column("failure", sa.Text))
        table.add_column(sa.Column("retry_at", sa.String(40)))
    with op.batch_alter_table("task_runs") as table:
        table.add_column(sa.Column("still_failing", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("record_errors") as table:
        table.add_column(
            sa.Column("transient", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(
            sa.Column("still_failing", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "task_mappings",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("task", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("full_read_fingerprint", sa.String(64)),
        sa.Column("full_read_run_id", sa.Integer),
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("task_mappings")
    with op.batch_alter_table("record_errors") as table:
        table.drop_column("still_failing")
        table.drop_column("transient")
    with op.batch_alter_table("task_runs") as table:
        table.drop_column("still_failing")
    with op.batch_alter_table("record_state") as table:
        table.drop_column("retry_at")
        table.drop_column("failure")
