"""The portal's Run, Run with all data and Re-run in distributed mode (``workers: {queue:
true}``): each becomes a job on the workspace's queue for ``integrator worker`` processes,
checked first as an in-process start is, so a project with problems is refused at once.

A job has no run until a worker starts it: the pages show the waiting job (with Cancel) and
the JSON API answers with the job, which ``GET /api/jobs/N`` follows to its run.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrator.config.workspace import Workspace
from integrator.distributed.job_status import JobState, job_state
from integrator.distributed.queue import JobQueue, QueuedCancel
from integrator.distributed.schema import ensure_schema
from integrator.engine.history import Trigger
from integrator.engine.run import Engine
from integrator.errors import RunAlreadyWaiting, RunNotFound

__all__ = [
    "QueuedStart",
    "cancel_job",
    "enqueue_rerun",
    "enqueue_run",
    "find_job",
    "is_distributed",
    "waiting_job",
]


@dataclass(frozen=True)
class QueuedStart:
    """A run the portal enqueued: job ``job_id`` of ``project``, waiting for a worker."""

    project: str
    job_id: int


def is_distributed(workspace: Workspace) -> bool:
    """Whether the portal's runs go to the queue (the workspace is in distributed mode)."""
    return workspace.settings.distributed and workspace.settings.workers is not None


def enqueue_run(
    workspace: Workspace, project: str, *, all_data: bool, trigger: Trigger
) -> QueuedStart:
    """Check ``project`` as :meth:`RunLauncher.start` does, then enqueue its run (only it, as
    the portal's in-process Run runs only it). Raises what ``start`` raises for the checks, and
    :class:`RunAlreadyWaiting` when a run of it already waits (nothing enqueued then)."""
    engine = Engine(workspace)
    try:
        engine.validate([project])
        engine.plan([project])
    finally:
        engine.close()
    with JobQueue(workspace) as queue:
        [enqueued] = queue.enqueue_plan([project], all_data=all_data, trigger=trigger)
    if enqueued.already_waiting or enqueued.job_id is None:
        raise RunAlreadyWaiting(project, enqueued.job_id)
    return QueuedStart(project, enqueued.job_id)


def enqueue_rerun(workspace: Workspace, run_id: int) -> QueuedStart:
    """Check that ``run_id`` has failed records to re-run, then enqueue its Re-run execution.
    Raises :class:`RunNotFound`, :class:`~integrator.errors.NothingToRerun`, what validation
    raises, and :class:`RunAlreadyWaiting` (nothing enqueued then)."""
    engine = Engine(workspace)
    try:
        previous = engine.history.run(run_id)
        if previous is None:
            raise RunNotFound(run_id)
        project = previous.project
        engine.prepare_rerun(run_id)
    finally:
        engine.close()
    with JobQueue(workspace) as queue:
        enqueued = queue.enqueue_rerun(run_id, project)
    if enqueued.already_waiting or enqueued.job_id is None:
        raise RunAlreadyWaiting(project, enqueued.job_id)
    return QueuedStart(project, enqueued.job_id)


def _readable(workspace: Workspace) -> JobQueue:
    """The queue, its tables there to be read (a portal may be asked before any enqueue)."""
    queue = JobQueue(workspace)
    ensure_schema(queue.conninfo)
    return queue


def waiting_job(workspace: Workspace, project: str) -> int | None:
    """The job of ``project`` waiting for a worker, if one does."""
    return _readable(workspace).waiting_job(project)


def find_job(workspace: Workspace, job_id: int) -> JobState | None:
    """Job ``job_id``: waiting, running or ended, and its run once a worker started one."""
    return job_state(_readable(workspace).conninfo, job_id)


def cancel_job(workspace: Workspace, job_id: int) -> QueuedCancel:
    """Cancel job ``job_id`` if it still waits (see :meth:`JobQueue.cancel`)."""
    with JobQueue(workspace) as queue:
        return queue.cancel(job_id)
