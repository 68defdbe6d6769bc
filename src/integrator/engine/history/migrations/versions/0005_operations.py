"""What operations need: who started a run, its schedule slot, why it ended, its heartbeat and
a cancel request; the schedules' next slots; the notification outbox.

Revision ID: 0005_operations
Revises: 0004_truncations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_operations"
down_revision = "0004_truncations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the run record's new columns, ``schedules`` and ``outbox``."""
    # plain ADD COLUMN (SQLite has it): a batch copy of `runs` would drop the table, and with
    # foreign keys on, its tasks and failed records with it
    op.add_column(
        "runs", sa.Column("trigger", sa.String(20), nullable=False, server_default="manual")
    )
    for column in ("scheduled_for", "end_reason", "heartbeat_at", "cancel_requested_at"):
        op.add_column("runs", sa.Column(column, sa.String(40)))
    op.create_index("ux_runs_project_slot", "runs", ["project", "scheduled_for"], unique=True)
    op.create_table(
        "schedules",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("next_run_at", sa.String(40)),
        sa.Column("waiting_slot", sa.String(40)),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.String(40)),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.String(40)),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop ``outbox``, ``schedules`` and the run record's new columns."""
    op.drop_table("outbox")
    op.drop_table("schedules")
    op.drop_index("ux_runs_project_slot", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        for column in (
            "cancel_requested_at",
            "heartbeat_at",
            "end_reason",
            "scheduled_for",
            "trigger",
        ):
            batch.drop_column(column)
