"""One run per project at a time, across processes: a second ``integrator run`` of the same
project refuses with a clear message, or waits with ``--wait``; other projects are not held up;
a lock left by a killed process is recovered by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integrator.sandbox.testing import SandboxHandle
from tests.resilience import harness
from tests.resilience.conftest import CLEAN, Reference
from tests.resilience.harness import ACCOUNTS, CONTACTS, Dataset

#: every request answered this much later, so a run lasts long enough to be met by another
LATENCY_MS = 60


@pytest.fixture
def slow(
    reference: Callable[[Dataset], Reference], tmp_path: Path
) -> Iterator[tuple[SandboxHandle, Path]]:
    ref = reference(CLEAN)
    data_dir = harness.clone(ref.data_dir, tmp_path / "sandbox")
    with harness.served(data_dir, CLEAN) as handle:
        ws = harness.workspace(tmp_path / "ws", handle)
        handle.set_faults(latency_ms=LATENCY_MS)
        yield handle, ws


def _wait_running(ws: Path, project: str, process: subprocess.Popen[bytes]) -> int:
    """The id of ``project``'s run once the history shows it Running (the lock is held)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it was seen running"
        if (ws / "history.db").exists():
            conn = harness.history_db(ws)
            try:
                row = conn.execute(
                    "SELECT id FROM runs WHERE project = ? AND status = 'Running'", (project,)
                ).fetchone()
            except Exception:  # tables not created yet
                row = None
            finally:
                conn.close()
            if row is not None:
                return int(row[0])
        time.sleep(0.02)
    raise AssertionError(f"{project} never showed as Running")


def _runs(ws: Path, project: str) -> list[dict[str, Any]]:
    return [run for run in harness.history(ws) if run["project"] == project]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=60)


def _holds_open(process: subprocess.Popen[bytes], path: Path) -> bool:
    """Whether ``process`` has ``path`` open (it is waiting for the lock on it)."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # it ended, or an fd closed while we looked
        return False


def test_a_second_run_of_the_same_project_is_refused_or_waits(
    slow: tuple[SandboxHandle, Path], tmp_path: Path
) -> None:
    _handle, ws = slow
    log = tmp_path / "runs.log"
    first = harness.start("run", ACCOUNTS, "--workspace", str(ws), log=log)
    waiting: subprocess.Popen[bytes] | None = None
    try:
        first_id = _wait_running(ws, ACCOUNTS, first)
        first.send_signal(signal.SIGSTOP)  # it keeps the project while stopped

        refused = harness.command("run", ACCOUNTS, "--workspace", str(ws))
        assert refused.returncode == 4  # SPEC §7: already running elsewhere
        message = refused.stdout + refused.stderr
        assert f"project '{ACCOUNTS}' is already running (pid {first.pid} on" in message
        assert "--wait" in message
        assert [run["id"] for run in _runs(ws, ACCOUNTS)] == [first_id]  # it started nothing

        waiting = harness.start("run", ACCOUNTS, "--workspace", str(ws), "--wait", "180", log=log)
        lock_file = next((ws / ".integrator" / "locks").iterdir())
        deadline = time.monotonic() + 120
        while not _holds_open(waiting, lock_file):
            assert waiting.poll() is None, "the waiting run ended while the first held the lock"
            assert time.monotonic() < deadline, "the waiting run never reached the lock"
            time.sleep(0.02)
        assert [run["id"] for run in _runs(ws, ACCOUNTS)] == [first_id]  # it is waiting

        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=180) == 0
        assert waiting.wait(timeout=180) == 0
    finally:
        first.send_signal(signal.SIGCONT)
        _stop(first)
        if waiting is not None:
            _stop(waiting)

    runs = _runs(ws, ACCOUNTS)
    assert [run["status"] for run in runs] == ["Completed", "Completed"]
    assert runs[1]["started_at"] >= runs[0]["finished_at"]  # it waited its turn


def test_other_projects_run_alongside(slow: tuple[SandboxHandle, Path], tmp_path: Path) -> None:
    _handle, ws = slow
    assert harness.command("run", ACCOUNTS, "--workspace", str(ws)).returncode == 0
    log = tmp_path / "runs.log"
    accounts = harness.start("run", ACCOUNTS, "--all-data", "--workspace", str(ws), log=log)
    try:
        _wait_running(ws, ACCOUNTS, accounts)
        accounts.send_signal(signal.SIGSTOP)
        contacts = harness.command("run", CONTACTS, "--workspace", str(ws))
        assert contacts.returncode == 0, contacts.stdout + contacts.stderr
        accounts.send_signal(signal.SIGCONT)
        assert accounts.wait(timeout=180) == 0
    finally:
        accounts.send_signal(signal.SIGCONT)
        _stop(accounts)
    assert [run["status"] for run in _runs(ws, CONTACTS)] == ["Completed"]
    assert [run["status"] for run in _runs(ws, ACCOUNTS)] == ["Completed", "Completed"]


def test_a_lock_left_by_a_killed_run_is_recovered(
    slow: tuple[SandboxHandle, Path], tmp_path: Path
) -> None:
    _handle, ws = slow
    log = tmp_path / "runs.log"
    killed = harness.start("run", ACCOUNTS, "--workspace", str(ws), log=log)
    try:
        killed_id = _wait_running(ws, ACCOUNTS, killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
    finally:
        _stop(killed)
    assert (ws / ".integrator" / "locks").is_dir()

    again = harness.command("run", ACCOUNTS, "--workspace", str(ws), "--json")
    assert again.returncode == 0, again.stdout + again.stderr

    runs = _runs(ws, ACCOUNTS)
    assert next((run["id"], run["status"]) for run in runs) == (killed_id, "Interrupted")
    assert runs[-1]["status"] == "Completed"
    assert len(runs) == 2
