"""The record-state statements as PostgreSQL runs them: one statement per page, whatever its
size, taking the page's values as arrays, with a plan that stays a primary-key lookup per
record however stale the server's statistics are.

Why not the portable statements: a history filled by a first run has no statistics until it
is analyzed (late, or never with autovacuum off), and the server then estimates a task's rows
at one and plans ``source_id IN (…)`` as a scan of the task's rows (by an index on project and
task) filtered on the list: every 900-id chunk read every row of the task, quadratic in the
run's size (37 s of a 100,000-contact initial run). Looked up one id at a time from an array,
the only plan left is a descent of the primary key per id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

__all__ = ["delete_states", "select_states", "upsert_states"]

# arrays go as ``%b``, in psycopg's binary format (as text, a page's arrays took ten times as
# long to quote and parse as the upsert took to write them); other drivers get ``%s``

#: one lookup per wanted id: ``LIMIT 1`` keeps the subquery apart, so the plan is a nested loop
#: over the ids with an index lookup on the whole primary key, never a scan of the task
_SELECT = """
SELECT s.source_id, s.record_key, s.leg_keys, s.pending, s.failure
FROM unnest(%b::text[]) AS wanted(id)
CROSS JOIN LATERAL (
    SELECT r.source_id, r.record_key, r.leg_keys, r.pending, r.failure
    FROM record_state AS r
    WHERE r.project = %s AND r.task = %s AND r.source_id = wanted.id
    LIMIT 1
) AS s
"""

_UPSERT = """
INSERT INTO record_state
    (project, task, source_id, record_key, leg_keys, pending, failure, retry_at)
SELECT * FROM unnest(
    %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::boolean[], %b::text[],
    %b::text[]
)
ON CONFLICT (project, task, source_id) DO UPDATE SET
    record_key = excluded.record_key,
    leg_keys = excluded.leg_keys,
    pending = excluded.pending,
    failure = excluded.failure,
    retry_at = excluded.retry_at
"""

_DELETE = """
DELETE FROM record_state AS r
USING unnest(%b::text[]) AS gone(id)
WHERE r.project = %s AND r.task = %s AND r.source_id = gone.id
"""

#: a state row: project, task, source id, record key, leg keys (JSON), pending, failure (JSON)
#: and retry time
StateRow = tuple[str, str, str, str, str, bool, str | None, str | None]


def select_states(
    conn: sa.Connection, project: str, task: str, source_ids: Sequence[str]
) -> list[Any]:
    """The stored rows of ``source_ids`` (those that have one), in one statement: tuples of
    source id, record key, leg keys, pending and failure as stored."""
    return list(conn.exec_driver_sql(_for(conn, _SELECT), (list(source_ids), project, task)))


def upsert_states(conn: sa.Connection, rows: Sequence[StateRow]) -> None:
    """Insert or replace the state rows ``rows`` in one statement. A record given twice is
    saved as its last row (as one upsert per row would leave it; PostgreSQL refuses to change
    a row twice in one statement)."""
    unique = {row[:3]: row for row in rows}.values()
    columns = tuple(list(column) for column in zip(*unique, strict=True))
    conn.exec_driver_sql(_for(conn, _UPSERT), columns)


def delete_states(conn: sa.Connection, project: str, task: str, source_ids: Sequence[str]) -> None:
    """Delete the states of ``source_ids``, in one statement."""
    conn.exec_driver_sql(_for(conn, _DELETE), (list(source_ids), project, task))


def _for(conn: sa.Connection, statement: str) -> str:
    return statement if conn.dialect.driver == "psycopg" else statement.replace("%b", "%s")
