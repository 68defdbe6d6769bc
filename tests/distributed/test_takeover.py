"""The "Done when" of issue 15 at project granularity: two ``integrator worker`` processes
on a PostgreSQL history run the three P2C projects from the queue; the one running a project
is SIGKILLed once that run has committed records; a fresh worker starts; every run ends and
the CDS and F&O data are exactly a single-process run's: nothing duplicated, nothing missing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from tests.distributed.conftest import make_distributed, start_worker
from tests.resilience import harness
from tests.resilience.harness import Dataset

DATASET = Dataset("workers", accounts=60, contacts=3000, random_seed=15)
#: records per committed batch of the workers (the contacts run has about 2900: six batches)
BATCH = 500


def _committed_run(engine: sa.Engine, project: str) -> tuple[int, str, str] | None:
    """A Running run of ``project`` with records committed: (id, project, owner
    ``host:pid``)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT r.id, r.project, r.owner FROM runs r JOIN task_runs t ON t.run_id = r.id"
                " WHERE r.status = 'Running' AND t.read > 0 AND r.project = :project"
                " ORDER BY r.id LIMIT 1"
            ),
            {"project": project},
        ).first()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]))


def _open_jobs(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
            ).scalar_one()
        )


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
        # slow F&O writes: a contacts run commits a batch, then takes a while for the next
        handle.set_faults(latency_ms=100, services=("finops",))
        history = sa.create_engine(pg_history.replace("%3D", "="))
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for n in range(2):
                workers.append(start_worker(ws, tmp_path / f"w{n}.log", BATCH))
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
            assert victim is not None, "no run of Contacts to Contact committed records in 60 s"
            assert found is not None
            killed_run = found[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            workers.append(harness.start("worker", "--workspace", str(ws), log=tmp_path / "w2.log"))

            deadline = time.monotonic() + 90
            while _open_jobs(history) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _open_jobs(history) == 0, "the queue did not empty in 90 s"
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

    logs = "".join((tmp_path / f"w{n}.log").read_text() for n in range(3))
    assert "its worker stopped its heartbeat; put back in the queue" in logs
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
