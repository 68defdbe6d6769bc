"""The sandbox's SQLite stores: one file per service in a data directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from integrator.sandbox.schema import Service
from integrator.sandbox.stores.changes import (
    CHANGE_TRACKING_SCHEMA,
    migrate_change_tracking,
    purge_tombstones,
)
from integrator.sandbox.stores.collation import COLLATION_VERSION, register_text_functions
from integrator.sandbox.stores.ddl import create_schema_sql
from integrator.sandbox.stores.reference import load_reference_data
from integrator.sandbox.stores.rules import rule_triggers_sql
from integrator.sandbox.stores.services import SERVICES
from integrator.sandbox.stores.solution import AUTONUMBER_SCHEMA
from integrator.sandbox.stores.upkeep import upkeep_triggers_sql

__all__ = ["SCHEMA_VERSION", "SandboxStore", "connect_file"]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000

_META_SCHEMA = "CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT"


def connect_file(path: Path) -> sqlite3.Connection:
    """A connection to a store file, ready for concurrent use.

    Autocommit (``isolation_level=None``: open transactions with ``BEGIN`` / ``BEGIN IMMEDIATE``
    yourself), usable from any thread (one thread at a time), WAL journal, a 30 s busy timeout,
    ``recursive_triggers`` off (the upkeep triggers rely on it), and the stores' Unicode
    case-insensitive ``NOCASE`` collation (:mod:`integrator.sandbox.stores.collation`).
    """
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    register_text_functions(conn)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA recursive_triggers = OFF")
    return conn


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, value))


class SandboxStore:
    """The three services' SQLite files in ``data_dir`` (``sales.db``, ``cds.db``, ``finops.db``).

    Open with :meth:`open`; take connections with :meth:`connect`. The store object holds no
    connection itself and may be shared between threads.
    """

    def __init__(self, data_dir: Path, with_solution: bool) -> None:
        self.data_dir = data_dir
        self.with_solution = with_solution
        #: the three services, Sales, CDS and F&O
        self.services: tuple[Service, ...] = tuple(SERVICES.values())

    @classmethod
    def open(cls, data_dir: Path | str, *, with_solution: bool | None = True) -> SandboxStore:
        """Open the stores in ``data_dir``, creating the directory and missing files.

        A new file gets its schema and reference data; an existing one keeps its data (reference
        data is loaded once, when the file is created). Triggers are rebuilt on every open.
        ``with_solution`` installs (True) or removes (False) the Sales P2C solution; ``None``
        keeps what the directory had (installed for a new directory).
        """
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        solution = with_solution
        for service in SERVICES.values():
            conn = connect_file(path / service.database)
            try:
                state = _prepare(conn, service, solution)
                if service.name == "sales":
                    solution = state
            finally:
                conn.close()
        return cls(path, bool(solution))

    def service(self, name: str) -> Service:
        """The service named ``name`` (``sales``, ``cds``, ``finops``); ``KeyError`` otherwise."""
        return SERVICES[name]

    def path(self, service_name: str) -> Path:
        """The SQLite file of ``service_name``."""
        return self.data_dir / SERVICES[service_name].database

    def connect(self, service_name: str) -> sqlite3.Connection:
        """A new connection to ``service_name``'s file (see :func:`connect_file`); close it."""
        return connect_file(self.path(service_name))

    def install_solution(self) -> None:
        """Install the Sales P2C solution: numbering, Is Active Customer, IsCompanyAnAccount."""
        self._set_solution(True)

    def remove_solution(self) -> None:
        """Remove the Sales P2C solution's triggers (columns and data stay)."""
        self._set_solution(False)

    def _set_solution(self, installed: bool) -> None:
        conn = self.connect("sales")
        try:
            _prepare(conn, SERVICES["sales"], installed)
        finally:
            conn.close()
        self.with_solution = installed


def _prepare(conn: sqlite3.Connection, service: Service, with_solution: bool | None) -> bool:
    """Create what is missing in one service's file and rebuild its triggers.

    Returns whether the P2C solution is installed afterwards.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_META_SCHEMA)
        for statement in create_schema_sql(service):
            conn.execute(statement)
        if service.flavor == "dataverse":
            for statement in CHANGE_TRACKING_SCHEMA:
                conn.execute(statement)
            migrate_change_tracking(conn)
        if service.name == "sales":
            for statement in AUTONUMBER_SCHEMA:
                conn.execute(statement)
        stored = _meta(conn, "solution")
        installed = with_solution if with_solution is not None else stored != "0"
        _set_meta(conn, "solution", "1" if installed else "0")
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        for statement in upkeep_triggers_sql(service, with_solution=installed):
            conn.execute(statement)
        for statement in rule_triggers_sql(service):
            conn.execute(statement)
        if _meta(conn, "collation") != COLLATION_VERSION:
            conn.execute("REINDEX NOCASE")  # indexes built under SQLite's ASCII-only NOCASE
            _set_meta(conn, "collation", COLLATION_VERSION)
        if _meta(conn, "reference_data") is None:
            load_reference_data(service.name, conn)
            _set_meta(conn, "reference_data", "loaded")
        _set_meta(conn, "schema_version", str(SCHEMA_VERSION))
        if service.flavor == "dataverse":
            purge_tombstones(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return installed
