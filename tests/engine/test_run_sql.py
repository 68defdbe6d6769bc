"""The engine end to end over SQL connections straight to the sandbox's stores.

The golden Sales dataset goes through the three P2C templates; CDS and F&O rows and every
failed record are compared with the golden files; then incremental behaviour is checked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.history import Counts, RunStatus, RunSummary
from integrator.engine.run import Engine
from integrator.errors import ConfigError
from integrator.sandbox.sqlaccess import sql_connectors
from integrator.sandbox.stores import SandboxStore
from tests.golden.dataset import check_golden, dump_outputs, load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    return data


@pytest.fixture
def engine(tmp_path: Path, data_dir: Path) -> Iterator[Engine]:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:9")
    workspace = load_workspace(root)
    connectors = sql_connectors(data_dir)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    engine = Engine(workspace, connectors=pool)
    yield engine
    engine.close()


def _errors(summaries: list[RunSummary]) -> list[dict[str, str | None]]:
    return [
        {"project": run.project, "task": task.name, **error.as_dict()}
        for run in summaries
        for task in run.tasks
        for error in task.errors
    ]


def _counts(summaries: list[RunSummary]) -> dict[str, dict[str, int]]:
    return {run.project: run.tasks[0].counts.as_dict() for run in summaries}


def test_golden_dataset_lands_in_cds_and_finops_exactly(engine: Engine, data_dir: Path) -> None:
    summaries = engine.run()
    assert [s.project for s in summaries] == [ACCOUNTS, CONTACTS, CUSTOMERS]
    check_golden("rows", dump_outputs(data_dir))
    check_golden("errors-sql", _errors(summaries))
    check_golden("counts", _counts(summaries))
    assert [s.status for s in summaries] == [RunStatus.WARNING] * 3


def test_a_second_run_with_no_change_writes_nothing(engine: Engine, data_dir: Path) -> None:
    engine.run()
    before = dump_outputs(data_dir)
    again = engine.run(all_data=True)
    for run in again:
        counts = run.tasks[0].counts
        assert counts.inserted == counts.updated == 0, run.project
        assert counts.unchanged == counts.read - counts.errors
    assert dump_outputs(data_dir) == before
    incremental = engine.run()
    for run in incremental:
        counts = run.tasks[0].counts
        # nothing changed: nothing read; the records that failed wait for their backoff
        assert counts.as_dict() == Counts().as_dict()
        assert run.status == RunStatus.COMPLETED


def test_changing_one_contact_updates_one_row_in_each_leg(engine: Engine, data_dir: Path) -> None:
    engine.run()
    conn = sqlite3.connect(data_dir / "sales.db")
    with conn:
        conn.execute(
            "UPDATE contacts SET jobtitle = 'CEO', emailaddress1 = 'ann@new.example' "
            "WHERE msdynce_contactnumber = 'CON-01001-DECIDR'"
        )
    conn.close()
    summaries = {s.project: s for s in engine.run()}
    contacts = summaries[CONTACTS].tasks[0]
    assert contacts.counts.updated == 1 and contacts.counts.inserted == 0
    rows = dump_outputs(data_dir)
    cds = next(r for r in rows["cds"]["contacts"] if r["ContactId"] == "CON-01001-DECIDR")
    fo = next(
        r
        for r in rows["finops"]["CDSContactPersons"]
        if r["ContactPersonPartyNumber"] == "CON-01001-DECIDR"
    )
    assert (cds["JobTitle"], cds["EmailPrimary"]) == ("CEO", "ann@new.example")
    assert fo["PrimaryEmailAddress"] == "ann@new.example"
    assert summaries[ACCOUNTS].tasks[0].counts.updated == 0
    assert summaries[CUSTOMERS].tasks[0].counts.updated == 0


def test_a_project_whose_prerequisite_never_ran_is_refused(engine: Engine) -> None:
    with pytest.raises(ConfigError) as caught:
        engine.run([CONTACTS])
    assert f'requires "{ACCOUNTS}" to have run first' in str(caught.value)
    assert engine.history.runs() == []
    engine.run([ACCOUNTS])
    assert engine.run([CONTACTS])[0].status == RunStatus.WARNING


def test_rerun_retries_only_the_failed_records(engine: Engine, data_dir: Path) -> None:
    first = {s.project: s for s in engine.run()}
    failed = first[CONTACTS]
    rerun = engine.rerun(failed.id)
    assert rerun.rerun_of == failed.id and rerun.mode == "rerun"
    assert rerun.tasks[0].counts.read == failed.tasks[0].counts.errors
    assert {e.key for e in rerun.tasks[0].errors} == {e.key for e in failed.tasks[0].errors}
