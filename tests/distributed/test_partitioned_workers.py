"""A run's partitions spread over the queue's workers: a SQL source cut into several key
ranges (SQL connections straight at the sandbox's store files, as
tests/engine/test_partitions.py reads them), two ``integrator worker`` processes on a
PostgreSQL history. The run lands exactly
the rows and counts of a single-process run, both workers run partitions, and a worker
SIGKILLed mid-partition loses nothing: its claim goes with its connection, and the partition
resumes from its last committed page. Plus the claims themselves."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.distributed.claims import claim_keys, try_claim
from integrator.distributed.conninfo import libpq_conninfo
from integrator.engine.connections import ConnectorPool
from integrator.engine.control import request_cancel
from integrator.engine.history import HistoryStore, RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.sqlaccess import sql_connectors
from tests.connectors.databases import POSTGRES_URL, postgres_missing
from tests.distributed.conftest import make_distributed
from tests.golden.dataset import dump_outputs
from tests.resilience import harness
from tests.resilience.harness import Dataset

pytestmark = pytest.mark.postgres

ACCOUNTS = harness.ACCOUNTS
DATASET = Dataset("spread", accounts=600, contacts=0, random_seed=31)
#: records per partition: six partitions of the accounts
PARTITION = 100
#: records per page read and committed: ten pages per partition
BATCH = 10
#: ``integrator worker`` and the driver log a partition they run so
_RAN = re.compile(r"job (\d+): run (\d+), task .+, partition (\d+) of (\d+)$", re.MULTILINE)


# -- the claims ----------------------------------------------------------------------------


@pytest.fixture
def conninfo() -> str:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    return libpq_conninfo(POSTGRES_URL)


def test_a_claimed_partition_is_refused_to_another_session_until_released(
    conninfo: str,
) -> None:
    first = try_claim(conninfo, "claims-project", "task", 0)
    assert first is not None
    try:
        assert try_claim(conninfo, "claims-project", "task", 0) is None
        other = try_claim(conninfo, "claims-project", "task", 1)  # another partition: free
        assert other is not None
        other.release()
    finally:
        first.release()
    again = try_claim(conninfo, "claims-project", "task", 0)
    assert again is not None
    again.release()


def test_a_claim_is_freed_when_its_holders_connection_ends(conninfo: str) -> None:
    # a worker killed mid-partition: its session ends without unlocking
    holder = psycopg.connect(conninfo, autocommit=True)
    keys = claim_keys("claims-project", "dies", 3)
    assert holder.execute("SELECT pg_try_advisory_lock(%s, %s)", keys).fetchone() == (True,)
    assert try_claim(conninfo, "claims-project", "dies", 3) is None
    holder.close()
    claim = try_claim(conninfo, "claims-project", "dies", 3)
    assert claim is not None
    claim.release()


def test_claim_keys_are_stable_and_tell_partitions_apart() -> None:
    keys = {claim_keys("p", "t", number) for number in range(1000)}
    assert len(keys) == 1000
    assert claim_keys("p", "t", 7) == claim_keys("p", "t", 7)
    assert all(-(2**31) <= key < 2**31 for pair in keys for key in pair)


# -- two workers ---------------------------------------------------------------------------

#: ``integrator worker`` in pages of ``BATCH`` records, its ``kind: sql`` connections at the
#: sandbox's store files opened as tests/engine/test_partitions.py opens them (the stores'
#: keys compare as Dynamics does: only the sandbox's SQL connector knows, so can cut them)
_WORKER = (
    "import sys\n"
    "from pathlib import Path\n"
    "import integrator.engine.read as read\n"
    "import integrator.engine.connections as connections\n"
    "from integrator.sandbox.sqlaccess import sql_connectors\n"
    "assert hasattr(read, 'SELECTED_PER_PAGE'), 'the batch size moved; update this test'\n"
    "assert hasattr(connections, 'open_connection'), 'connectors open elsewhere now'\n"
    "read.SELECTED_PER_PAGE = int(sys.argv.pop(1))\n"
    "data = Path(sys.argv.pop(1))\n"
    "def sandbox_sql(connection, root=None):\n"
    "    service = str(connection.url).rpartition('/')[2].removesuffix('.db')\n"
    "    return sql_connectors(data, page_size=read.SELECTED_PER_PAGE)[service]\n"
    "connections.open_connection = sandbox_sql\n"
    "from integrator.cli.main import main\n"
    "main()\n"
)


def _start_worker(root: Path, data: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(BATCH),
                str(data),
                "worker",
                "--workspace",
                str(root),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        )


def _connections(data: Path) -> str:
    """``kind: sql`` connections straight at the sandbox's store files."""
    relations = [
        f"{{entity: {entity}, name: {name}, column: {name}, target: {target}s, "
        f"target_key: {target}id, type_column: {name}type, type_value: {target}}}"
        for entity, name in (("contacts", "parentcustomerid"), ("quotes", "customerid"))
        for target in ("account", "contact")
    ]
    return (
        "\n".join(
            [
                "connection_sets:",
                "  default:",
                "    sales:",
                "      kind: sql",
                f"      url: sqlite:///{data / 'sales.db'}",
                "      sql:",
                "        watermarks: {accounts: versionnumber, contacts: versionnumber}",
                "        case_insensitive_filters: true",
                "        relations:",
                *(f"          - {relation}" for relation in relations),
                "    cds:",
                "      kind: sql",
                f"      url: sqlite:///{data / 'cds.db'}",
                "    finops:",
                "      kind: sql",
                f"      url: sqlite:///{data / 'finops.db'}",
            ]
        )
        + "\n"
    )


def _workspace(root: Path, data: Path) -> Path:
    init_workspace(root, "http://127.0.0.1:9")
    (root / "connections.yaml").write_text(_connections(data), encoding="utf-8")
    return root


def _with_partitions(root: Path) -> None:
    settings = root / "integrator.yaml"
    settings.write_text(settings.read_text() + f"partition_records: {PARTITION}\n")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.prepare(DATASET, tmp_path_factory.mktemp("seeded"))


@pytest.fixture(scope="module")
def reference(
    seeded: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], dict[str, int]]:
    """The rows and counts of one process running the accounts (SQLite history)."""
    base = tmp_path_factory.mktemp("reference")
    data = harness.clone(seeded, base / "sandbox")
    root = _workspace(base / "ws", data)
    _with_partitions(root)
    workspace = load_workspace(root)
    connectors = sql_connectors(data, page_size=BATCH)
    pool = ConnectorPool(workspace, factory=lambda system, _c, _w: connectors[system])
    engine = Engine(workspace, connectors=pool)
    try:
        (summary,) = engine.run([ACCOUNTS])
    finally:
        engine.close()
    assert summary.status in (RunStatus.COMPLETED, RunStatus.WARNING), summary.message
    return dump_outputs(data), summary.tasks[0].counts.as_dict()


class _Distributed:
    """A distributed workspace on a copy of the seeded data, with two workers."""

    def __init__(self, base: Path, seeded: Path, history_url: str) -> None:
        self.base = base
        self.data = harness.clone(seeded, base / "sandbox")
        self.root = _workspace(base / "ws", self.data)
        make_distributed(self.root, history_url)
        _with_partitions(self.root)
        self.history = sa.create_engine(history_url.replace("%3D", "="))
        self.store = HistoryStore.open(history_url)
        self.workers: list[subprocess.Popen[bytes]] = []

    def logs(self) -> list[str]:
        return [
            path.read_text() if path.exists() else ""
            for path in (self.base / f"w{n}.log" for n in range(len(self.workers)))
        ]

    def start(self) -> None:
        for n in range(2):
            self.workers.append(_start_worker(self.root, self.data, self.base / f"w{n}.log"))
        queued = harness.command(
            "run", ACCOUNTS, "--queue", "--workspace", str(self.root), "--json"
        )
        assert queued.returncode == 0, queued.stderr
        assert [e["project"] for e in json.loads(queued.stdout)["enqueued"]] == [ACCOUNTS]

    def one(self, query: str, **params: Any) -> Any:
        with self.history.connect() as conn:
            return conn.execute(sa.text(query), params).first()

    def wait_for_the_end(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            open_jobs = self.one(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            )[0]
            running = self.one("SELECT count(*) FROM runs WHERE status = 'Running'")
            if open_jobs == 0 and running is not None and running[0] == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"the run and its jobs did not end in {seconds} s: {self.logs()}")

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            if worker.poll() is None:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        self.history.dispose()
        self.store.close()

    def runs(self) -> list[dict[str, Any]]:
        return harness.history(self.root)


@pytest.fixture
def distributed(tmp_path: Path, seeded: Path, pg_history: str) -> Iterator[_Distributed]:
    setup = _Distributed(tmp_path, seeded, pg_history)
    try:
        yield setup
    finally:
        setup.close()


def _last_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return [run for run in runs if run["project"] == ACCOUNTS][-1]


def test_two_workers_share_the_partitions_and_land_a_single_process_runs_rows(
    distributed: _Distributed, reference: tuple[dict[str, Any], dict[str, int]]
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
    ran = [{int(m[2]) for m in _RAN.findall(log)} for log in logs]
    assert all(ran), logs  # both workers ran partitions
    assert set().union(*ran) == set(range(1, 7)), ran
    assert sum(len(r) for r in ran) == 6, ran  # each partition ran once
    # the partition plan is finished and gone, as after a single-process run
    assert distributed.one("SELECT count(*) FROM task_partitions")[0] == 0


def test_a_worker_killed_mid_partition_loses_nothing(
    distributed: _Distributed, reference: tuple[dict[str, Any], dict[str, int]]
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
            started = _RAN.findall(log)
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
    assert any(int(m[2]) == killed + 1 for m in _RAN.findall(survivor)), survivor


def test_a_killed_run_job_is_taken_over_and_its_plan_spread_again(
    distributed: _Distributed, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    # the worker running the run's own job, once a partition is done and it runs another
    deadline = time.monotonic() + 60
    victim: subprocess.Popen[bytes] | None = None
    while victim is None and time.monotonic() < deadline:
        for worker, log in zip(distributed.workers, distributed.logs(), strict=True):
            if f"running {ACCOUNTS}" not in log or not _RAN.findall(log):
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
        _start_worker(distributed.root, distributed.data, distributed.base / "w2.log")
    )
    distributed.wait_for_the_end()
    runs = distributed.runs()
    by_id = {run["id"]: run for run in runs}
    assert by_id[killed[0]]["status"] == "Interrupted", by_id[killed[0]]
    last = _last_run(runs)
    assert last["id"] > killed[0] and last["status"] == "Completed", last
    # the two runs read the accounts once between them: the new one only what was not done
    assert sum(run["tasks"][0]["counts"]["read"] for run in runs) == counts["read"]
    assert dump_outputs(distributed.data) == rows
    logs = distributed.logs()
    assert "its worker stopped its heartbeat; put back in the queue" in "".join(logs)
    new_run = re.compile(rf"job \d+: run {last['id']}, task .+, partition \d+ of \d+$", re.M)
    assert any(new_run.search(log) for log in logs), logs


def test_a_cancelled_run_stops_every_partition_and_the_next_run_finishes_the_plan(
    distributed: _Distributed, reference: tuple[dict[str, Any], dict[str, int]]
) -> None:
    rows, counts = reference
    distributed.start()
    # cancel once a partition is done and a partition job has committed pages of another
    deadline = time.monotonic() + 60
    cancelled: int | None = None
    while cancelled is None and time.monotonic() < deadline:
        logs = distributed.logs()
        jobs = [log for log in logs if f"running {ACCOUNTS}" not in log and _RAN.findall(log)]
        row = distributed.one(
            "SELECT count(*) FILTER (WHERE done), "
            "count(*) FILTER (WHERE NOT done AND resume IS NOT NULL) FROM task_partitions"
        )
        if jobs and row is not None and row[0] >= 1 and row[1] >= 1:
            cancelled = int(_RAN.findall(jobs[0])[0][1])
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
