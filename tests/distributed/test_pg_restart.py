"""Issue 15, part 4: a PostgreSQL restart during a run is survived. A worker on a history in
a PostgreSQL cluster of the test's own runs the three P2C projects from the queue; the cluster
is stopped once a run has committed records, and started again a few seconds later (and not
before the worker's job has said it lost the history: a run in the middle of a slow F&O write
touches the history only when its batch ends). Every project's last run completes, and the CDS
and F&O data are exactly a single-process run's."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.distributed.cluster import OwnCluster, own_cluster
from tests.distributed.conftest import make_distributed, open_jobs, start_worker
from tests.resilience import harness
from tests.resilience.harness import Dataset

DATASET = Dataset("restart", accounts=60, contacts=3000, random_seed=16)
BATCH = 500
#: how long the database stays down at least (longer than the worker's reconnect pause)
DOWN_SECONDS = 4.0
#: how long it stays down at most, waiting for the worker's job to notice
NOTICED_WITHIN_SECONDS = 60.0


@pytest.fixture
def cluster() -> Iterator[OwnCluster]:
    with own_cluster() as running:
        yield running


def _committed(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM runs r JOIN task_runs t ON t.run_id = r.id"
                        " WHERE r.status = 'Running' AND t.read > 0 AND r.project LIKE 'Contacts%'"
                    )
                ).scalar_one()
            )
    except sa.exc.SQLAlchemyError:  # not created yet
        return False


def _noticed(log: Path) -> bool:
    """The worker noticed the outage: a job's run lost the history, or (the run ended just
    before) the job could not enqueue the rest of its chain yet."""
    said = log.read_text()
    return "the queue's database is not back yet" in said or any(
        " WARNING job " in line and "cannot be reached" in line for line in said.splitlines()
    )


def _project_whose_run_lost_the_history(said: str) -> str | None:
    running = dict(re.findall(r"INFO job (\d+): running (.+)$", said, re.MULTILINE))
    lost = re.search(r"WARNING job (\d+): the history database at .* cannot be reached", said)
    return running[lost.group(1)] if lost else None


def test_a_postgresql_restart_mid_run_loses_nothing(tmp_path: Path, cluster: OwnCluster) -> None:
    seeded = harness.prepare(DATASET, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "ref-sandbox"), DATASET) as ref:
        harness.run(harness.workspace(tmp_path / "ref-ws", ref))
        expected = harness.outputs(ref)

    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), DATASET) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        make_distributed(ws, cluster.url)
        handle.set_faults(latency_ms=100, services=("finops",))
        history = sa.create_engine(cluster.url, pool_pre_ping=True)
        log = tmp_path / "worker.log"
        worker = start_worker(ws, log, BATCH)
        try:
            queued = harness.command("run", "--queue", "--workspace", str(ws), "--json")
            assert queued.returncode == 0, queued.stderr
            assert json.loads(queued.stdout)["enqueued"]

            deadline = time.monotonic() + 60
            while not _committed(history) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _committed(history), "no run committed records in 60 s"
            history.dispose()
            cluster.stop()
            time.sleep(DOWN_SECONDS)
            deadline = time.monotonic() + NOTICED_WITHIN_SECONDS
            while not _noticed(log) and time.monotonic() < deadline:
                time.sleep(0.1)
            cluster.start()
            assert _noticed(log), "no job noticed the outage:\n" + log.read_text()

            deadline = time.monotonic() + 120
            while open_jobs(history) and time.monotonic() < deadline:
                time.sleep(0.3)
            assert open_jobs(history) == 0, "the queue did not empty in 120 s:\n" + log.read_text()
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            history.dispose()
        listed = harness.history(ws)
        result = harness.outputs(handle)

    said = log.read_text()
    assert worker.returncode == 0, said
    # when the restart hit a run, its job lost the history and the project ran again from its
    # commits. The hit run is Interrupted, or Completed when the server took its last commit
    # before closing the connection (the client cannot tell then). When it hit the moment
    # after a run, the job enqueued the rest of its chain once the database was back
    hit = _project_whose_run_lost_the_history(said)
    if hit is not None:
        runs_of_hit = [run for run in listed if run["project"] == hit]
        assert len(runs_of_hit) >= 2, listed
        assert runs_of_hit[0]["status"] in ("Interrupted", "Completed"), listed
    for interrupted in (run for run in listed if run["status"] == "Interrupted"):
        assert any(
            run["project"] == interrupted["project"]
            and run["id"] > interrupted["id"]
            and run["status"] == "Completed"
            for run in listed
        ), listed
    # the worker was alive all along: its heartbeat resumed, and no job of its was taken back
    assert "its worker stopped its heartbeat" not in said, said
    assert all(run["status"] != "Running" for run in listed), listed
    for project in harness.PROJECTS:
        last = [run for run in listed if run["project"] == project][-1]
        assert last["status"] == "Completed", (last, log.read_text())
    assert harness.duplicates(result) == {}
    assert harness.differences(result, expected) == []
    assert result == expected
