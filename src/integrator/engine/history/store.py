"""The execution history: runs, their tasks' counts, failed records, and checkpoints.

SQLite in the workspace by default, PostgreSQL when the workspace names one. The schema is
versioned with Alembic migrations, applied when the store is opened. A batch's counts, failed
records and checkpoint are written in one transaction (:meth:`HistoryStore.record_batch`), so
the history never claims more than what was committed.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from integrator.engine.history.models import (
    Counts,
    RecordError,
    RecordState,
    RunStatus,
    RunSummary,
    TaskSummary,
    status_for,
)
from integrator.engine.history.tables import (
    checkpoints,
    record_errors,
    record_state,
    runs,
    task_runs,
)

__all__ = ["HistoryStore", "now_iso"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def now_iso() -> str:
    """The current UTC time as ISO-8601 with milliseconds and ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class HistoryStore:
    """Read and write a workspace's execution history."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> HistoryStore:
        """Open (creating and migrating as needed) the history store at SQLAlchemy ``url``."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        if parsed.get_backend_name() == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        store.migrate()
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
            command.upgrade(config, "head")

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # -- writing -------------------------------------------------------------------------------

    def start_run(
        self, project: str, tasks: Sequence[str], *, mode: str, rerun_of: int | None = None
    ) -> int:
        """Record a new run of ``project`` (status Running) with its tasks; returns its id."""
        with self.engine.begin() as conn:
            run_id = conn.execute(
                runs.insert().values(
                    project=project,
                    status=RunStatus.RUNNING,
                    mode=mode,
                    rerun_of=rerun_of,
                    started_at=now_iso(),
                    owner=_owner(),
                )
            ).inserted_primary_key
            assert run_id is not None
            conn.execute(
                task_runs.insert(),
                [
                    {
                        "run_id": run_id[0],
                        "position": position,
                        "task": task,
                        "status": RunStatus.RUNNING,
                        **Counts().as_dict(),
                    }
                    for position, task in enumerate(tasks)
                ],
            )
        return int(run_id[0])

    def record_batch(
        self,
        run_id: int,
        position: int,
        counts: Counts,
        errors: Iterable[RecordError] = (),
        *,
        checkpoint: tuple[str, str, str] | None = None,
        states: tuple[str, str, Sequence[RecordState], Sequence[str]] | None = None,
    ) -> None:
        """Add a batch's counts and failed records to a task and, in the same transaction,
        move the task's checkpoint (``(project, task, checkpoint)``) and save its records'
        states (``(project, task, changed states, source ids to forget)``) when given."""
        rows = [
            {
                "run_id": run_id,
                "task": e.task,
                "leg": e.leg,
                "record_key": e.key,
                "field": e.field,
                "message": e.message,
                "source_key": json.dumps(e.source_key) if e.source_key is not None else None,
            }
            for e in errors
        ]
        where = sa.and_(task_runs.c.run_id == run_id, task_runs.c.position == position)
        with self.engine.begin() as conn:
            conn.execute(
                task_runs.update()
                .where(where)
                .values(
                    read=task_runs.c.read + counts.read,
                    inserted=task_runs.c.inserted + counts.inserted,
                    updated=task_runs.c.updated + counts.updated,
                    unchanged=task_runs.c.unchanged + counts.unchanged,
                    errors=task_runs.c.errors + counts.errors,
                )
            )
            if rows:
                conn.execute(record_errors.insert(), rows)
            if checkpoint is not None:
                self._put_checkpoint(conn, run_id, *checkpoint)
            if states is not None:
                self._put_states(conn, *states)

    def finish_task(self, run_id: int, position: int, status: RunStatus | None = None) -> RunStatus:
        """Close a task; its status follows from its counts unless ``status`` is given."""
        where = sa.and_(task_runs.c.run_id == run_id, task_runs.c.position == position)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(task_runs).where(where)).mappings().one()
            final = status or status_for(_counts(row))
            conn.execute(task_runs.update().where(where).values(status=final))
        return final

    def finish_run(
        self, run_id: int, status: RunStatus | None = None, message: str | None = None
    ) -> RunStatus:
        """Close a run; its status follows from its tasks' counts unless ``status`` is given."""
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(task_runs).where(task_runs.c.run_id == run_id))
            total = Counts()
            for row in rows.mappings():
                total.add(_counts(row))
            final = status or status_for(total)
            conn.execute(
                task_runs.update()
                .where(task_runs.c.run_id == run_id, task_runs.c.status == RunStatus.RUNNING)
                .values(status=final)
            )
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(status=final, finished_at=now_iso(), message=message)
            )
        return final

    def mark_interrupted(self, project: str, message: str) -> list[int]:
        """Mark runs of ``project`` still shown as Running as Interrupted; returns their ids.

        Call only while holding the project's run lock: then no such run is alive.
        """
        with self.engine.begin() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    sa.select(runs.c.id).where(
                        runs.c.project == project, runs.c.status == RunStatus.RUNNING
                    )
                )
            ]
            if ids:
                conn.execute(
                    runs.update()
                    .where(runs.c.id.in_(ids))
                    .values(status=RunStatus.INTERRUPTED, finished_at=now_iso(), message=message)
                )
                conn.execute(
                    task_runs.update()
                    .where(task_runs.c.run_id.in_(ids), task_runs.c.status == RunStatus.RUNNING)
                    .values(status=RunStatus.INTERRUPTED)
                )
        return ids

    def purge(self, retention_days: int) -> int:
        """Delete runs that finished more than ``retention_days`` ago; returns how many."""
        cutoff = (
            (datetime.now(UTC) - timedelta(days=retention_days))
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        with self.engine.begin() as conn:
            old = sa.select(runs.c.id).where(
                runs.c.finished_at.is_not(None), runs.c.finished_at < cutoff
            )
            ids = [row[0] for row in conn.execute(old)]
            if not ids:
                return 0
            conn.execute(record_errors.delete().where(record_errors.c.run_id.in_(ids)))
            conn.execute(task_runs.delete().where(task_runs.c.run_id.in_(ids)))
            conn.execute(runs.update().where(runs.c.rerun_of.in_(ids)).values(rerun_of=None))
            conn.execute(runs.delete().where(runs.c.id.in_(ids)))
        return len(ids)

    # -- checkpoints ---------------------------------------------------------------------------

    def _put_checkpoint(
        self, conn: sa.Connection, run_id: int, project: str, task: str, value: str
    ) -> None:
        where = sa.and_(checkpoints.c.project == project, checkpoints.c.task == task)
        values = {"checkpoint": value, "run_id": run_id, "updated_at": now_iso()}
        if conn.execute(checkpoints.update().where(where).values(**values)).rowcount == 0:
            conn.execute(checkpoints.insert().values(project=project, task=task, **values))

    def checkpoint(self, project: str, task: str) -> str | None:
        """The checkpoint stored for ``project``'s ``task``, or ``None``."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(checkpoints.c.checkpoint).where(
                    checkpoints.c.project == project, checkpoints.c.task == task
                )
            ).scalar_one_or_none()

    def clear_checkpoints(self, project: str) -> None:
        """Forget ``project``'s checkpoints (the next run reads everything)."""
        with self.engine.begin() as conn:
            conn.execute(checkpoints.delete().where(checkpoints.c.project == project))

    # -- record states -------------------------------------------------------------------------

    def _put_states(
        self,
        conn: sa.Connection,
        project: str,
        task: str,
        changed: Sequence[RecordState],
        forget: Sequence[str],
    ) -> None:
        if forget:
            for chunk in _chunks(list(forget)):
                conn.execute(
                    record_state.delete().where(
                        record_state.c.project == project,
                        record_state.c.task == task,
                        record_state.c.source_id.in_(chunk),
                    )
                )
        if not changed:
            return
        rows = [
            {
                "project": project,
                "task": task,
                "source_id": state.source_id,
                "record_key": state.record_key,
                "leg_keys": json.dumps(state.leg_keys, sort_keys=True),
                "pending": state.pending,
            }
            for state in changed
        ]
        insert = _dialect_insert(conn)(record_state)
        conn.execute(
            insert.on_conflict_do_update(
                index_elements=["project", "task", "source_id"],
                set_={
                    "record_key": insert.excluded.record_key,
                    "leg_keys": insert.excluded.leg_keys,
                    "pending": insert.excluded.pending,
                },
            ),
            rows,
        )

    def states(self, project: str, task: str, source_ids: Sequence[str]) -> dict[str, RecordState]:
        """The stored states of ``source_ids`` (those that have one), by source id."""
        found: dict[str, RecordState] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(source_ids)):
                query = sa.select(record_state).where(
                    record_state.c.project == project,
                    record_state.c.task == task,
                    record_state.c.source_id.in_(chunk),
                )
                for row in conn.execute(query).mappings():
                    found[row["source_id"]] = _state(row)
        return found

    def state_ids(self, project: str, task: str) -> list[str]:
        """The source ids of every record of ``project``'s ``task`` that has a state."""
        query = sa.select(record_state.c.source_id).where(
            record_state.c.project == project, record_state.c.task == task
        )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def pending_states(self, project: str, task: str) -> list[RecordState]:
        """The task's records that failed last time they were processed."""
        query = sa.select(record_state).where(
            record_state.c.project == project,
            record_state.c.task == task,
            record_state.c.pending.is_(True),
        )
        with self.engine.connect() as conn:
            return [_state(row) for row in conn.execute(query).mappings()]

    def forget_states(self, project: str) -> None:
        """Forget every record state of ``project``."""
        with self.engine.begin() as conn:
            conn.execute(record_state.delete().where(record_state.c.project == project))

    # -- reading -------------------------------------------------------------------------------

    def runs(self, project: str | None = None, limit: int = 50) -> list[RunSummary]:
        """Runs, newest first, each with its tasks' counts (failed records not loaded)."""
        query = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
        if project is not None:
            query = query.where(runs.c.project == project)
        with self.engine.connect() as conn:
            summaries = [_run(row) for row in conn.execute(query).mappings()]
            if summaries:
                ids = [s.id for s in summaries]
                by_id = {s.id: s for s in summaries}
                tasks = conn.execute(
                    sa.select(task_runs)
                    .where(task_runs.c.run_id.in_(ids))
                    .order_by(task_runs.c.run_id, task_runs.c.position)
                )
                for row in tasks.mappings():
                    by_id[row["run_id"]].tasks.append(
                        TaskSummary(row["task"], RunStatus(row["status"]), _counts(row))
                    )
        return summaries

    def run(self, run_id: int) -> RunSummary | None:
        """One run with its tasks and every failed record, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            summary = _run(row)
            by_name: dict[str, TaskSummary] = {}
            for task in conn.execute(
                sa.select(task_runs)
                .where(task_runs.c.run_id == run_id)
                .order_by(task_runs.c.position)
            ).mappings():
                summary.tasks.append(
                    TaskSummary(task["task"], RunStatus(task["status"]), _counts(task))
                )
                by_name[task["task"]] = summary.tasks[-1]
            for error in self._errors(conn, run_id):
                if error.task in by_name:
                    by_name[error.task].errors.append(error)
        return summary

    def failed_records(self, run_id: int) -> list[RecordError]:
        """Every record that failed in run ``run_id``, in the order they failed."""
        with self.engine.connect() as conn:
            return self._errors(conn, run_id)

    def _errors(self, conn: sa.Connection, run_id: int) -> list[RecordError]:
        query = (
            sa.select(record_errors)
            .where(record_errors.c.run_id == run_id)
            .order_by(record_errors.c.id)
        )
        return [
            RecordError(
                task=row["task"],
                leg=row["leg"],
                key=row["record_key"],
                field=row["field"],
                message=row["message"],
                source_key=json.loads(row["source_key"]) if row["source_key"] else None,
            )
            for row in conn.execute(query).mappings()
        ]

    def last_run(self, project: str, statuses: Sequence[RunStatus] | None = None) -> int | None:
        """The id of ``project``'s newest run (with one of ``statuses``, if given), or ``None``."""
        query = sa.select(sa.func.max(runs.c.id)).where(runs.c.project == project)
        if statuses:
            query = query.where(runs.c.status.in_([str(s) for s in statuses]))
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return int(value) if value is not None else None


def _chunks(items: list[str], size: int = 900) -> list[list[str]]:
    # SQLite allows 999 bound parameters per statement in older builds
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dialect_insert(conn: sa.Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _state(row: Any) -> RecordState:
    return RecordState(
        source_id=row["source_id"],
        record_key=row["record_key"],
        leg_keys=json.loads(row["leg_keys"]) if row["leg_keys"] else [],
        pending=bool(row["pending"]),
    )


def _counts(row: Any) -> Counts:
    return Counts(
        read=row["read"],
        inserted=row["inserted"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        errors=row["errors"],
    )


def _run(row: Any) -> RunSummary:
    return RunSummary(
        id=row["id"],
        project=row["project"],
        status=RunStatus(row["status"]),
        mode=row["mode"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        message=row["message"],
        rerun_of=row["rerun_of"],
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
