"""Checksums of the CDS and F&O rows a sync produced, to show two ways produced the same rows.

A table's checksum is its row count and the sum (mod 2**64) of a hash of each row's values over
a fixed column list (every column but the system-maintained ones), so row order does not matter
and any difference in any value shows. A column a destination lacks counts as NULL (dlt creates
no column for a field that was always empty).
"""

# SQL here names the stores' own tables and columns.

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from integrator.sandbox.stores import SERVICES

__all__ = ["OUTPUT_TABLES", "checksum_job", "store_checksums", "table_checksum"]

_SYSTEM = {"createdon", "modifiedon", "versionnumber"}
#: (service, table) of every table the three templates write
OUTPUT_TABLES = (
    ("cds", "accounts"),
    ("cds", "contacts"),
    ("finops", "CustomersV2"),
    ("finops", "CDSContactPersons"),
)


def output_columns(service: str, table: str) -> list[str]:
    """The compared columns of ``table``: every column but the system-maintained ones."""
    entity_set = next(s for s in SERVICES[service].entity_sets if s.table == table)
    return [c.name for c in entity_set.columns if c.name not in _SYSTEM]


def table_checksum(
    conn: sqlite3.Connection, table: str, columns: list[str], present: set[str]
) -> dict[str, Any]:
    """Row count and order-independent hash of ``table`` over ``columns`` (absent ones NULL)."""
    select = ", ".join(f'"{c}"' if c in present else "NULL" for c in columns)
    total = 0
    rows = 0
    for row in conn.execute(f"SELECT {select} FROM {table}"):
        text = "\x1f".join("\x00" if v is None else str(v) for v in row)
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        total = (total + int.from_bytes(digest, "little")) % 2**64
        rows += 1
    return {"rows": rows, "hash": f"{total:016x}"}


def _present(conn: sqlite3.Connection, table: str) -> set[str]:
    schema, _, name = table.rpartition(".")
    pragma = f"PRAGMA {schema}.table_info({name})" if schema else f"PRAGMA table_info({name})"
    return {row[1] for row in conn.execute(pragma)}


def store_checksums(data_dir: Path | str) -> dict[str, dict[str, Any]]:
    """Checksums of the four output tables of the sandbox stores in ``data_dir``."""
    out: dict[str, dict[str, Any]] = {}
    for service, table in OUTPUT_TABLES:
        conn = sqlite3.connect(Path(data_dir) / SERVICES[service].database)
        try:
            columns = output_columns(service, table)
            out[f"{service}.{table}"] = table_checksum(conn, table, columns, _present(conn, table))
        finally:
            conn.close()
    return out


def mapped_checksums(
    database: Path | str, tables: dict[str, str], rename: Callable[[str], str]
) -> dict[str, dict[str, Any]]:
    """Checksums of another destination's copies of the output tables.

    ``tables`` maps ``service.table`` to the table there; ``rename`` maps a column name to the
    name that destination gave it.
    """
    out: dict[str, dict[str, Any]] = {}
    conn = sqlite3.connect(database)
    try:
        for service, table in OUTPUT_TABLES:
            where = tables[f"{service}.{table}"]
            columns = output_columns(service, table)
            renamed = [rename(c) for c in columns]
            result = table_checksum(conn, where, renamed, _present(conn, where))
            out[f"{service}.{table}"] = result
    finally:
        conn.close()
    return out


def checksum_job(data_dir: str) -> dict[str, dict[str, Any]]:
    """Job: :func:`store_checksums` of ``data_dir``."""
    return store_checksums(data_dir)
