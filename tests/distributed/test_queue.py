"""Distributed mode as a user sees it: the configuration it needs, ``integrator run
--queue``, the queueing lock, cancelling a queued job, one run per project at a time across
two workers, and a cancel reaching a run on another worker."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from integrator.config.workspace import init_workspace, load_workspace
from integrator.distributed import JobQueue
from integrator.errors import ConfigError
from integrator.sandbox.testing import SandboxHandle
from tests.distributed.conftest import make_distributed, start_worker
from tests.golden.dataset import load_sales
from tests.resilience import harness
from tests.resilience.harness import Dataset

ACCOUNTS = harness.ACCOUNTS


def test_distributed_mode_without_postgresql_names_the_file_line_and_field(
    tmp_path: Path,
) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")
    (root / "integrator.yaml").write_text(
        "version: 1\nhistory:\n  retention_days: 10\nworkers:\n  queue: true\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_workspace(root)
    assert [str(p) for p in raised.value.problems] == [
        "integrator.yaml:4: workers: distributed mode (workers: queue: true) keeps its job "
        "queue in the history database, which must be PostgreSQL: set history: database_url: "
        "postgresql+psycopg://user@host/db, or remove workers:"
    ]
    done = harness.command("worker", "--workspace", str(root))
    assert done.returncode == 2
    assert "integrator.yaml:4: workers: distributed mode" in done.stderr
    queued = harness.command("run", "--queue", "--workspace", str(root))
    assert queued.returncode == 2, queued.stderr


def test_without_workers_run_queue_is_refused(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")
    done = harness.command("run", "--queue", "--workspace", str(root))
    assert done.returncode == 2
    assert "--queue needs distributed mode" in done.stderr


@pytest.fixture
def distributed(tmp_path: Path, sandbox: SandboxHandle, pg_history: str) -> Iterator[Path]:
    """A distributed workspace on the golden Sales data, its history in PostgreSQL."""
    load_sales(sandbox.data_dir)
    root = init_workspace(tmp_path / "ws", sandbox.url)
    make_distributed(root, pg_history)
    yield root


def _jobs(history_url: str) -> list[tuple[int, str, str]]:
    engine = sa.create_engine(history_url.replace("%3D", "="))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, status, args->'chain'->>0 FROM procrastinate_jobs ORDER BY id")
            )
            return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]
    finally:
        engine.dispose()


def _runs(history_url: str) -> list[dict[str, str]]:
    """Every run in the history, oldest first (read directly: quicker than the CLI)."""
    engine = sa.create_engine(history_url.replace("%3D", "="))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, status, started_at, finished_at FROM runs ORDER BY id")
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def test_a_project_waits_once_and_a_queued_job_can_be_cancelled(
    distributed: Path, pg_history: str
) -> None:
    ws = str(distributed)
    first = harness.command("run", "--queue", ACCOUNTS, "--workspace", ws)
    assert first.returncode == 0, first.stderr
    assert f"{ACCOUNTS}: job 1" in first.stdout
    again = harness.command("run", "--queue", ACCOUNTS, "--workspace", ws, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "enqueued": [{"project": ACCOUNTS, "job": 1, "then": [], "already_waiting": True}]
    }
    said = harness.command("run", "--queue", ACCOUNTS, "--workspace", ws)
    assert "a run of it is already waiting in the queue (job 1); not enqueued again" in said.stdout

    cancelled = harness.command("cancel", "1", "--job", "--workspace", ws)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"Cancelled job 1 ({ACCOUNTS}): it had not started and will not run." in cancelled.stdout
    assert _jobs(pg_history) == [(1, "cancelled", ACCOUNTS)]
    twice = harness.command("cancel", "1", "--job", "--workspace", ws)
    assert "has already ended; nothing to cancel" in twice.stdout
    missing = harness.command("cancel", "9", "--job", "--workspace", ws)
    assert missing.returncode == 2 and "there is no job 9 in the queue" in missing.stderr
    # a worker started now finds nothing to run
    worker = harness.start("worker", "--workspace", ws, log=distributed.parent / "worker.log")
    try:
        time.sleep(3)
        assert harness.history(distributed) == []
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0


#: accounts in pages and batches of 20: a run of Accounts commits three batches
SMALL = Dataset("queue", accounts=50, contacts=20, random_seed=5, page_size=20)


def test_one_run_per_project_across_workers_and_a_cancel_reaches_another_worker(
    tmp_path: Path, pg_history: str
) -> None:
    seeded = harness.prepare(SMALL, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), SMALL) as handle:
        root = harness.workspace(tmp_path / "ws", handle)
        make_distributed(root, pg_history)
        handle.set_faults(latency_ms=1500, services=("finops",))  # a run lasts a few seconds
        _one_run_at_a_time_and_cancel(root, pg_history)


def _one_run_at_a_time_and_cancel(root: Path, pg_history: str) -> None:
    ws = str(root)
    logs = [root.parent / f"w{n}.log" for n in range(2)]
    workers = [start_worker(root, log, 20) for log in logs]
    try:
        assert harness.command("run", "--queue", ACCOUNTS, "--workspace", ws).returncode == 0
        deadline = time.monotonic() + 30
        while not _runs(pg_history) and time.monotonic() < deadline:
            time.sleep(0.2)
        # the first job runs; a second one for the project waits, though a worker is free
        # (enqueued by the library: the command's checks would wait on the slow F&O)
        with JobQueue(load_workspace(root)) as queue:
            assert [e.job_id for e in queue.enqueue_plan([ACCOUNTS])] == [2]
        time.sleep(1)
        assert [(r["id"], r["status"]) for r in _runs(pg_history)] == [(1, "Running")]
        assert [(j[0], j[1]) for j in _jobs(pg_history)] == [(1, "doing"), (2, "todo")]

        # integrator cancel (this process) stops the run on a worker process
        done = harness.command("cancel", "1", "--workspace", ws, "--wait", "60")
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = _runs(pg_history)
            if len(runs) == 2 and runs[1]["status"] != "Running":
                break
            time.sleep(0.3)
        runs = harness.history(root)
        assert [(r["id"], r["status"]) for r in runs] == [(1, "Cancelled"), (2, "Completed")]
        assert runs[1]["started_at"] >= runs[0]["finished_at"]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    assert [w.returncode for w in workers] == [0, 0]
    text = "".join(log.read_text() for log in logs)
    assert f"job 1: running {ACCOUNTS}" in text
    assert f"job 1: run 1 of {ACCOUNTS} ended Cancelled" in text


def test_plain_run_enqueues_waits_and_prints_the_runs(tmp_path: Path, pg_history: str) -> None:
    seeded = harness.prepare(SMALL, tmp_path)
    with harness.served(harness.clone(seeded, tmp_path / "sandbox"), SMALL) as handle:
        root = harness.workspace(tmp_path / "ws", handle)
        make_distributed(root, pg_history)
        worker = start_worker(root, tmp_path / "worker.log", 20)
        try:
            document = harness.run(root)
            shown = harness.command("run", "--workspace", str(root))
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
    # prerequisites first, each project's run as integrator run prints it
    assert [(r["project"], r["status"]) for r in document["runs"]] == [
        (project, "Completed") for project in harness.PROJECTS
    ]
    assert shown.returncode == 0, shown.stderr
    assert f"{ACCOUNTS}: job 4; then" in shown.stdout
    assert [(r["id"], r["status"]) for r in _runs(pg_history)] == [
        (n, "Completed") for n in range(1, 7)
    ]
