"""The PostgreSQL tables of the shared request budgets (:mod:`.pg_budget`), and the URL psycopg
takes. Coordination state in the history database, not history: created on first use, not by
an Alembic migration."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.engine import make_url

__all__ = ["budget_tables", "libpq_url"]

#: advisory lock key under which the tables are created (two first users at once)
_TABLES_LOCK = 0x1B0D6E7

_TABLES = (
    """CREATE TABLE IF NOT EXISTS integrator_budget (
        host text NOT NULL, identity text NOT NULL,
        paused_until double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (host, identity))""",
    """CREATE TABLE IF NOT EXISTS integrator_budget_window (
        host text NOT NULL, identity text NOT NULL, bucket bigint NOT NULL,
        used integer NOT NULL, PRIMARY KEY (host, identity, bucket))""",
    """CREATE TABLE IF NOT EXISTS integrator_budget_lease (
        host text NOT NULL, identity text NOT NULL, holder text NOT NULL,
        slots integer NOT NULL, expires_at double precision NOT NULL,
        PRIMARY KEY (host, identity, holder))""",
    """CREATE TABLE IF NOT EXISTS integrator_budget_seat (
        host text NOT NULL, identity text NOT NULL, holder text NOT NULL,
        seats integer NOT NULL, expires_at double precision NOT NULL,
        PRIMARY KEY (host, identity, holder))""",
)


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``) as psycopg takes it."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"a shared request budget needs PostgreSQL, not {url.drivername}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def budget_tables(connection: psycopg.Connection[Any]) -> None:
    """Create the budget tables unless they exist (serialized by an advisory lock)."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (_TABLES_LOCK,))
        for statement in _TABLES:
            connection.execute(statement)
