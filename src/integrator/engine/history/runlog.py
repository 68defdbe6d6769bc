"""The run log: runs, their tasks' statuses and counts, and the records that failed.

Tasks are recorded *Not run* when a run starts and *Running* when the engine starts them, so
a run that stops (a stage failed, an interrupt) leaves the tasks it never reached Not run and
only the task it was in gets the run's final status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from integrator.engine.history.clock import now_iso, owner
from integrator.engine.history.models import (
    Counts,
    EndReason,
    RecordError,
    RunStatus,
    RunSummary,
    TaskSummary,
    status_for,
)
from integrator.engine.history.tables import record_errors, runs, task_runs, truncations
from integrator.engine.history.truncations import run_truncations

__all__ = ["FinishHook", "RunLog"]

#: called with the transaction that records a run's end and the run's id, after the run row is
#: updated: what it writes commits with the run's result, or not at all (the outbox)
FinishHook = Callable[[sa.Connection, int], None]


class RunLog:
    """Read and write the runs of a workspace's history."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- writing -------------------------------------------------------------------------------

    def start_run(
        self,
        project: str,
        tasks: Sequence[str],
        *,
        mode: str,
        rerun_of: int | None = None,
        trigger: str = "manual",
        scheduled_for: str | None = None,
    ) -> int:
        """Record a new run of ``project`` (Running) with its tasks (Not run); returns its id.

        ``scheduled_for`` is the schedule slot it runs for: a second run (or Skipped entry) for
        the same slot of the same project is refused by the database (``IntegrityError``)."""
        with self.engine.begin() as conn:
            started = now_iso()
            run_id = conn.execute(
                runs.insert().values(
                    project=project,
                    status=RunStatus.RUNNING,
                    mode=mode,
                    rerun_of=rerun_of,
                    started_at=started,
                    owner=owner(),
                    trigger=trigger,
                    scheduled_for=scheduled_for,
                    heartbeat_at=started,
                )
            ).inserted_primary_key
            assert run_id is not None
            if tasks:  # an empty list would insert one row of defaults
                conn.execute(
                    task_runs.insert(),
                    [
                        {
                            "run_id": run_id[0],
                            "position": position,
                            "task": task,
                            "status": RunStatus.NOT_RUN,
                            "still_failing": 0,
                            **Counts().as_dict(),
                        }
                        for position, task in enumerate(tasks)
                    ],
                )
        return int(run_id[0])

    def start_task(self, run_id: int, position: int) -> None:
        """Mark a task of a run Running."""
        with self.engine.begin() as conn:
            conn.execute(
                task_runs.update()
                .where(task_runs.c.run_id == run_id, task_runs.c.position == position)
                .values(status=RunStatus.RUNNING)
            )

    def add_batch(
        self,
        conn: sa.Connection,
        run_id: int,
        position: int,
        counts: Counts,
        errors: Sequence[RecordError],
    ) -> None:
        """Add a batch's counts and failed records to a task, on the caller's transaction."""
        where = sa.and_(task_runs.c.run_id == run_id, task_runs.c.position == position)
        conn.execute(
            task_runs.update()
            .where(where)
            .values(
                read=task_runs.c.read + counts.read,
                inserted=task_runs.c.inserted + counts.inserted,
                updated=task_runs.c.updated + counts.updated,
                unchanged=task_runs.c.unchanged + counts.unchanged,
                errors=task_runs.c.errors + counts.errors,
                still_failing=task_runs.c.still_failing + counts.still_failing,
            )
        )
        if errors:
            conn.execute(
                record_errors.insert(),
                [
                    {
                        "run_id": run_id,
                        "task": e.task,
                        "leg": e.leg,
                        "record_key": e.key,
                        "field": e.field,
                        "message": e.message,
                        "source_key": (
                            json.dumps(e.source_key) if e.source_key is not None else None
                        ),
                        "transient": e.transient,
                        "still_failing": e.still_failing,
                    }
                    for e in errors
                ],
            )

    def finish_task(self, run_id: int, position: int, status: RunStatus | None = None) -> RunStatus:
        """Close a task; its status follows from its counts unless ``status`` is given."""
        where = sa.and_(task_runs.c.run_id == run_id, task_runs.c.position == position)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(task_runs).where(where)).mappings().one()
            final = status or status_for(_counts(row))
            conn.execute(task_runs.update().where(where).values(status=final))
        return final

    def finish_run(
        self,
        run_id: int,
        status: RunStatus | None = None,
        message: str | None = None,
        *,
        end_reason: EndReason | None = None,
        after: FinishHook | None = None,
    ) -> RunStatus:
        """Close a run; its status follows from its tasks' counts unless ``status`` is given.

        A task still Running takes the run's status; the tasks never started stay Not run.
        ``end_reason`` defaults to *finished* when the status follows from the counts, else to
        the reason that status implies. ``after`` runs in the same transaction, last.
        """
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
                .values(
                    status=final,
                    finished_at=now_iso(),
                    message=message,
                    end_reason=end_reason or _implied_reason(status),
                )
            )
            if after is not None:
                after(conn, run_id)
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
                    .values(
                        status=RunStatus.INTERRUPTED,
                        finished_at=now_iso(),
                        message=message,
                        end_reason=EndReason.PROCESS_DIED,
                    )
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
            conn.execute(truncations.delete().where(truncations.c.run_id.in_(ids)))
            conn.execute(task_runs.delete().where(task_runs.c.run_id.in_(ids)))
            conn.execute(runs.update().where(runs.c.rerun_of.in_(ids)).values(rerun_of=None))
            conn.execute(runs.delete().where(runs.c.id.in_(ids)))
        return len(ids)

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
            return self.run_on(conn, run_id)

    def run_on(self, conn: sa.Connection, run_id: int) -> RunSummary | None:
        """:meth:`run`, read on ``conn`` (inside a :data:`FinishHook`'s transaction, say)."""
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        summary = _run(row)
        by_name: dict[str, TaskSummary] = {}
        for task in conn.execute(
            sa.select(task_runs).where(task_runs.c.run_id == run_id).order_by(task_runs.c.position)
        ).mappings():
            summary.tasks.append(
                TaskSummary(task["task"], RunStatus(task["status"]), _counts(task))
            )
            by_name[task["task"]] = summary.tasks[-1]
        for error in self._errors(conn, run_id):
            if error.task in by_name:
                by_name[error.task].errors.append(error)
        for position, items in run_truncations(conn, run_id).items():
            if position < len(summary.tasks):
                summary.tasks[position].truncations = items
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
                **record_error_fields(row),
                source_key=json.loads(row["source_key"]) if row["source_key"] else None,
                transient=bool(row["transient"]),
                still_failing=bool(row["still_failing"]),
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


def record_error_fields(row: Any) -> dict[str, Any]:
    """A ``record_errors`` row's task, leg, key, field and message, as :class:`RecordError`
    takes them."""
    return {
        "task": row["task"],
        "leg": row["leg"],
        "key": row["record_key"],
        "field": row["field"],
        "message": row["message"],
    }


def _counts(row: Any) -> Counts:
    return Counts(
        read=row["read"],
        inserted=row["inserted"],
        updated=row["updated"],
        unchanged=row["unchanged"],
        errors=row["errors"],
        still_failing=row["still_failing"],
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
        trigger=row["trigger"],
        scheduled_for=row["scheduled_for"],
        end_reason=row["end_reason"],
        heartbeat_at=row["heartbeat_at"],
        cancel_requested_at=row["cancel_requested_at"],
    )


def _implied_reason(status: RunStatus | None) -> EndReason:
    return {
        None: EndReason.FINISHED,
        RunStatus.INTERRUPTED: EndReason.INTERRUPTED,
        RunStatus.CANCELLED: EndReason.CANCELLED,
    }.get(status, EndReason.STAGE_FAILED)
