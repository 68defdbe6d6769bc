"""The index of pending records holds only them: a partial index on project and task.

The full index on (project, task, pending) matched any lookup of a task's records by its first
two columns, and PostgreSQL chose it for the per-record state lookups whenever the history's
statistics were stale (a first run into a new history, with autovacuum late or off): every
lookup then read every row of the task. Only the queries for pending records use it.

Revision ID: 0006_pending_index
Revises: 0005_operations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pending_index"
down_revision = "0005_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace ``ix_record_state_pending`` with its partial form."""
    op.drop_index("ix_record_state_pending", table_name="record_state")
    # the predicate as SQLAlchemy writes ``pending.is_(True)`` for each dialect, so both
    # planners see that the index serves the pending queries
    op.create_index(
        "ix_record_state_pending",
        "record_state",
        ["project", "task"],
        sqlite_where=sa.text("pending IS 1"),
        postgresql_where=sa.text("pending IS true"),
    )


def downgrade() -> None:
    """Restore the full index."""
    op.drop_index("ix_record_state_pending", table_name="record_state")
    op.create_index("ix_record_state_pending", "record_state", ["project", "task", "pending"])
