"""Change tracking for Dataverse entity sets (Sales and CDS), kept by triggers in the database.

How it works, whichever way rows are written (the API or plain SQL):

- each database holds one version counter (``_ct_version.version``); every insert or update of
  a Dataverse row takes the next value and stamps it into the row's ``versionnumber``
  (indexed), so rows changed since version ``V`` are ``versionnumber > V``;
- every delete from a change-tracked set takes the next value too and leaves a tombstone in
  ``_ct_tombstones`` (``version``, ``entity_set``, ``key`` as a JSON object of the key values,
  ``deleted_on``);
- a delta token is a version. Tombstones older than :data:`TOMBSTONE_RETENTION` (7 days, as
  Dataverse's default ``ExpireChangeTrackingInDays``) are purged by :func:`purge_tombstones`
  (run at every store open); purging records the highest version purged in
  ``_ct_version.purged_through``, and a token below it is expired (:func:`token_expired`),
  because deletes after it may be gone.
"""

# SQL here is generated from the service descriptions, never from request values.
# ruff: noqa: S608

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from integrator.sandbox.schema import EntitySet
from integrator.sandbox.stores.ddl import NOW_SQL, quote

__all__ = [
    "TOMBSTONE_RETENTION",
    "changed_since",
    "current_version",
    "deleted_since",
    "purge_tombstones",
    "token_expired",
]

TOMBSTONE_RETENTION = timedelta(days=7)

CHANGE_TRACKING_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _ct_version ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL,"
    " purged_through INTEGER NOT NULL DEFAULT 0, upkeep INTEGER NOT NULL DEFAULT 0) STRICT",
    "INSERT OR IGNORE INTO _ct_version (id, version, purged_through) VALUES (1, 0, 0)",
    "CREATE TABLE IF NOT EXISTS _ct_tombstones ("
    " version INTEGER PRIMARY KEY, entity_set TEXT NOT NULL, key TEXT NOT NULL,"
    " deleted_on TEXT NOT NULL) STRICT",
    "CREATE INDEX IF NOT EXISTS _ct_tombstones_set ON _ct_tombstones (entity_set, version)",
)

#: statement (inside a trigger) taking the next version
NEXT_VERSION_SQL = "UPDATE _ct_version SET version = version + 1 WHERE id = 1;"
#: the same, raising the flag that tells the upkeep's own row write from a client's
UPKEEP_BEGIN_SQL = "UPDATE _ct_version SET version = version + 1, upkeep = 1 WHERE id = 1;"
UPKEEP_END_SQL = "UPDATE _ct_version SET upkeep = 0 WHERE id = 1;"
#: trigger condition: the row write being handled is a client's, not the upkeep's own
NOT_UPKEEP_WRITE_SQL = "(SELECT upkeep FROM _ct_version WHERE id = 1) = 0"


def migrate_change_tracking(conn: sqlite3.Connection) -> None:
    """Bring a ``_ct_version`` table made by an earlier build up to date."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(_ct_version)")}
    if "upkeep" not in columns:
        conn.execute("ALTER TABLE _ct_version ADD COLUMN upkeep INTEGER NOT NULL DEFAULT 0")


#: expression (inside a trigger) reading the version just taken
VERSION_SQL = "(SELECT version FROM _ct_version WHERE id = 1)"


def tombstone_trigger_sql(es: EntitySet) -> str:
    """The AFTER DELETE trigger that leaves a tombstone for each row deleted from ``es``."""
    key_json = ", ".join(f"'{k}', OLD.{quote(k)}" for k in es.key)
    return (
        f"CREATE TRIGGER {quote('ct_delete_' + es.table)} AFTER DELETE ON {quote(es.table)}\n"
        f"BEGIN\n  {NEXT_VERSION_SQL}\n"
        f"  INSERT INTO _ct_tombstones (version, entity_set, key, deleted_on)"
        f" VALUES ({VERSION_SQL}, '{es.name}', json_object({key_json}), {NOW_SQL});\nEND"
    )


def current_version(conn: sqlite3.Connection) -> int:
    """The database's latest version: a delta token taken now."""
    row = conn.execute("SELECT version FROM _ct_version WHERE id = 1").fetchone()
    return int(row[0])


def token_expired(conn: sqlite3.Connection, version: int) -> bool:
    """Whether a delta token at ``version`` can no longer be served.

    True when tombstones after it may have been purged, or when it is from the future (not a
    token this database issued).
    """
    row = conn.execute("SELECT version, purged_through FROM _ct_version WHERE id = 1").fetchone()
    return version < int(row[1]) or version > int(row[0])


def changed_since(
    conn: sqlite3.Connection,
    es: EntitySet,
    since: int,
    upto: int,
    columns: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``es`` created or updated after version ``since`` up to ``upto``, oldest first.

    Rows come as dicts of stored values (booleans as 0/1). ``columns`` defaults to all.
    """
    cols = ", ".join(quote(c) for c in columns) if columns else "*"
    cur = conn.execute(
        f"SELECT {cols} FROM {quote(es.table)} WHERE versionnumber > ? AND versionnumber <= ?"
        " ORDER BY versionnumber",
        (since, upto),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def deleted_since(
    conn: sqlite3.Connection, entity_set: str, since: int, upto: int
) -> list[dict[str, Any]]:
    """Key values (one dict per row) of rows of ``entity_set`` deleted after ``since``."""
    cur = conn.execute(
        "SELECT key FROM _ct_tombstones WHERE entity_set = ? AND version > ? AND version <= ?"
        " ORDER BY version",
        (entity_set, since, upto),
    )
    return [json.loads(row[0]) for row in cur]


def purge_tombstones(conn: sqlite3.Connection, *, before: datetime | None = None) -> int:
    """Delete tombstones older than ``before`` (default: now minus the retention period).

    Tokens below the highest purged version become expired. Returns how many were purged.
    Runs in its own transaction when none is open.
    """
    cutoff = before if before is not None else datetime.now(UTC) - TOMBSTONE_RETENTION
    stamp = (
        cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{cutoff.microsecond // 1000:03d}Z"
    )
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        top = conn.execute(
            "SELECT max(version), count(*) FROM _ct_tombstones WHERE deleted_on < ?", (stamp,)
        ).fetchone()
        if top[1]:
            conn.execute("DELETE FROM _ct_tombstones WHERE version <= ?", (top[0],))
            conn.execute(
                "UPDATE _ct_version SET purged_through = max(purged_through, ?) WHERE id = 1",
                (top[0],),
            )
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    return int(top[1])
