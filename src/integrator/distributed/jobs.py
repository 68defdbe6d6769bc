"""What a worker does with one job: run the first project of its chain with the existing
:class:`~integrator.engine.run.Engine`, record which run it started, send the outbox's mail
when SMTP is configured, then defer the rest (see :mod:`.queue`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast

from integrator.config.workspace import Workspace, load_workspace
from integrator.distributed.job_status import record_job_run
from integrator.distributed.queue import JobQueue, plan_chains, queue_conninfo, workspace_root
from integrator.distributed.spread import QueuePartitionDriver
from integrator.engine.history import EndReason, HistoryUnreachable, RunSummary, Trigger
from integrator.engine.run import Engine
from integrator.errors import NothingToRerun, ProjectBusy
from integrator.notify import send_due

__all__ = ["BUSY_RETRY_SECONDS", "run_job"]

log = logging.getLogger("integrator.worker")

#: a project whose local lock is held (an in-process run on this machine) is tried again then
BUSY_RETRY_SECONDS = 5.0
#: how long a job whose run lost the database tries to enqueue that run again
REACH_AGAIN_SECONDS = 600.0
_REACH_PAUSE_SECONDS = 2.0


def run_job(job_id: int, kwargs: dict[str, Any], stop: threading.Event) -> RunSummary | None:
    """Run job ``job_id`` (its arguments ``kwargs``, as :meth:`JobQueue.defer_chain` wrote
    them) in this process; returns the run it recorded (``None``: none, said in the log).

    The queue's lock on the project is held meanwhile, so the engine's ``mark_interrupted``
    rightly records a run of the project still Running (a worker killed mid-run) as
    Interrupted before the new run starts. ``stop`` set (the worker is stopping): the run
    ends after its current batch, Interrupted, and the same chain is enqueued again for
    another worker. A run Cancelled or Interrupted defers none of the rest, as
    ``integrator run`` would not go on.

    The run's id is recorded against the job as soon as the run starts (the portal follows
    a queued job to its run so). Once the run ended, the outbox's due mail is sent when
    ``settings.smtp`` is set: the outbox's claim lets only one process send each mail, even
    with ``integrator serve`` and other workers sending at the same time.

    A task cut into partitions has them spread over the queue's workers
    (:mod:`.spread`): this job runs what the others have not claimed, and finishes the task."""
    chain: list[str] = list(kwargs["chain"])
    head = chain[0]
    workspace = load_workspace(workspace_root(kwargs), strict=False)
    engine = Engine(
        workspace,
        stop=stop,
        stopped_by="integrator worker",
        partition_driver=QueuePartitionDriver(workspace, label=f"job {job_id}"),
    )
    engine.on_run_start = lambda run_id: _record_run(workspace, job_id, run_id)
    summary: RunSummary | None = None
    try:
        rerun_of = kwargs.get("rerun_of")
        if rerun_of is not None:
            log.info("job %s: re-running the failed records of run %s (%s)", job_id, rerun_of, head)
            summary = engine.rerun(int(rerun_of))
        else:
            log.info("job %s: running %s", job_id, head)
            engine.validate([head])
            summary = engine.run_project(
                head,
                "all-data" if kwargs.get("all_data") else "incremental",
                retry_failed=bool(kwargs.get("retry_failed")),
                trigger=cast(Trigger, kwargs.get("trigger") or "manual"),
                scheduled_for=kwargs.get("scheduled_for"),
            )
    except NothingToRerun as outcome:
        log.info("job %s: %s", job_id, outcome)
        return None
    except ProjectBusy as busy:
        log.info("job %s: %s; enqueued again in %g s", job_id, busy, BUSY_RETRY_SECONDS)
        _defer_when_reachable(workspace, kwargs, chain, stop, schedule_in=BUSY_RETRY_SECONDS)
        return None
    except HistoryUnreachable as lost:
        # its run could not even be recorded as ended: the next run of the project records
        # it Interrupted, and goes on from what it committed
        log.warning("job %s: %s", job_id, lost)
        _defer_when_reachable(workspace, kwargs, chain, stop)
        return None
    else:
        _send_mail(engine, workspace)
    finally:
        engine.close()
    log.info(
        "job %s: run %s of %s ended %s%s",
        job_id,
        summary.id,
        head,
        summary.status.value,
        f" ({summary.message})" if summary.message else "",
    )
    if summary.end_reason == EndReason.INTERRUPTED and stop.is_set():
        log.info("job %s: this worker is stopping; %s is enqueued again", job_id, head)
        _defer_when_reachable(workspace, kwargs, chain, stop, patient=True)
    elif summary.end_reason == EndReason.INTERRUPTED:
        # nothing here stopped it: the history went away mid-run, and is back
        log.info("job %s: %s is enqueued again, to go on from what it committed", job_id, head)
        _defer_when_reachable(workspace, kwargs, chain, stop)
    elif summary.end_reason in (EndReason.CANCELLED, EndReason.INTERRUPTED):
        if chain[1:]:
            log.info("job %s: not going on to %s", job_id, ", ".join(chain[1:]))
    elif chain[1:]:
        # the run is over; the database may go away before the rest is on the queue
        for rest in plan_chains(workspace, chain[1:]):
            _defer_when_reachable(workspace, kwargs, rest, stop, patient=True)
    return summary


def _defer(
    workspace: Any, kwargs: dict[str, Any], chain: list[str], schedule_in: float | None = None
) -> None:
    with JobQueue(workspace) as queue:
        enqueued = queue.defer_chain(
            chain,
            all_data=bool(kwargs.get("all_data")),
            retry_failed=bool(kwargs.get("retry_failed")),
            rerun_of=kwargs.get("rerun_of") if chain[0] == kwargs["chain"][0] else None,
            trigger=str(kwargs.get("trigger") or "manual"),
            scheduled_for=kwargs.get("scheduled_for"),
            request=str(kwargs["request"]),
            schedule_in=schedule_in,
        )
    log.info("enqueued %s", enqueued.describe())


def _defer_when_reachable(
    workspace: Workspace,
    kwargs: dict[str, Any],
    chain: list[str],
    stop: threading.Event,
    schedule_in: float | None = None,
    patient: bool = False,
) -> None:
    """Defer ``chain`` (in ``schedule_in`` seconds, or now) once the queue's database answers
    (it may be restarting), trying every few seconds for up to :data:`REACH_AGAIN_SECONDS`.
    A stopping worker gives up at once, unless ``patient``: what it defers then is the rest of
    a chain whose run has ended or a chain it hands over, which no other job would enqueue.
    Not deferred after all, the job stays the queue's when its end cannot be recorded either,
    and is taken over as a stalled one; otherwise the log says what was not enqueued."""
    deadline = time.monotonic() + REACH_AGAIN_SECONDS
    while True:
        try:
            _defer(workspace, kwargs, chain, schedule_in=schedule_in)
            return
        except Exception as error:  # the database is not back yet
            if (stop.is_set() and not patient) or time.monotonic() > deadline:
                log.error("could not enqueue %s again: %s", chain[0], error)
                return
            log.warning("the queue's database is not back yet (%s); trying again", error)
        if stop.is_set():
            time.sleep(_REACH_PAUSE_SECONDS)
        else:
            stop.wait(_REACH_PAUSE_SECONDS)


def _record_run(workspace: Workspace, job_id: int, run_id: int) -> None:
    try:
        record_job_run(queue_conninfo(workspace), job_id, run_id)
    except Exception:  # the run goes on: only the portal's link from the job to it is lost
        log.exception("job %s: could not record that it started run %s", job_id, run_id)


def _send_mail(engine: Engine, workspace: Workspace) -> None:
    if workspace.settings.smtp is None:
        return
    try:
        report = send_due(engine.history, workspace)
    except Exception:  # the run's outcome stands; the mail stays in the outbox for later
        log.exception("the outbox could not be sent")
        return
    if report.sent:
        log.info("sent %s notification mail(s)", report.sent)
    for error in report.errors:
        log.warning("a notification mail is not sent yet: %s", error)
