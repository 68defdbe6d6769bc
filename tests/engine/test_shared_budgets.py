"""Where the engine's HTTP connectors keep their request budgets: in the process, or in the
PostgreSQL history database when distributed mode is on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.connectors.http.budget import RequestBudget, share_budgets_through
from integrator.connectors.http.pg_budget import PostgresBudget
from integrator.engine.connections import ConnectorPool, budget_database_url
from tests.connectors.http.budget_databases import budget_database

SANDBOX = "http://127.0.0.1:9"  # never reached: opening a connector sends nothing


@pytest.fixture(autouse=True)
def budgets_in_process_afterwards() -> Iterator[None]:
    yield
    share_budgets_through(None)


def workspace_on(root: Path, database_url: str | None, *, distributed: bool = False) -> Path:
    init_workspace(root, SANDBOX)
    settings = root / "integrator.yaml"
    if database_url is not None:
        settings.write_text(
            settings.read_text().replace("database_url: null", f'database_url: "{database_url}"')
        )
    if distributed:
        settings.write_text(settings.read_text() + "workers:\n  queue: true\n")
    return root


def test_a_postgresql_history_in_distributed_mode_holds_the_budgets(tmp_path: Path) -> None:
    with budget_database() as url:
        workspace = load_workspace(workspace_on(tmp_path / "ws", url, distributed=True))
        pool = ConnectorPool(workspace)
        cds = pool.get("cds")
        try:
            assert budget_database_url(workspace) == url
            assert isinstance(cds.client.budget, PostgresBudget)  # type: ignore[attr-defined]
        finally:
            cds.client.budget.close()  # type: ignore[attr-defined]
            pool.close()


def test_budgets_stay_in_the_process_without_postgresql_or_distributed_mode(
    tmp_path: Path,
) -> None:
    sqlite = load_workspace(workspace_on(tmp_path / "sqlite", None))
    pool = ConnectorPool(sqlite)
    assert budget_database_url(sqlite) is None
    assert isinstance(pool.get("cds").client.budget, RequestBudget)  # type: ignore[attr-defined]
    pool.close()

    postgres = load_workspace(
        workspace_on(tmp_path / "pg", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    assert budget_database_url(postgres) is None
