"""The history's files are private: only their owner may read or write them.

The history holds record keys, names, addresses and error messages quoting Sales values, so
``history.db`` (and SQLite's ``-wal`` and ``-shm`` files next to it) and the run locks are
created mode 0600, whatever the umask. A file an earlier version created readable by others is
tightened to 0600 the next time integrator opens it (when this user owns it; a file another user
owns is left alone: its owner decides).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_MODE", "private_file", "tighten"]

#: read and write for the owner, nothing for anyone else
PRIVATE_MODE = 0o600

#: SQLite's companions of a database file
_COMPANIONS = ("-wal", "-shm", "-journal")


def private_file(path: Path) -> None:
    """Make sure the SQLite database ``path`` exists (an empty file is a new database to
    SQLite) with mode 0600, and that it and its ``-wal``/``-shm``/``-journal`` files, when they
    exist, are readable by their owner only. Creates the parent folder as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    for each in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        tighten(each)


def tighten(path: Path) -> None:
    """Remove every group and other permission from ``path`` when this user owns it; does
    nothing when it does not exist or another user owns it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(stat.S_IMODE(info.st_mode) & 0o700)
