"""Distributed workspaces whose source is SQL cut into partitions: ``kind: sql``
connections straight at a sandbox's store files, ``partition_records`` set, and
``integrator worker`` processes that open those connections as the sandbox's SQL connector
(as tests/engine/test_partitions.py does in one process)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from integrator.config.workspace import init_workspace
from integrator.engine.history import HistoryStore
from tests.distributed.conftest import make_distributed
from tests.resilience import harness

ACCOUNTS = harness.ACCOUNTS
#: records per partition
PARTITION = 100
#: records per page read and committed: ten pages per partition
BATCH = 10
#: how ``integrator worker`` logs a partition it runs (job, run, partition, of how many)
RAN_PARTITION = re.compile(
    r"job (\d+): run (\d+), task .+, partition (\d+) of (\d+)$", re.MULTILINE
)

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


def start_sql_worker(root: Path, data: Path, log: Path) -> subprocess.Popen[bytes]:
    """``integrator worker --workspace ROOT`` as :data:`_WORKER` runs it, on the store files
    in ``data``, its output going to ``log``."""
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


def sql_workspace(root: Path, data: Path) -> Path:
    """A workspace at ``root`` (as ``integrator init`` writes it) whose connections are
    ``kind: sql`` at the sandbox store files in ``data``."""
    init_workspace(root, "http://127.0.0.1:9")
    (root / "connections.yaml").write_text(_connections(data), encoding="utf-8")
    return root


def with_partitions(root: Path) -> None:
    """Cut the full reads of the workspace at ``root`` into ranges of ``PARTITION``."""
    settings = root / "integrator.yaml"
    settings.write_text(settings.read_text() + f"partition_records: {PARTITION}\n")


class SpreadWorkspace:
    """A distributed workspace on a copy of the seeded data, with two workers."""

    def __init__(self, base: Path, seeded: Path, history_url: str) -> None:
        self.base = base
        self.data = harness.clone(seeded, base / "sandbox")
        self.root = sql_workspace(base / "ws", self.data)
        make_distributed(self.root, history_url)
        with_partitions(self.root)
        self.history = sa.create_engine(history_url.replace("%3D", "="))
        self.store = HistoryStore.open(history_url)
        self.workers: list[subprocess.Popen[bytes]] = []

    def logs(self) -> list[str]:
        """Each worker's output so far, in start order."""
        return [
            path.read_text() if path.exists() else ""
            for path in (self.base / f"w{n}.log" for n in range(len(self.workers)))
        ]

    def start(self) -> None:
        """Start two workers and enqueue a run of the accounts."""
        for n in range(2):
            self.workers.append(start_sql_worker(self.root, self.data, self.base / f"w{n}.log"))
        queued = harness.command(
            "run", ACCOUNTS, "--queue", "--workspace", str(self.root), "--json"
        )
        assert queued.returncode == 0, queued.stderr
        assert [e["project"] for e in json.loads(queued.stdout)["enqueued"]] == [ACCOUNTS]

    def one(self, query: str, **params: Any) -> Any:
        """The first row of ``query`` on the history database."""
        with self.history.connect() as conn:
            return conn.execute(sa.text(query), params).first()

    def wait_for_the_end(self, seconds: float = 120) -> None:
        """Wait until no job waits or runs and no run is Running."""
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
        """Stop the workers still alive (SIGTERM) and close the history."""
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
        """``integrator history --json``: the runs, oldest first."""
        return harness.history(self.root)
