"""A scratch PostgreSQL database for the shared request budget tests (dropped afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from ..databases import POSTGRES_URL, postgres_missing

__all__ = ["budget_database"]


@contextmanager
def budget_database() -> Iterator[str]:
    """The SQLAlchemy URL of a fresh database of its own; skips when PostgreSQL is absent."""
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    name = f"budget_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()
