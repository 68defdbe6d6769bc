"""Issue 15, part 4: a worker that cannot reach a system does not take that system's
partitions. Two workers on a PostgreSQL history; one of them reaches no HTTP service (its
requests go through a proxy that is not there, as a machine outside the services' network
would). The Accounts run, its Sales read cut into ``createdon`` ranges, is started on the
worker that reaches the services; the other is told of every range by a job, takes none of
them, and says why; the run ends with an uncut single-process run's rows."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from tests.distributed.conftest import make_distributed, open_jobs
from tests.distributed.test_takeover import RAN_PARTITION
from tests.resilience import harness
from tests.resilience.harness import Dataset

DATASET = Dataset("unreachable", accounts=800, contacts=0, random_seed=17)
PARTITION = 200  # four ranges
#: pages of 25 records committed one by one, each F&O write slowed: the run lasts long enough
#: for the second worker to start and be offered ranges
BATCH = 25

_WORKER = (
    "import sys\n"
    "import integrator.engine.read as read\n"
    "read.SELECTED_PER_PAGE = int(sys.argv.pop(1))\n"
    "from integrator.cli.main import main\n"
    "main()\n"
)


def _worker(ws: Path, log: Path, *, proxy: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    if proxy is not None:  # every HTTP request of this worker goes nowhere
        env.update(HTTP_PROXY=proxy, HTTPS_PROXY=proxy, ALL_PROXY=proxy, NO_PROXY="")
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(BATCH), "worker", "--workspace", str(ws)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _running_owner(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT owner FROM runs WHERE status = 'Running' ORDER BY id LIMIT 1")
        ).first()
    return None if row is None else str(row[0])


def test_a_worker_that_cannot_reach_the_services_takes_none_of_their_ranges(
    tmp_path: Path, pg_history: str
) -> None:
    seeded = harness.prepare(DATASET, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "ref-sandbox"), DATASET) as ref:
        harness.run(harness.workspace(tmp_path / "ref-ws", ref), harness.ACCOUNTS)
        expected = harness.outputs(ref)

    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), DATASET) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        make_distributed(ws, pg_history)
        with (ws / "integrator.yaml").open("a") as settings:
            settings.write(f"partition_records: {PARTITION}\n")
        handle.set_faults(latency_ms=150, services=("finops",))
        history = sa.create_engine(pg_history.replace("%3D", "="))
        good_log, cut_off_log = tmp_path / "good.log", tmp_path / "cut-off.log"
        good = _worker(ws, good_log)
        workers = [good]
        try:
            queued = harness.command(
                "run", "--queue", "--workspace", str(ws), "--json", harness.ACCOUNTS
            )
            assert queued.returncode == 0, queued.stderr
            assert json.loads(queued.stdout)["enqueued"]
            deadline = time.monotonic() + 60
            while _running_owner(history) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            owner = _running_owner(history)
            assert owner is not None and owner.endswith(f":{good.pid}"), owner
            workers.append(_worker(ws, cut_off_log, proxy="http://127.0.0.1:9"))

            deadline = time.monotonic() + 120
            while open_jobs(history) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert open_jobs(history) == 0, "the queue did not empty in 120 s"
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            history.dispose()
        listed = harness.history(ws)
        result = harness.outputs(handle)

    cut_off = cut_off_log.read_text()
    assert re.search(r"partition \d not taken by this worker: sales cannot be reached", cut_off), (
        cut_off
    )
    assert not RAN_PARTITION.search(cut_off), cut_off  # it claimed no range
    assert len(RAN_PARTITION.findall(good_log.read_text())) == 4
    assert [run["status"] for run in listed] == ["Completed"]
    assert result == expected
