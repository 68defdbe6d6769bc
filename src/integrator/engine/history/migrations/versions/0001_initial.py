"""Initial history store: runs, task runs, record errors, checkpoints.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables."""
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("rerun_of", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL")),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40)),
        sa.Column("message", sa.Text),
        sa.Column("owner", sa.String(200)),
    )
    op.create_index("ix_runs_project", "runs", ["project"])
    op.create_table(
        "task_runs",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("read", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
    )
    op.create_table(
        "record_errors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE")),
        sa.Column("task", sa.String(200), nullable=False),
        sa.Column("leg", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(400), nullable=False),
        sa.Column("field", sa.String(200)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text),
    )
    op.create_index("ix_record_errors_run_id", "record_errors", ["run_id"])
    op.create_table(
        "checkpoints",
        sa.Column("project", sa.String(200), primary_key=True),
        sa.Column("task", sa.String(200), primary_key=True),
        sa.Column("checkpoint", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("checkpoints")
    op.drop_table("record_errors")
    op.drop_table("task_runs")
    op.drop_table("runs")
