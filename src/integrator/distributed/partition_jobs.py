"""What a worker does with a partition job (see :mod:`.spread`): run one partition of a
run's task, when the run is still Running and nobody else holds the partition's claim."""

from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa

from integrator.config.workspace import load_workspace
from integrator.distributed.claims import try_claim
from integrator.distributed.queue import queue_conninfo, workspace_root
from integrator.engine.history import HistoryStore, RunStatus
from integrator.engine.history.tables import runs
from integrator.engine.partitioned import PartitionJobs
from integrator.engine.run import Engine
from integrator.errors import IntegratorError

__all__ = ["PartitionStopped", "run_partition_job"]

log = logging.getLogger("integrator.worker")


class PartitionStopped(Exception):
    """A partition job stops between two pages: its run ended, or its worker is stopping."""


def run_partition_job(job_id: int, kwargs: dict[str, Any], stop: threading.Event) -> bool:
    """Run the partition job ``job_id`` (``kwargs``: workspace, run_id, position, partition
    number, as :func:`~integrator.distributed.spread.defer_partitions` wrote them); returns
    whether it ran the partition to its end.

    It ends at once when the run is not Running, the partition is done, or another process
    holds its claim. Between pages it stops (what it committed stays, the partition's resume
    point) when the run is no longer Running or ``stop`` is set. A failing partition is left
    to the run job, which runs it again and records the failure. It never finishes the task:
    the run job does, once no partition is left."""
    run_id, position, number = (
        int(kwargs["run_id"]),
        int(kwargs["position"]),
        int(kwargs["partition"]),
    )
    workspace = load_workspace(workspace_root(kwargs), strict=False)
    engine = Engine(workspace, stop=stop, stopped_by="integrator worker")
    try:
        history = engine.history
        run = history.run(run_id)
        if run is None or run.status != RunStatus.RUNNING:
            state = "gone" if run is None else run.status.value
            log.info(
                "job %s: run %s is %s; partition %d not run", job_id, run_id, state, number + 1
            )
            return False
        task = workspace.project(run.project).tasks[position].name
        claim = try_claim(queue_conninfo(workspace), run.project, task, number)
        if claim is None:
            log.info(
                "job %s: run %s, task %s, partition %d is run by another process",
                job_id,
                run_id,
                task,
                number + 1,
            )
            return False
        with claim:
            current = history.partitions.partition(run.project, task, number)
            if current is None or current.done:
                log.info(
                    "job %s: run %s, task %s, partition %d is done",
                    job_id,
                    run_id,
                    task,
                    number + 1,
                )
                return False
            total = len(history.partitions.plan(run.project, task))
            log.info(
                "job %s: run %s, task %s, partition %d of %d",
                job_id,
                run_id,
                task,
                number + 1,
                total,
            )

            def check() -> None:
                if stop.is_set():
                    raise PartitionStopped("this worker is stopping")
                status = _run_status(history, run_id)
                if status != RunStatus.RUNNING.value:
                    raise PartitionStopped(f"run {run_id} is {status}")

            try:
                PartitionJobs(engine).run(run_id, position, current.as_dict(), check=check)
            except PartitionStopped as stopped:
                log.info("job %s: partition %d stopped: %s", job_id, number + 1, stopped)
                return False
            except IntegratorError as error:
                log.warning(
                    "job %s: partition %d failed (%s); the run's own job runs it again",
                    job_id,
                    number + 1,
                    error,
                )
                return False
        log.info("job %s: run %s, task %s, partition %d done", job_id, run_id, task, number + 1)
        return True
    finally:
        engine.close()


def _run_status(history: HistoryStore, run_id: int) -> str | None:
    with history.engine.connect() as conn:
        value = conn.execute(sa.select(runs.c.status).where(runs.c.id == run_id)).scalar()
    return None if value is None else str(value)
