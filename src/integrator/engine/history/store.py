"""The execution history: the run log (runs, tasks, counts, failed records) and the record-state
store (record states, checkpoints, mapping fingerprints), in one database.

SQLite in the workspace by default, PostgreSQL when the workspace names one. The schema is
versioned with Alembic migrations, applied when the store is opened. A page's counts, failed
records, states and checkpoint are written in one transaction (:meth:`HistoryStore.record_batch`),
so the history never claims more than what was committed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url

from integrator.engine.history.clock import now_iso
from integrator.engine.history.errors import translate
from integrator.engine.history.files import private_file
from integrator.engine.history.models import PageCommit, RecordError, RunStatus, RunSummary
from integrator.engine.history.partitions import PartitionStore
from integrator.engine.history.runlog import RunLog
from integrator.engine.history.states import RecordStateStore
from integrator.engine.history.truncations import add_truncations

__all__ = ["HistoryStore", "now_iso"]

_MIGRATIONS = Path(__file__).parent / "migrations"
#: seconds to wait for a PostgreSQL history server to answer a connection
_CONNECT_TIMEOUT = 10
#: one migration at a time in this process (see :meth:`HistoryStore.migrate`)
_MIGRATING = threading.Lock()


class HistoryStore:
    """A workspace's execution history: :attr:`log` (the run log) and :attr:`records` (the
    record-state store), committed together by :meth:`record_batch`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.log = RunLog(engine)
        self.records = RecordStateStore(engine)
        self.partitions = PartitionStore(engine)

    @classmethod
    def open(cls, url: str) -> HistoryStore:
        """Open (creating and migrating as needed) the history store at SQLAlchemy ``url``."""
        parsed = make_url(url)
        connect_args: dict[str, Any] = {}
        database = parsed.database
        if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
            private_file(Path(database))
        elif parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            # a host that drops packets answers nothing: say so within SPEC §7's 30 s
            connect_args["connect_timeout"] = _CONNECT_TIMEOUT
        # a server restarted since a connection was pooled: found on checkout, not mid-run
        pre_ping = parsed.get_backend_name() == "postgresql"
        engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=pre_ping)
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "handle_error", partial(_raise_history_error, parsed))
        store = cls(engine)
        try:
            store.migrate()
        except BaseException:
            engine.dispose()
            raise
        return store

    def migrate(self) -> None:
        """Apply every migration not yet applied, all in one transaction: a process killed
        half-way leaves the schema as it was."""
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # Python's sqlite3 opens no transaction before DDL: each CREATE TABLE would
                # commit alone, and a kill between them leaves tables with no alembic_version
                # row ("table runs already exists" on every later open). IMMEDIATE also makes
                # two first runs migrate one after the other.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = conn
            # alembic's environment lives in module globals: two threads migrating at once
            # (a worker running two jobs opens two stores) break each other's
            with _MIGRATING:
                command.upgrade(config, "head")

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def record_batch(self, batch: PageCommit) -> None:
        """Commit what one page did in ONE transaction: add its counts and failed records to
        its task, save its records' changed states, forget the ids it lists and move the task's
        checkpoint (when it has one); a partition's page moves the partition's resume point
        instead and marks the source ids it saw."""
        with self.engine.begin() as conn:
            self.log.add_batch(conn, batch.run_id, batch.position, batch.counts, batch.errors)
            if batch.checkpoint is not None and batch.partition is not None:
                self.partitions.put_resume(
                    conn,
                    batch.run_id,
                    batch.project,
                    batch.task,
                    batch.partition,
                    batch.checkpoint,
                )
            elif batch.checkpoint is not None:
                self.records.put_checkpoint(
                    conn, batch.run_id, batch.project, batch.task, batch.checkpoint
                )
            if batch.partition is not None and batch.seen:
                self.partitions.put_seen(conn, batch.project, batch.task, batch.seen)
            if batch.states or batch.forget:
                self.records.put_states(conn, batch.project, batch.task, batch.states, batch.forget)
            add_truncations(conn, batch.run_id, batch.position, batch.truncations)

    def purge(self, retention_days: int) -> int:
        """Delete runs that finished more than ``retention_days`` ago; returns how many."""
        return self.log.purge(retention_days)

    # -- reading, as the CLI shows it ------------------------------------------------------------

    def runs(self, project: str | None = None, limit: int = 50) -> list[RunSummary]:
        """Runs, newest first (see :meth:`RunLog.runs`)."""
        return self.log.runs(project, limit)

    def run(self, run_id: int) -> RunSummary | None:
        """One run with every failed record, or ``None`` (see :meth:`RunLog.run`)."""
        return self.log.run(run_id)

    def failed_records(self, run_id: int) -> list[RecordError]:
        """Every record that failed in run ``run_id``, in the order they failed."""
        return self.log.failed_records(run_id)

    def last_run(self, project: str, statuses: Sequence[RunStatus] | None = None) -> int | None:
        """The id of ``project``'s newest run (with one of ``statuses``), or ``None``."""
        return self.log.last_run(project, statuses)


def _raise_history_error(url: URL, context: sa.engine.ExceptionContext) -> None:
    """Every driver error that means a damaged file, an unreachable server or a full disk is
    raised as its :class:`HistoryError`, wherever the history is used (opening, a run's page
    commit, ``history``): the transaction is rolled back by SQLAlchemy as usual."""
    error = translate(
        context.sqlalchemy_exception or context.original_exception,
        url,
        connecting=context.connection is None or context.is_disconnect,
    )
    if error is not None:
        raise error from context.original_exception


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
