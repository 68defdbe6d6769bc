"""Golden tests for the direct templates: the same Sales data gives exactly the same F&O rows
through the direct templates (Sales → F&O) as through the seed's (Sales → CDS → F&O).

Each flow runs through the engine over HTTP against its own sandbox serving a byte-for-byte
copy of the same Sales data: the golden dataset (F&O rows also compared with the kept
``expected/rows.json``), and a larger one made by the sandbox's seeder (messy country
spellings, blanks, long names, quotes and orders).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.history import RunStatus, RunSummary
from integrator.engine.run import Engine
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.stores.seed import seed_sales
from integrator.sandbox.testing import running_sandbox
from tests.golden.dataset import HERE, check_golden, dump_outputs, load_sales

DIRECT = " - Direct"


@dataclass
class Outcome:
    """What one flow left behind: its runs, every CDS and F&O row, and the services it used."""

    runs: list[RunSummary]
    rows: dict[str, dict[str, list[dict[str, Any]]]]
    services: set[str]


def run_flow(sales: Path, folder: Path, *, direct: bool, legal_entity: str = "USMF") -> Outcome:
    """Run every project of a new (direct or three-system) workspace, once, against a sandbox
    serving a copy of the Sales data in ``sales``, writing to F&O company ``legal_entity``."""
    data = folder / "sandbox"
    shutil.copytree(sales, data)
    with running_sandbox(data) as sandbox:
        root = init_workspace(folder / "ws", sandbox.url, direct=direct)
        connections = root / "connections.yaml"
        text = connections.read_text(encoding="utf-8")
        connections.write_text(
            text.replace("finops_legal_entity: USMF", f"finops_legal_entity: {legal_entity}"),
            encoding="utf-8",
        )
        engine = Engine(load_workspace(root))
        try:
            runs = engine.run()
        finally:
            engine.close()
        services = set(sandbox.request_counts()["requests"])
    return Outcome(runs, dump_outputs(data), services)


def both_flows(sales: Path, folder: Path) -> tuple[Outcome, Outcome]:
    return (
        run_flow(sales, folder / "three-system", direct=False),
        run_flow(sales, folder / "direct", direct=True),
    )


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Outcome]:
    folder = tmp_path_factory.mktemp("golden-direct")
    sales = folder / "sales"
    SandboxStore.open(sales)
    load_sales(sales)
    return both_flows(sales, folder)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Outcome]:
    folder = tmp_path_factory.mktemp("seeded-direct")
    sales = folder / "sales"
    SandboxStore.open(sales)
    seed_sales(sales, accounts=300, contacts=1200, random_seed=7)
    return both_flows(sales, folder)


def _fo_tables(outcome: Outcome) -> dict[str, list[dict[str, Any]]]:
    return outcome.rows["finops"]


def test_golden_fo_rows_are_the_same_through_both_flows_row_for_row(
    golden: tuple[Outcome, Outcome],
) -> None:
    three_system, direct = golden
    for table, rows in _fo_tables(three_system).items():
        assert rows, table  # the comparison below compares something
        assert _fo_tables(direct)[table] == rows, table


def test_golden_direct_fo_rows_are_the_kept_ones(golden: tuple[Outcome, Outcome]) -> None:
    kept = json.loads((HERE / "expected" / "rows.json").read_text(encoding="utf-8"))
    _, direct = golden
    assert _fo_tables(direct) == kept["finops"]


def test_golden_direct_writes_nothing_into_cds_and_never_calls_it(
    golden: tuple[Outcome, Outcome],
) -> None:
    three_system, direct = golden
    assert "cds" in three_system.services
    assert "cds" not in direct.services
    assert all(rows == [] for rows in direct.rows["cds"].values())


def test_golden_direct_counts_and_failed_records(golden: tuple[Outcome, Outcome]) -> None:
    three_system, direct = golden
    assert [r.project for r in direct.runs] == [r.project + DIRECT for r in three_system.runs]
    assert [r.status for r in direct.runs] == [RunStatus.WARNING] * 3
    # the same records are read, written and refused; only where they are refused differs
    assert [r.tasks[0].counts.as_dict() for r in direct.runs] == [
        r.tasks[0].counts.as_dict() for r in three_system.runs
    ]
    keys = [sorted(e.key for e in r.tasks[0].errors) for r in direct.runs]
    assert keys == [sorted(e.key for e in r.tasks[0].errors) for r in three_system.runs]
    check_golden(
        "errors-direct",
        [
            {"project": run.project, "task": task.name, **error.as_dict()}
            for run in direct.runs
            for task in run.tasks
            for error in sorted(task.errors, key=lambda e: e.key)
        ],
    )


def test_seeded_fo_rows_are_the_same_through_both_flows_row_for_row(
    seeded: tuple[Outcome, Outcome],
) -> None:
    three_system, direct = seeded
    customers = _fo_tables(three_system)["CustomersV2"]
    assert len(customers) > 300  # accounts and contacts that became customers
    assert len(_fo_tables(three_system)["CDSContactPersons"]) > 100
    for table, rows in _fo_tables(three_system).items():
        assert _fo_tables(direct)[table] == rows, table
    assert [r.tasks[0].counts.as_dict() for r in direct.runs] == [
        r.tasks[0].counts.as_dict() for r in three_system.runs
    ]


def test_direct_rows_go_to_the_legal_entity_of_the_organization_mapping(tmp_path: Path) -> None:
    sales = tmp_path / "sales"
    SandboxStore.open(sales)
    load_sales(sales)
    outcome = run_flow(sales, tmp_path / "demf", direct=True, legal_entity="DEMF")
    kept = json.loads((HERE / "expected" / "rows.json").read_text(encoding="utf-8"))
    for table, rows in _fo_tables(outcome).items():
        assert {row["dataAreaId"] for row in rows} == {"demf"}, table
        assert [{**row, "dataAreaId": "usmf"} for row in rows] == kept["finops"][table]
    errors = [e.message for r in outcome.runs for e in r.tasks[0].errors]
    assert "DecisionMakingRoleCode 'Influencer' does not exist in company DEMF" in errors
