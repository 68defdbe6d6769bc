"""Which source record of a run first took each key in each leg, so a second record the
destination takes for the same key (``CON-1`` and ``con-1 `` in Dynamics) is a failed record,
not a second write over the first.

Kept in a temporary SQLite database (SQLite spills it to a file past its page cache), so a run
of millions of records holds no more memory for it than a run of thousands.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["KeyClaim", "KeyClaims"]


class KeyClaim(NamedTuple):
    """A key (folded as the leg's system compares keys) wanted by one source record (a
    named tuple: one is made per record and leg, half the cost of a frozen dataclass)."""

    fold: str
    source_id: str
    record_key: str


class KeyClaims:
    """The keys a run's records took, per leg: the first record to claim a key keeps it."""

    def __init__(self) -> None:
        # "" is a private temporary database on disk, deleted when closed
        self._db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE claims (leg INTEGER, fold TEXT, source_id TEXT, record_key TEXT,"
            " PRIMARY KEY (leg, fold)) WITHOUT ROWID"
        )
        self._lock = threading.Lock()

    def claim(self, leg: int, wanted: Sequence[KeyClaim]) -> list[KeyClaim]:
        """Claim each of ``wanted`` (in order) for leg ``leg``; for each, the claim that holds
        the key now: itself, or the earlier record's when another source record had it."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO claims VALUES (?, ?, ?, ?)",
                [(leg, c.fold, c.source_id, c.record_key) for c in wanted],
            )
            folds = list(dict.fromkeys(c.fold for c in wanted))
            rows = self._db.execute(
                "SELECT fold, source_id, record_key FROM claims"
                " WHERE leg = ? AND fold IN (SELECT value FROM json_each(?))",
                (leg, json.dumps(folds)),
            )
            holders = {fold: KeyClaim(fold, sid, key) for fold, sid, key in rows}
            self._db.execute("COMMIT")
        return [holders[c.fold] for c in wanted]

    def close(self) -> None:
        """Drop the claims (the temporary database goes with them)."""
        self._db.close()

    def __del__(self) -> None:
        self._db.close()
