"""The "Done when" of issue 15: two ``integrator worker`` processes on a PostgreSQL history
run the three P2C projects from the queue, each project's Sales read cut into ``createdon``
ranges spread over both workers (``partition_records``); the worker running the Contacts run's
own job is SIGKILLed once a range of it has committed records; a fresh worker starts; every
run ends and the CDS and F&O data are exactly a single-process, uncut run's: nothing
duplicated, nothing missing.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from tests.distributed.conftest import make_distributed, open_jobs, start_worker
from tests.resilience import harness
from tests.resilience.harness import Dataset

DATASET = Dataset("workers", accounts=1200, contacts=3000, random_seed=15)
#: records per committed batch of the workers: about ten per range
BATCH = 100
#: Sales rows per range: two of accounts, three of contacts per contact project
PARTITION = 1000
#: how a worker logs a range it runs (job, run, task, range, of how many)
RAN_PARTITION = re.compile(r"job (\d+): run (\d+), task (.+), partition (\d+) of (\d+)$", re.M)


def _committed_run(engine: sa.Engine, project: str) -> tuple[int, str, str] | None:
    """A Running run of ``project`` with a range of its plan part-read (committed, not done):
    (id, project, owner ``host:pid``)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT r.id, r.project, r.owner FROM runs r"
                " JOIN task_partitions p ON p.project = r.project"
                " WHERE r.status = 'Running' AND r.project = :project"
                " AND p.resume IS NOT NULL AND NOT p.done ORDER BY r.id LIMIT 1"
            ),
            {"project": project},
        ).first()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]))


def test_a_killed_worker_loses_nothing(tmp_path: Path, pg_history: str) -> None:
    seeded = harness.prepare(DATASET, tmp_path)
    # the reference: one process, SQLite history, as without workers
    with harness.served(harness.clone(seeded, tmp_path / "ref-sandbox"), DATASET) as ref:
        document = harness.run(harness.workspace(tmp_path / "ref-ws", ref))
        expected = harness.outputs(ref)
    read = {r["project"]: sum(t["counts"]["read"] for t in r["tasks"]) for r in document["runs"]}
    assert read[harness.CONTACTS] > 2 * BATCH, read  # the first batch commits mid-run

    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), DATASET) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        make_distributed(ws, pg_history)
        with (ws / "integrator.yaml").open("a") as settings:
            settings.write(f"partition_records: {PARTITION}\n")
        # slow F&O writes: a contacts run commits a batch, then takes a while for the next
        handle.set_faults(latency_ms=100, services=("finops",))
        history = sa.create_engine(pg_history.replace("%3D", "="))
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for n in range(2):
                workers.append(
                    start_worker(ws, tmp_path / f"w{n}.log", BATCH, "--concurrency", "2")
                )
            queued = harness.command("run", "--queue", "--workspace", str(ws), "--json")
            assert queued.returncode == 0, queued.stderr
            enqueued = json.loads(queued.stdout)["enqueued"]
            assert [e["project"] for e in enqueued] == [harness.ACCOUNTS]
            assert enqueued[0]["then"] == [harness.CONTACTS, harness.CUSTOMERS]

            # kill the worker running Contacts to Contact once it has committed a batch
            deadline = time.monotonic() + 60
            victim = None
            while victim is None and time.monotonic() < deadline:
                found = _committed_run(history, harness.CONTACTS)
                if found is not None and found[1] == harness.CONTACTS:
                    pid = int(found[2].rpartition(":")[2])
                    victim = next(w for w in workers if w.pid == pid)
                time.sleep(0.05)
            assert victim is not None, "no range of Contacts to Contact was part-read in 60 s"
            assert found is not None
            killed_run = found[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            workers.append(harness.start("worker", "--workspace", str(ws), log=tmp_path / "w2.log"))

            deadline = time.monotonic() + 90
            while open_jobs(history) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert open_jobs(history) == 0, "the queue did not empty in 90 s"
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                if worker.poll() is None:
                    try:
                        worker.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        worker.kill()
            history.dispose()
        listed = harness.history(ws)
        result = harness.outputs(handle)

    each = [(tmp_path / f"w{n}.log").read_text() for n in range(3)]
    logs = "".join(each)
    assert "its worker stopped its heartbeat; put back in the queue" in logs
    # the ranges were spread: every project's task ran in ranges, on more than one worker
    ranged = RAN_PARTITION.findall(logs)
    tasks = {task for _job, _run, task, _n, _of in ranged}
    assert tasks == {"Accounts", "Contacts", "ContactToCustomer"}, ranged
    assert sum(1 for log in each if RAN_PARTITION.search(log)) >= 2, each
    with sa.create_engine(pg_history.replace("%3D", "=")).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM task_partitions")).scalar_one() == 0
    by_id = {run["id"]: run for run in listed}
    assert by_id[killed_run]["status"] == "Interrupted", by_id[killed_run]
    assert all(run["status"] != "Running" for run in listed)
    # each project's last run completed, the killed project's after its interrupted one
    for project in harness.PROJECTS:
        last = [run for run in listed if run["project"] == project][-1]
        assert last["status"] == "Completed", last
    assert harness.duplicates(result) == {}
    assert harness.differences(result, expected) == []
    assert result == expected
    # the killed worker's run was taken over: a later run of its project completed
    assert any(
        run["project"] == found[1] and run["id"] > killed_run and run["status"] == "Completed"
        for run in listed
    )
    # the surviving workers stop cleanly on SIGTERM
    assert all(w.returncode == 0 for w in workers if w is not victim), [
        w.returncode for w in workers
    ]
