"""The values Truncate shortened, per task of a run, leg and field: added with each page's
commit (same transaction), read back with the run."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from integrator.engine.history.models import Truncation
from integrator.engine.history.tables import truncations

__all__ = ["add_truncations", "run_truncations"]


def add_truncations(
    conn: sa.Connection, run_id: int, position: int, items: Sequence[Truncation]
) -> None:
    """Add a page's shortened values to its task's totals, on the caller's transaction."""
    table = truncations
    for item in items:
        where = sa.and_(
            table.c.run_id == run_id,
            table.c.position == position,
            table.c.leg == item.leg,
            table.c.field == item.field,
        )
        updated = conn.execute(
            table.update()
            .where(where)
            .values(
                count=table.c.count + item.count,
                longest=sa.case(
                    (table.c.longest < item.longest, item.longest), else_=table.c.longest
                ),
                limit=item.limit,
            )
        )
        if updated.rowcount == 0:
            conn.execute(
                table.insert().values(
                    run_id=run_id,
                    position=position,
                    leg=item.leg,
                    field=item.field,
                    limit=item.limit,
                    count=item.count,
                    longest=item.longest,
                )
            )


def run_truncations(conn: sa.Connection, run_id: int) -> dict[int, list[Truncation]]:
    """Run ``run_id``'s shortened values by task position, in leg and field order."""
    table = truncations
    rows = conn.execute(
        sa.select(table)
        .where(table.c.run_id == run_id)
        .order_by(table.c.position, table.c.leg, table.c.field)
    ).mappings()
    found: dict[int, list[Truncation]] = {}
    for row in rows:
        found.setdefault(row["position"], []).append(
            Truncation(row["leg"], row["field"], row["limit"], row["count"], row["longest"])
        )
    return found
