"""What a worker does with a partition job (see :mod:`.spread`): run one partition of a
run's task, when the run is still Running and nobody else holds the partition's claim."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from integrator.config.workspace import load_workspace
from integrator.distributed.claims import try_claim
from integrator.distributed.queue import queue_conninfo, workspace_root
from integrator.engine.history import HistoryStore, RunStatus
from integrator.engine.history.tables import runs
from integrator.engine.partitioned import PartitionJobs
from integrator.engine.run import Engine
from integrator.engine.task import TaskRunner
from integrator.errors import IntegratorError, SystemUnavailable

__all__ = ["PartitionStopped", "run_partition_job"]

log = logging.getLogger("integrator.worker")


class PartitionStopped(Exception):
    """A partition job stops between two pages: its run ended, or its worker is stopping."""


def run_partition_job(job_id: int, kwargs: dict[str, Any], stop: threading.Event) -> bool:
    """Run the partition job ``job_id`` (``kwargs``: workspace, run_id, position, partition
    number, as :func:`~integrator.distributed.spread.defer_partitions` wrote them); returns
    whether it ran the partition to its end.

    It ends at once when the run is not Running (or a cancel of it was asked), the partition
    is done, another process holds its claim, or this worker cannot reach one of the task's
    systems (it tries before it claims: the partition is left to the workers that can).
    Between pages it stops (what it committed stays: the partition's resume point) when the
    run is no longer Running, a cancel of it was asked, or ``stop`` is set. A failing
    partition is left to the run job, which runs it again and records the failure. It never
    finishes the task: the run job does, once no partition is left."""
    run_id = int(kwargs["run_id"])
    position, number = int(kwargs["position"]), int(kwargs["partition"])
    workspace = load_workspace(workspace_root(kwargs), strict=False)
    engine = Engine(workspace, stop=stop, stopped_by="integrator worker")
    try:
        run = engine.history.run(run_id)
        if run is None:
            log.info("job %s: run %s is gone; partition %d not run", job_id, run_id, number + 1)
            return False
        task = workspace.project(run.project).tasks[position].name
        where = f"job {job_id}: run {run_id}, task {task}, partition {number + 1}"
        check = _stop_check(engine.history, run_id, stop)
        try:
            check()
        except PartitionStopped as stopped:
            log.info("%s not run: %s", where, stopped)
            return False
        try:  # before the claim: a worker that cannot reach a system leaves its ranges
            runner = PartitionJobs(engine).runner(run_id, position, check=check)
        except SystemUnavailable as unreachable:
            log.warning(
                "%s not taken by this worker: %s; left to the workers that reach it",
                where,
                unreachable,
            )
            return False
        claim = try_claim(queue_conninfo(workspace), run.project, task, number)
        if claim is None:
            log.info("%s is run by another process", where)
            return False
        with claim:
            return _run_claimed(engine, where, runner, run_id, position, number)
    finally:
        engine.close()


def _run_claimed(
    engine: Engine, where: str, runner: TaskRunner, run_id: int, position: int, number: int
) -> bool:
    partitions = engine.history.partitions
    project, task = runner.plan.project, runner.plan.name
    current = partitions.partition(project, task, number)
    if current is None or current.done:
        log.info("%s is done", where)
        return False
    log.info("%s of %d", where, len(partitions.plan(project, task)))
    try:
        PartitionJobs(engine).run(run_id, position, current.as_dict(), runner=runner)
    except PartitionStopped as stopped:
        log.info("%s stopped: %s", where, stopped)
        return False
    except IntegratorError as error:
        log.warning("%s failed (%s); the run's own job runs it again", where, error)
        return False
    log.info("%s done", where)
    return True


def _stop_check(history: HistoryStore, run_id: int, stop: threading.Event) -> Callable[[], None]:
    """Raises :class:`PartitionStopped` when the worker stops or run ``run_id`` does."""

    def check() -> None:
        if stop.is_set():
            raise PartitionStopped("this worker is stopping")
        status, cancel_requested = _run_status(history, run_id)
        if status != RunStatus.RUNNING.value:
            raise PartitionStopped(f"run {run_id} is {status or 'gone'}")
        if cancel_requested:  # the run's job records it Cancelled at its next check
            raise PartitionStopped(f"run {run_id} is being cancelled")

    return check


def _run_status(history: HistoryStore, run_id: int) -> tuple[str | None, bool]:
    """Run ``run_id``'s status (``None``: no such run) and whether a cancel was asked."""
    with history.engine.connect() as conn:
        row = conn.execute(
            sa.select(runs.c.status, runs.c.cancel_requested_at).where(runs.c.id == run_id)
        ).first()
    if row is None:
        return None, False
    return str(row[0]), row[1] is not None
