"""Runs whose process died: still Running in the history, but nobody runs them.

A run is recognised dead when its heartbeat is older than :data:`DEAD_AFTER_SECONDS` (six
missed beats) AND its project's lock is free. The heartbeat alone could be late (a machine
that was suspended, a history locked for a while); the lock alone is local to one machine (a
PostgreSQL history may be shared by several): both together mean no process runs it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from integrator.config.workspace import Workspace
from integrator.engine.control import HEARTBEAT_SECONDS
from integrator.engine.history import EndReason, HistoryStore, RunStatus, RunSummary, now_iso
from integrator.engine.history.clock import iso
from integrator.engine.history.tables import runs, task_runs
from integrator.engine.lock import ProjectLock
from integrator.errors import ProjectBusy

__all__ = [
    "DEAD_AFTER_SECONDS",
    "dead_message",
    "last_sign_of_life",
    "looks_dead",
    "recognise_dead_run",
    "recognise_dead_runs",
]

#: a Running run that has not written its heartbeat for this long may be dead
DEAD_AFTER_SECONDS = 6 * HEARTBEAT_SECONDS


def dead_message(last_heartbeat: str) -> str:
    """The message of a run recognised dead, its last heartbeat at ``last_heartbeat``."""
    return f"its process stopped without recording an end (last heartbeat at {last_heartbeat})"


def last_sign_of_life(run: RunSummary) -> str:
    """When ``run`` last said it was alive: its heartbeat, else (older records) its start."""
    return run.heartbeat_at or run.started_at


def looks_dead(run: RunSummary, now: datetime | None = None) -> bool:
    """``run`` is Running and its heartbeat is older than :data:`DEAD_AFTER_SECONDS` (its lock
    is not looked at: this only reads)."""
    if run.status != RunStatus.RUNNING:
        return False
    return last_sign_of_life(run) < _cutoff(now)


def recognise_dead_runs(
    history: HistoryStore, workspace: Workspace, now: datetime | None = None
) -> list[int]:
    """Record Interrupted (end reason *process-died*) every Running run of ``workspace`` whose
    heartbeat is stale and whose project's lock is free; returns their ids, oldest first.

    A run whose lock is held (by another process, or another thread of this one) is left as
    it is. Safe to call often and from several processes."""
    with history.engine.connect() as conn:
        stale = [
            int(row[0])
            for row in conn.execute(
                sa.select(runs.c.id)
                .where(
                    runs.c.status == RunStatus.RUNNING,
                    sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at) < _cutoff(now),
                )
                .order_by(runs.c.id)
            )
        ]
    dead = []
    for run_id in stale:
        summary = history.run(run_id)
        if summary is not None and recognise_dead_run(history, workspace, summary, now=now):
            dead.append(run_id)
    return dead


def recognise_dead_run(
    history: HistoryStore, workspace: Workspace, run: RunSummary, *, now: datetime | None = None
) -> bool:
    """Record ``run`` Interrupted (*process-died*) when it looks dead and its project's lock is
    free; returns whether it did."""
    if not looks_dead(run, now):
        return False
    lock = ProjectLock(workspace.root / ".integrator" / "locks", run.project)
    try:
        lock.acquire(wait=0)
    except ProjectBusy:
        return False
    try:
        # under the lock no process runs the project: a run still Running is surely dead
        with history.engine.begin() as conn:
            changed = conn.execute(
                runs.update()
                .where(runs.c.id == run.id, runs.c.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.INTERRUPTED,
                    finished_at=now_iso(),
                    message=dead_message(last_sign_of_life(run)),
                    end_reason=EndReason.PROCESS_DIED,
                )
            ).rowcount
            if changed:
                conn.execute(
                    task_runs.update()
                    .where(task_runs.c.run_id == run.id, task_runs.c.status == RunStatus.RUNNING)
                    .values(status=RunStatus.INTERRUPTED)
                )
    finally:
        lock.release()
    return bool(changed)


def _cutoff(now: datetime | None) -> str:
    return iso((now or datetime.now(UTC)) - timedelta(seconds=DEAD_AFTER_SECONDS))
