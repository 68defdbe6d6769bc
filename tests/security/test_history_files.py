"""The history and the run locks are private files (issue 11.11): ``history.db``, its ``-wal``
and ``-shm`` files and ``.integrator/locks/*.lock`` are created mode 0600 whatever the umask,
and ones an earlier version left 0644 are tightened to 0600 when integrator next opens them."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from integrator.config.workspace import init_workspace
from integrator.engine.history import HistoryStore
from integrator.engine.lock import ProjectLock
from integrator.sandbox.testing import SandboxHandle
from tests import commands
from tests.golden.dataset import load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def integrator(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command, run with the usual umask 022 (files 0644 unless made private)."""
    return commands.integrator(*args, columns=None, umask=0o022)


@pytest.fixture
def workspace(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    load_sales(sandbox.data_dir)
    return init_workspace(tmp_path / "ws", sandbox.url)


def test_a_run_leaves_the_history_and_its_lock_0600(workspace: Path) -> None:
    ran = integrator("run", "Accounts", "--workspace", str(workspace))
    assert ran.returncode == 0, ran.stderr
    assert _mode(workspace / "history.db") == 0o600
    locks = list((workspace / ".integrator" / "locks").glob("*.lock"))
    assert locks and all(_mode(lock) == 0o600 for lock in locks)


def test_the_write_ahead_log_is_0600_while_the_history_is_open(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}")
        try:
            with store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM runs").fetchall()
                for name in ("history.db", "history.db-wal", "history.db-shm"):
                    assert _mode(tmp_path / name) == 0o600, name
        finally:
            store.close()
    finally:
        os.umask(previous)


def test_files_an_earlier_version_left_0644_are_tightened(workspace: Path) -> None:
    assert integrator("run", "Accounts", "--workspace", str(workspace)).returncode == 0
    history = workspace / "history.db"
    (lock,) = (workspace / ".integrator" / "locks").glob("*.lock")
    wal = workspace / "history.db-wal"
    wal.write_bytes(b"")  # an empty WAL is no WAL to SQLite
    for path in (history, wal, lock):
        path.chmod(0o644)
    shown = integrator("history", "--workspace", str(workspace))
    assert shown.returncode == 0, shown.stderr
    assert _mode(history) == 0o600
    assert not wal.exists() or _mode(wal) == 0o600
    ran = integrator("run", "Accounts", "--workspace", str(workspace))
    assert ran.returncode == 0, ran.stderr
    assert _mode(lock) == 0o600


def test_a_lock_file_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        lock = ProjectLock(tmp_path / "locks", ACCOUNTS)
        with lock:
            assert _mode(lock.path) == 0o600
    finally:
        os.umask(previous)
