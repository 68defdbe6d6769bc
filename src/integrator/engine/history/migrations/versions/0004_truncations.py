"""How many values Truncate shortened, per task of a run, leg and field.

Revision ID: 0004_truncations
Revises: 0003_failures_and_mappings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_truncations"
down_revision = "0003_failures_and_mappings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``truncations``."""
    op.create_table(
        "truncations",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("leg", sa.String(40), primary_key=True),
        sa.Column("field", sa.String(200), primary_key=True),
        sa.Column("limit", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("longest", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    """Drop ``truncations``."""
    op.drop_table("truncations")
