"""The engine end to end over HTTP: Dataverse and F&O connectors against a running sandbox.

Same golden Sales dataset, same expected CDS and F&O rows as over SQL; the errors carry the
systems' own OData messages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.history import Counts, RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.testing import SandboxHandle
from tests.golden.dataset import check_golden, dump_outputs, load_sales


@pytest.fixture
def engine(tmp_path: Path, sandbox: SandboxHandle) -> Iterator[Engine]:
    load_sales(sandbox.data_dir)
    root = init_workspace(tmp_path / "ws", sandbox.url)
    engine = Engine(load_workspace(root))
    yield engine
    engine.close()


def test_golden_dataset_over_http(engine: Engine, sandbox: SandboxHandle) -> None:
    summaries = engine.run()
    assert [s.status for s in summaries] == [RunStatus.WARNING] * 3
    check_golden("rows", dump_outputs(sandbox.data_dir))
    check_golden(
        "errors-http",
        [
            {"project": run.project, "task": task.name, **error.as_dict()}
            for run in summaries
            for task in run.tasks
            for error in task.errors
        ],
    )
    check_golden("counts", {run.project: run.tasks[0].counts.as_dict() for run in summaries})


def test_incremental_run_reads_only_changes_and_lets_failures_wait(
    engine: Engine, sandbox: SandboxHandle
) -> None:
    engine.run()
    sandbox.reset_request_counts()
    again = engine.run()
    for run in again:
        counts = run.tasks[0].counts
        assert counts.as_dict() == Counts().as_dict()  # nothing changed, nothing re-sent
        assert run.status == RunStatus.COMPLETED  # was Error: last run's failures failed again
        assert "still wait for a fix" in (run.message or "")
    # change tracking: one delta read per task, nothing written
    assert sandbox.request_counts()["total"] < 10


def test_a_service_at_a_new_address_means_a_full_read_not_an_error(
    engine: Engine, sandbox: SandboxHandle
) -> None:
    engine.run()
    engine.close()
    root = engine.workspace.root
    connections = root / "connections.yaml"
    text = connections.read_text(encoding="utf-8")
    old = text.split('url: "', 1)[1].split("/sales/", 1)[0]
    # the same sandbox under another address (localhost, not 127.0.0.1): the stored delta
    # links point elsewhere
    new = old.replace("127.0.0.1", "localhost")
    connections.write_text(text.replace(old, new), encoding="utf-8")
    moved = Engine(load_workspace(root))
    runs = moved.run()
    moved.close()
    assert [r.status for r in runs] == [RunStatus.WARNING] * 3
    for run in runs:
        counts = run.tasks[0].counts
        assert counts.inserted == counts.updated == 0
    assert all("read instead" in (r.message or "") for r in runs)


def test_a_service_down_fails_the_write_stage_and_the_next_run_sends_the_change(
    engine: Engine, sandbox: SandboxHandle
) -> None:
    accounts = "Accounts (Sales to Fin and Ops)"
    engine.run()
    conn = sqlite3.connect(sandbox.data_dir / "sales.db")
    with conn:
        conn.execute(
            "UPDATE accounts SET telephone1 = '+1 555 0199'"
            " WHERE accountnumber = 'ACC-01000-CONTSO'"
        )
    conn.close()
    sandbox.set_faults(rate_503=1.0, retry_after=0, services=["finops"])
    try:
        [down] = engine.run([accounts])
    finally:
        sandbox.clear_faults()
    assert down.status == RunStatus.ERROR and down.tasks[0].status == RunStatus.ERROR
    assert down.message is not None
    assert down.message.startswith(f"run {down.id}, task Accounts: stage write failed: ")
    assert "/finops/" in down.message and "503" in down.message
    [back] = engine.run([accounts])  # the page was not committed: its change is read again
    counts = back.tasks[0].counts
    assert (counts.read, counts.updated, counts.errors) == (1, 1, 0)
    assert back.status == RunStatus.COMPLETED
