"""One run per project at a time, across processes.

The lock is an exclusive ``flock`` on a file in the workspace (``.integrator/locks/``). The
operating system releases it when the holding process ends, however it ends, so a lock left by
a killed run is recovered by the next one without any clean-up. The file records who holds it,
for the message a second run shows; it is readable by its owner only (mode 0600).
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import time
from pathlib import Path
from types import TracebackType

from integrator.errors import ProjectBusy

__all__ = ["ProjectBusy", "ProjectLock"]


class ProjectLock:
    """An exclusive lock on running one project in one workspace."""

    def __init__(self, lock_dir: Path, project: str) -> None:
        safe = re.sub(r"[^\w.-]+", "_", project)
        self.project = project
        self.path = lock_dir / f"{safe}.lock"
        self._fd: int | None = None

    def acquire(self, *, wait: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait`` seconds; raises :class:`ProjectBusy`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0600: the file names who runs what; one an earlier version made 0644 is tightened
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder(fd)
                    os.close(fd)
                    raise ProjectBusy(
                        self.project,
                        f"project {self.project!r} is already running ({holder}); "
                        "wait for it to finish or run with --wait SECONDS",
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        return text or "another process"

    def release(self) -> None:
        """Give the lock back (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ProjectLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
