"""Fixtures for connector tests: ``db`` runs a test on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .databases import Database, postgres_database, sqlite_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A scratch database of each kind."""
    if request.param == "sqlite":
        with sqlite_database(tmp_path) as database:
            yield database
    else:
        with postgres_database() as database:
            yield database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A scratch SQLite file."""
    with sqlite_database(tmp_path) as database:
        yield database


@pytest.fixture
def postgres_db() -> Iterator[Database]:
    """A scratch PostgreSQL schema (skips when the server is absent)."""
    with postgres_database() as database:
        yield database
