"""A run's partitions spread over the queue's workers: a SQL source cut into six key ranges
(see :mod:`tests.distributed.spread_setup`), two ``integrator worker`` processes on a
PostgreSQL history. The run lands exactly the rows and counts of a single-process run and
both workers run partitions; a worker SIGKILLed mid-partition loses nothing (its claim goes
with its connection, and the partition resumes from its last committed page); a killed run
job is taken over and the new run goes on from the unfinished plan; a cancel stops every
partition, and the next run finishes the plan."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.connections import ConnectorPool
from integrator.engine.control import request_cancel
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors
from tests.distributed.spread_setup import (
    ACCOUNTS,
    BATCH,
    RAN_PARTITION,
    SpreadWorkspace,
    sql_workspace,
    start_sql_worker,
    with_partitions,
)
from tests.golden.dataset import dump_outputs
from tests.resilience import harness
from tests.resilience.harness import Dataset

pytestmark = pytest.mark.postgres

#: six partitions of the accounts
DATASET = Dataset("spread", accounts=600, contacts=0, random_seed=31)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.prepare(DATASET, tmp_path_factory.mktemp("seeded"))


def _single_process(data: Path, root: Path, *, touched: bool) -> list[Any]:
    """Run the accounts in one process (SQLite history) on ``data``; with ``touched``, change
    every account after it and run again. Returns the runs' summaries."""
    root = sql_workspace(root, data)
    with_partitions(root)
    workspace = load_workspace(root)
    connectors = sql_connectors(data, page_size=BATCH)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    engine = Engine(workspace, connectors=pool)
    try:
        summaries = engine.run([ACCOUNTS])
        if touched:
            _touch_every_account(data)
            summaries += engine.run([ACCOUNTS])
    finally:
        engine.close()
    return summaries


def _touch_every_account(data: Path) -> None:
    with sqlite3.connect(data / "sales.db") as conn:
        conn.execute("UPDATE accounts SET telephone1 = '+1 555 0100'")


@pytest.fixture(scope="module")
def reference(
    seeded: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, int]]:
    """The rows and counts of one process running the accounts (SQLite history)."""
    base = tmp_path_factory.mktemp("reference")
    data = harness.clone(seeded, base / "sandbox")
    (summary,) = _single_process(data, base / "ws", touched=False)
    assert summary.status in (RunStatus.COMPLETED, RunStatus.WARNING), summary.message
    return dump_outputs(data), summary.tasks[0].counts.as_dict()


@pytest.fixture
def distributed(tmp_path: Path, seeded: Path, pg_history: str) -> Iterator[SpreadWorkspace]:
    setup = SpreadWorkspace(tmp_path, seeded, pg_history)
    try:
        yield setup
    finally:
        setup.close()


def _last_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return [run for run in runs if run["project"] == ACCOUNTS][-1]


def test_two_workers_share_the_partitions_and_land_a_single_process_runs_rows(
    distributed: SpreadWorkspace, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    distributed.wait_for_the_end()
    runs = distributed.runs()
    run = _last_run(runs)
    assert run["status"] in ("Completed", "Warning"), run
    assert [r["status"] for r in runs] == [run["status"]]  # one run, nothing interrupted
    assert run["tasks"][0]["counts"] == counts
    assert dump_outputs(distributed.data) == rows
    logs = distributed.logs()
    ran = [{int(m[2]) for m in RAN_PARTITION.findall(log)} for log in logs]
    assert all(ran), logs  # both workers ran partitions
    assert set().union(*ran) == set(range(1, 7)), ran
    assert sum(len(r) for r in ran) == 6, ran  # each partition ran once
    # the partition plan is finished and gone, as after a single-process run
    assert distributed.one("SELECT count(*) FROM task_partitions")[0] == 0


def test_a_worker_killed_mid_partition_loses_nothing(
    distributed: SpreadWorkspace, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    # the worker running a partition job (not the run's own job), once the partition it runs
    # has committed a page and is not done
    deadline = time.monotonic() + 60
    victim: subprocess.Popen[bytes] | None = None
    killed: int | None = None
    while victim is None and time.monotonic() < deadline:
        for worker, log in zip(distributed.workers, distributed.logs(), strict=True):
            started = RAN_PARTITION.findall(log)
            if f"running {ACCOUNTS}" in log or not started:
                continue
            number = int(started[-1][2]) - 1
            row = distributed.one(
                "SELECT done, resume FROM task_partitions WHERE number = :number",
                number=number,
            )
            if row is not None and not row[0] and row[1] is not None:
                victim, killed = worker, number
                worker.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    assert victim is not None, f"no partition job was caught mid-partition: {distributed.logs()}"
    victim.wait(timeout=10)
    distributed.wait_for_the_end()
    runs = distributed.runs()
    run = _last_run(runs)
    assert run["status"] in ("Completed", "Warning"), run
    assert [r["status"] for r in runs] == [run["status"]]  # the run itself went on
    assert run["tasks"][0]["counts"]["read"] == counts["read"]
    result = dump_outputs(distributed.data)
    assert result == rows  # no duplicate, nothing missing
    # the killed partition was resumed by the run's own job
    survivor = next(
        log
        for worker, log in zip(distributed.workers, distributed.logs(), strict=True)
        if worker is not victim
    )
    assert killed is not None
    assert any(int(m[2]) == killed + 1 for m in RAN_PARTITION.findall(survivor)), survivor


def test_a_killed_run_job_is_taken_over_and_its_plan_spread_again(
    distributed: SpreadWorkspace, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    # the worker running the run's own job, once a partition is done and it runs another
    deadline = time.monotonic() + 60
    victim: subprocess.Popen[bytes] | None = None
    while victim is None and time.monotonic() < deadline:
        for worker, log in zip(distributed.workers, distributed.logs(), strict=True):
            if f"running {ACCOUNTS}" not in log or not RAN_PARTITION.findall(log):
                continue
            row = distributed.one(
                "SELECT count(*) FILTER (WHERE done), "
                "count(*) FILTER (WHERE NOT done AND resume IS NOT NULL) FROM task_partitions"
            )
            if row is not None and row[0] >= 1 and row[1] >= 1:
                victim = worker
                worker.send_signal(signal.SIGKILL)
                break
        time.sleep(0.02)
    assert victim is not None, f"the run's job was not caught mid-run: {distributed.logs()}"
    victim.wait(timeout=10)
    killed = distributed.one("SELECT id FROM runs WHERE status = 'Running'")
    assert killed is not None
    distributed.workers.append(
        start_sql_worker(distributed.root, distributed.data, distributed.base / "w2.log")
    )
    distributed.wait_for_the_end()
    runs = distributed.runs()
    by_id = {run["id"]: run for run in runs}
    assert by_id[killed[0]]["status"] == "Interrupted", by_id[killed[0]]
    last = _last_run(runs)
    assert last["id"] > killed[0] and last["status"] == "Completed", last
    # the two runs read the accounts once between them: the partitions the killed run left
    # went on under it (the other worker, while it was still Running) or under the new run,
    # which read the unfinished plan
    assert sum(run["tasks"][0]["counts"]["read"] for run in runs) == counts["read"]
    assert dump_outputs(distributed.data) == rows
    logs = distributed.logs()
    assert "its worker stopped its heartbeat; put back in the queue" in "".join(logs)


def test_a_cancelled_run_stops_every_partition_and_the_next_run_finishes_the_plan(
    distributed: SpreadWorkspace, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    # cancel once a partition is done and a partition job has committed pages of another
    deadline = time.monotonic() + 60
    cancelled: int | None = None
    while cancelled is None and time.monotonic() < deadline:
        logs = distributed.logs()
        jobs = [
            log for log in logs if f"running {ACCOUNTS}" not in log and RAN_PARTITION.findall(log)
        ]
        row = distributed.one(
            "SELECT count(*) FILTER (WHERE done), "
            "count(*) FILTER (WHERE NOT done AND resume IS NOT NULL) FROM task_partitions"
        )
        if jobs and row is not None and row[0] >= 1 and row[1] >= 1:
            cancelled = int(RAN_PARTITION.findall(jobs[0])[0][1])
            # as integrator cancel asks it (the command's start-up would outlast the run)
            outcome = request_cancel(distributed.store, cancelled)
            assert outcome.state == "requested", outcome
        time.sleep(0.02)
    assert cancelled is not None, f"no partition job was caught mid-run: {distributed.logs()}"
    distributed.wait_for_the_end()
    (run,) = distributed.runs()
    assert run["status"] == "Cancelled", run
    left = distributed.one("SELECT count(*) FROM task_partitions WHERE NOT done")
    assert left is not None and left[0] >= 1  # the plan waits for the next run
    assert re.search(r"partition \d+ (stopped|not run): run \d+ is", "".join(distributed.logs()))

    queued = harness.command(
        "run", ACCOUNTS, "--queue", "--workspace", str(distributed.root), "--json"
    )
    assert queued.returncode == 0, queued.stderr
    distributed.wait_for_the_end()
    first, second = distributed.runs()
    assert second["status"] == "Completed", second
    read = first["tasks"][0]["counts"]["read"] + second["tasks"][0]["counts"]["read"]
    assert read == counts["read"]
    assert dump_outputs(distributed.data) == rows


def test_many_changes_are_read_in_ranges_spread_over_the_workers(
    distributed: SpreadWorkspace, seeded: Path, tmp_path: Path
) -> None:
    data = harness.clone(seeded, tmp_path / "single-sandbox")
    single = _single_process(data, tmp_path / "single-ws", touched=True)
    distributed.start()
    distributed.wait_for_the_end()
    _touch_every_account(distributed.data)
    queued = harness.command("run", ACCOUNTS, "--queue", "--workspace", str(distributed.root))
    assert queued.returncode == 0, queued.stderr
    distributed.wait_for_the_end()
    run = _last_run(distributed.runs())
    assert run["mode"] == "incremental", run
    assert run["status"] == single[1].status.value, run
    assert run["tasks"][0]["counts"] == single[1].tasks[0].counts.as_dict()
    assert dump_outputs(distributed.data) == dump_outputs(data)
    # the changes since the load were cut into ranges, run by the workers' jobs
    ran = [
        (int(m[2]), int(m[3]), int(m[4]))
        for log in distributed.logs()
        for m in RAN_PARTITION.finditer(log)
        if int(m[2]) == run["id"]
    ]
    assert {number for _run, number, _of in ran} == set(range(1, 7)), ran
    assert distributed.one("SELECT count(*) FROM task_partitions")[0] == 0
