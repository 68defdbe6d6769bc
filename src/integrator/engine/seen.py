"""The source ids a task's run has seen, so that after a full read the records it did not see
(gone from the source, or out of the task's selection) can be told from those it did.

Kept in a temporary SQLite database, as the key claims are (:mod:`integrator.engine.claims`):
SQLite spills it to a file past its page cache, so a full read of millions of records holds no
more memory for what it saw than a read of thousands.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

__all__ = ["SeenIds"]


class SeenIds:
    """A set of source ids on disk: :meth:`add` what a page saw, ask :meth:`unseen`."""

    def __init__(self) -> None:
        # "" is a private temporary database on disk, deleted when closed
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, ids: Iterable[str]) -> None:
        """Remember ``ids`` as seen (ids seen before stay seen)."""
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", ((i,) for i in ids))
        self._db.execute("COMMIT")

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` not seen, in their order (each once)."""
        if not ids:
            return []
        rows = self._db.execute(
            "SELECT value FROM json_each(?)"
            " WHERE NOT EXISTS (SELECT 1 FROM seen WHERE id = value) ORDER BY key",
            (json.dumps(list(ids)),),
        )
        return list(dict.fromkeys(row[0] for row in rows))

    def close(self) -> None:
        """Drop the ids (the temporary database goes with them)."""
        self._db.close()

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
