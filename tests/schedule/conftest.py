"""A workspace with scheduled projects and its history database, on SQLite or PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.config.edit import set_project_key
from integrator.config.workspace import Workspace, init_workspace, load_workspace

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


@pytest.fixture
def workspace_root(tmp_path: Path) -> Path:
    """A new workspace (its sandbox URL is never called here)."""
    return init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")


def schedule(root: Path, project: str, value: dict[str, object] | None) -> Workspace:
    """Set ``project``'s schedule in its file and return the workspace as loaded again."""
    set_project_key(load_workspace(root), project, "schedule", value)
    return load_workspace(root)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A history database URL: a SQLite file, or a fresh schema of the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    admin = sa.create_engine(PG)
    schema = f"sched_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
