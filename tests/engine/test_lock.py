"""One run per project: a second holder is refused by name; a killed holder frees the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integrator.engine.lock import ProjectBusy, ProjectLock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from integrator.engine.lock import ProjectLock
    lock = ProjectLock(Path(sys.argv[1]), "Accounts")
    lock.acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def _holder(lock_dir: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_dir)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_second_run_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    process = _holder(tmp_path)
    try:
        with pytest.raises(ProjectBusy) as caught:
            ProjectLock(tmp_path, "Accounts").acquire(wait=0.3)
        assert "'Accounts' is already running" in str(caught.value)
        assert f"pid {process.pid}" in str(caught.value)
        ProjectLock(tmp_path, "Contacts to Contact").acquire()  # other projects are free
    finally:
        process.kill()
        process.wait()


def test_a_lock_left_by_a_killed_process_is_recovered(tmp_path: Path) -> None:
    process = _holder(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lock = ProjectLock(tmp_path, "Accounts")
    lock.acquire()
    lock.release()


def test_waiting_gets_the_lock_once_released(tmp_path: Path) -> None:
    first = ProjectLock(tmp_path, "Accounts")
    first.acquire()
    first.release()
    with ProjectLock(tmp_path, "Accounts"):
        pass
