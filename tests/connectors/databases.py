"""The databases connector tests run against: a SQLite file, and the local PostgreSQL when here."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from integrator.connectors.sql import SqlConnector

__all__ = [
    "POSTGRES_URL",
    "Database",
    "postgres_database",
    "postgres_engine",
    "postgres_missing",
    "postgres_schema",
    "sqlite_database",
]

#: the local server; ``INTEGRATOR_TEST_POSTGRES_URL`` points the tests elsewhere
POSTGRES_URL = os.environ.get(
    "INTEGRATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def postgres_missing() -> str | None:
    """Why the server cannot be used (asked once per test session), or ``None``."""
    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        where = sa.make_url(POSTGRES_URL).render_as_string(hide_password=True)
        return f"PostgreSQL at {where} is not available: {reason}"
    finally:
        engine.dispose()


def postgres_engine() -> sa.Engine:
    """An engine on the local PostgreSQL; skips the test with the reason when it is absent."""
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    return sa.create_engine(POSTGRES_URL)


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """The URL of a new schema ``<prefix>_<hex>`` of the local PostgreSQL (its search path),
    dropped with everything in it afterwards; skips the test with the reason when the server
    is absent."""
    admin = postgres_engine()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Database:
    """A scratch database: SQLite file or a PostgreSQL schema of its own."""

    dialect: str
    url: str
    schema: str | None
    engine: sa.Engine
    connectors: list[SqlConnector] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """What goes before a table name in DDL: ``schema.`` on PostgreSQL, nothing on SQLite."""
        return f"{self.schema}." if self.schema else ""

    def run(self, script: str) -> None:
        """Run a DDL/DML script; ``{s}`` stands for :attr:`prefix`."""
        text = script.replace("{s}", self.prefix)
        with self.engine.begin() as connection:
            if self.dialect == "sqlite":
                connection.connection.driver_connection.executescript(text)  # type: ignore[union-attr]
            else:
                connection.exec_driver_sql(text)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of a query; ``{s}`` stands for :attr:`prefix`."""
        with self.engine.connect() as connection:
            return [tuple(r) for r in connection.exec_driver_sql(sql.replace("{s}", self.prefix))]

    def connector(self, **options: Any) -> SqlConnector:
        """A connector on this database (closed when the test ends)."""
        made = SqlConnector.from_url(self.url, schema=self.schema, **options)
        self.connectors.append(made)
        return made

    def close(self) -> None:
        for made in self.connectors:
            made.close()
        self.engine.dispose()


@contextmanager
def sqlite_database(scratch: Path) -> Iterator[Database]:
    """A fresh SQLite file in ``scratch``."""
    url = f"sqlite:///{scratch / 'test.db'}"
    database = Database("sqlite", url, None, sa.create_engine(url))
    try:
        yield database
    finally:
        database.close()


@contextmanager
def postgres_database() -> Iterator[Database]:
    """A schema of its own in the local PostgreSQL, dropped afterwards (skips when absent)."""
    engine = postgres_engine()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    database = Database("postgresql", POSTGRES_URL, schema, engine)
    try:
        yield database
    finally:
        for made in database.connectors:
            made.close()
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
