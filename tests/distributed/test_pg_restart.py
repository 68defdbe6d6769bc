"""Issue 15, part 4: a PostgreSQL restart during a run is survived. A worker on a history in
a PostgreSQL cluster of the test's own runs the three P2C projects from the queue; the cluster
is stopped once a run has committed records, and started again a few seconds later. Every
project's last run completes, and the CDS and F&O data are exactly a single-process run's."""

from __future__ import annotations

import json
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
#: how long the database stays down (longer than the worker's reconnect pause)
DOWN_SECONDS = 4.0


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
                        " WHERE r.status = 'Running' AND t.read > 0"
                    )
                ).scalar_one()
            )
    except sa.exc.SQLAlchemyError:  # not created yet
        return False


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
            cluster.start()

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
    # the restart hit a run: it lost the history, and another run went on from its commits
    assert "the history database at" in said and "cannot be reached" in said, said
    interrupted = [run for run in listed if run["status"] == "Interrupted"]
    assert interrupted, listed
    assert any(
        run["project"] == interrupted[0]["project"]
        and run["id"] > interrupted[0]["id"]
        and run["status"] == "Completed"
        for run in listed
    ), listed
    assert all(run["status"] != "Running" for run in listed), listed
    for project in harness.PROJECTS:
        last = [run for run in listed if run["project"] == project][-1]
        assert last["status"] == "Completed", (last, log.read_text())
    assert harness.duplicates(result) == {}
    assert harness.differences(result, expected) == []
    assert result == expected
