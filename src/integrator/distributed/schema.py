"""Procrastinate's tables in the history database, and integrator's own table beside them
(which run each job recorded), created once, safely from several processes at once."""

from __future__ import annotations

import psycopg
from procrastinate.schema import SchemaManager

__all__ = ["ensure_schema"]

#: the advisory lock key under which the queue's tables are created (any constant will do,
#: as long as every integrator process uses the same one)
_SCHEMA_LOCK = 0x1A7E_0015

#: which run a job recorded (its latest, when a job taken over ran twice): the portal follows
#: a queued job to its run through it
JOB_RUNS_DDL = (
    "CREATE TABLE IF NOT EXISTS integrator_job_runs ("
    "job_id bigint PRIMARY KEY, run_id bigint NOT NULL, recorded_at timestamptz NOT NULL "
    "DEFAULT now())"
)


def _present(conn: psycopg.Connection) -> bool:
    found = conn.execute(
        "SELECT to_regclass('procrastinate_jobs'), to_regclass('integrator_job_runs')"
    ).fetchone()
    return found is not None and None not in found


def ensure_schema(conninfo: str) -> bool:
    """Create Procrastinate's tables and ``integrator_job_runs`` in the database (and schema
    of the ``search_path``) of ``conninfo`` unless they are there; returns whether it created
    any.

    Under a session advisory lock: a second process calling this meanwhile waits, then
    finds the tables (each check its own transaction, so it sees what the first one
    committed) and does nothing."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if _present(conn):
            return False
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            if _present(conn):
                return False
            with conn.transaction():
                if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
                    conn.execute(SchemaManager.get_schema())
                conn.execute(JOB_RUNS_DDL)
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
