"""A workspace that names a PostgreSQL history database keeps its history there."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.run import Engine
from integrator.sandbox.testing import SandboxHandle
from tests.golden.dataset import load_sales

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.mark.postgres
def test_history_goes_to_the_named_postgresql_database(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    admin = sa.create_engine(PG)
    schema = f"ws_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
    try:
        load_sales(sandbox.data_dir)
        root = init_workspace(tmp_path / "ws", sandbox.url)
        settings = root / "integrator.yaml"
        url = f"{PG}?options=-csearch_path%3D{schema}"
        settings.write_text(
            settings.read_text().replace("database_url: null", f'database_url: "{url}"')
        )
        engine = Engine(load_workspace(root))
        summaries = engine.run(["Accounts"])
        engine.close()
        assert not (root / "history.db").exists()
        with admin.connect() as conn:
            statuses = conn.execute(
                sa.text(f'SELECT project, status FROM "{schema}".runs')
            ).fetchall()
            failed = conn.execute(
                sa.text(f'SELECT record_key FROM "{schema}".record_errors')
            ).fetchall()
        assert statuses == [(summaries[0].project, "Warning")]
        assert failed == [("ACC-01003-ATLNTS",)]
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
