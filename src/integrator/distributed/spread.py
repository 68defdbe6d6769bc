"""A run job's partitioned task spread over the queue's workers.

The run job (holding the project's queue lock) defers one partition job per partition that
is not done (:data:`PARTITION_TASK`, on the same queue, with no lock of its own), then runs
partitions itself: it claims one that is not done (:mod:`.claims`; from the last one back,
as the partition jobs start from the first), runs it, releases it, and
takes the next; while every partition left is claimed by others it waits, checking between
polls whether the run was cancelled or its worker is stopping. Once none is left it returns,
and the runner finishes the task (its checkpoint, retries, mapping) as in one process.

A partition whose claimer dies (its connection, and so its claim, gone) is claimed again by
the run job's loop or a partition job, and resumes from its last committed page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from integrator.config.workspace import Workspace
from integrator.distributed.claims import try_claim
from integrator.distributed.queue import JobQueue, queue_conninfo
from integrator.engine.history.partitions import Partition
from integrator.engine.task import TaskRunner

__all__ = ["PARTITION_TASK", "POLL_SECONDS", "QueuePartitionDriver", "defer_partitions"]

log = logging.getLogger("integrator.worker")

#: the Procrastinate task name of a partition job
PARTITION_TASK = "integrator.run_partition"

#: seconds between two looks for a claimable partition while others run the rest
POLL_SECONDS = 0.5


def defer_partitions(
    workspace: Workspace, run_id: int, position: int, numbers: Sequence[int]
) -> list[int]:
    """Defer one partition job per partition number of task ``position`` of run ``run_id``
    on ``workspace``'s queue (no queue lock: the run job holds the project's); returns the
    jobs' ids."""
    ids: list[int] = []
    with JobQueue(workspace) as queue:
        for number in numbers:
            deferrer = queue.app.configure_task(
                name=PARTITION_TASK,
                queue=queue.queue_name,
                task_kwargs={
                    "workspace": str(workspace.root),
                    "run_id": run_id,
                    "position": position,
                    "partition": number,
                },
            )
            ids.append(deferrer.defer())
    return ids


@dataclass
class QueuePartitionDriver:
    """The partition driver of a run job (see the module); ``label`` starts its log lines
    (``job N``)."""

    workspace: Workspace
    label: str = "run job"
    poll_seconds: float = POLL_SECONDS

    def __call__(self, runner: TaskRunner, partitions: Sequence[Partition]) -> None:
        """Spread ``partitions`` (those not done) of ``runner``'s task and run what is left
        to claim; returns once every partition of the task is done. Raises what a partition
        run here raises, and what ``runner.check`` raises while waiting for the others."""
        if not partitions:
            return
        project, task = runner.plan.project, runner.plan.name
        store = runner.history.partitions
        total = len(store.plan(project, task))
        jobs = defer_partitions(
            self.workspace, runner.run_id, runner.position, [p.number for p in partitions]
        )
        log.info(
            "%s: run %s, task %s: %d of %d partition(s) deferred for the workers (jobs %s)",
            self.label,
            runner.run_id,
            task,
            len(partitions),
            total,
            ", ".join(str(job) for job in jobs),
        )
        conninfo = queue_conninfo(self.workspace)
        while True:
            left = [p for p in store.plan(project, task) if not p.done]
            if not left:
                return
            # from the last partition back: the partition jobs, deferred in order, take the
            # first ones, so the two seldom reach for the same
            if not any(self._run_one(runner, conninfo, p.number, total) for p in reversed(left)):
                time.sleep(self.poll_seconds)
                if runner.check is not None:
                    runner.check()

    def _run_one(self, runner: TaskRunner, conninfo: str, number: int, total: int) -> bool:
        """Claim partition ``number`` and run it; ``False`` when another holds it."""
        project, task = runner.plan.project, runner.plan.name
        claim = try_claim(conninfo, project, task, number)
        if claim is None:
            return False
        with claim:
            current = runner.history.partitions.partition(project, task, number)
            if current is None or current.done:
                return True
            log.info(
                "%s: run %s, task %s, partition %d of %d",
                self.label,
                runner.run_id,
                task,
                number + 1,
                total,
            )
            runner.run_partition(current)
        return True
