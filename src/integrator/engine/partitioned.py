"""A run's partitioned tasks as units a job queue can spread over workers.

In one process, :meth:`TaskRunner.run` runs a task's partitions one after another. A queue
calls these instead, each from any worker sharing the workspace's history::

    jobs = PartitionJobs(engine)
    for partition in jobs.plan(run_id, position):      # once, where the run starts
        enqueue(run_id, position, partition)           # JSON-able dicts
    left = jobs.run(run_id, position, partition)       # on a worker, for each
    if left == 0:                                      # the worker that did the last one
        notices = jobs.finish(run_id, position)

Every call opens its own runner on the run's task: the partition's progress is in the history
(its resume point and done flag), not in the worker, so a partition taken over by another
worker goes on from its last committed page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrator.engine.history.partitions import Partition
from integrator.engine.read import RunMode
from integrator.engine.run import Engine
from integrator.engine.task import TaskRunner
from integrator.engine.taskplan import TaskSystems, build_plan
from integrator.errors import RunNotFound

__all__ = ["PartitionJobs"]


class PartitionJobs:
    """Plan, run and finish the partitions of one task of a run (see the module)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def plan(self, run_id: int, position: int) -> list[dict[str, Any]]:
        """The partitions of task ``position`` of run ``run_id`` that are not done (a new plan,
        or the unfinished one of an earlier run), as JSON-able dicts; ``[]`` when the task's
        read is not cut (run it whole, as ``integrator run`` does)."""
        runner, mode = self._runner(run_id, position)
        return [p.as_dict() for p in runner.plan_partitions(mode) if not p.done]

    def run(
        self,
        run_id: int,
        position: int,
        partition: dict[str, Any],
        *,
        check: Callable[[], None] | None = None,
        runner: TaskRunner | None = None,
    ) -> int:
        """Run one partition (from its committed resume point; nothing when already done);
        returns how many of the task's partitions are still not done. ``check`` is called
        after each committed page: what it raises ends the partition there (what was
        committed stays, and is where the partition resumes). ``runner``: the one
        :meth:`runner` built (else a new one, with ``check``)."""
        if runner is None:
            runner = self.runner(run_id, position, check=check)
        return runner.run_partition(Partition.from_dict(partition))

    def runner(
        self, run_id: int, position: int, *, check: Callable[[], None] | None = None
    ) -> TaskRunner:
        """The runner of task ``position`` of run ``run_id``: building its plan describes the
        entities it reads and writes, so it raises :class:`SystemUnavailable` when this
        process cannot reach one of the task's systems."""
        built, _mode = self._runner(run_id, position, check=check)
        return built

    def finish(self, run_id: int, position: int, *, retry_failed: bool = False) -> list[str]:
        """Close the task once every partition is done (its checkpoint, its due retries, its
        mapping fingerprint); returns the notices for the run's message."""
        runner, mode = self._runner(run_id, position)
        return runner.finish_partitions(mode, retry_failed=retry_failed).notices

    def _runner(
        self, run_id: int, position: int, *, check: Callable[[], None] | None = None
    ) -> tuple[TaskRunner, RunMode]:
        engine = self.engine
        run = engine.history.run(run_id)
        if run is None:
            raise RunNotFound(run_id)
        project = engine.workspace.project(run.project)
        task = project.tasks[position]
        connection_set = engine.workspace.connection_set(project.connection_set)
        systems = TaskSystems(
            source=engine.connectors.get(project.source_system),
            destination=engine.connectors.get(project.destination_system),
            cds=engine.connectors.get("cds") if connection_set.cds is not None else None,
        )
        plan = build_plan(
            project=run.project,
            task=task,
            legs=task.legs(project.source_system, project.destination_system),
            systems=systems,
            describe=engine.describe_role(project.source_system, project.destination_system),
            organization=connection_set.organization_mapping,
        )
        mode: RunMode = "all-data" if run.mode == "all-data" else "incremental"
        runner = TaskRunner(
            plan,
            systems,
            engine.history,
            run_id=run_id,
            position=position,
            check=check,
            partition_records=engine.workspace.settings.partition_records,
        )
        return runner, mode
