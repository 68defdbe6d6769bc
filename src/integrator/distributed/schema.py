"""Procrastinate's tables in the history database, created once, safely from several
processes at once."""

from __future__ import annotations

import psycopg
from procrastinate.schema import SchemaManager

__all__ = ["ensure_schema"]

#: the advisory lock key under which the queue's tables are created (any constant will do,
#: as long as every integrator process uses the same one)
_SCHEMA_LOCK = 0x1A7E_0015


def _present(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() != (None,)


def ensure_schema(conninfo: str) -> bool:
    """Create Procrastinate's tables in the database (and schema of the ``search_path``) of
    ``conninfo`` unless ``procrastinate_jobs`` is there; returns whether it created them.

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
                conn.execute(SchemaManager.get_schema())
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
