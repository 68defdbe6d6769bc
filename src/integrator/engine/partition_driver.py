"""How a task's partitions get run once the runner has its plan.

:class:`TaskRunner` hands the partitions that are not done to a *partition driver* and, when
the driver returns, finishes the task (:meth:`TaskRunner.finish_partitions`). The default,
:func:`run_in_process`, runs them one after another in this process; a distributed workspace
spreads them over the queue's workers instead
(:class:`integrator.distributed.spread.QueuePartitionDriver`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from integrator.engine.history.partitions import Partition

if TYPE_CHECKING:
    from integrator.engine.task import TaskRunner

__all__ = ["PartitionDriver", "run_in_process"]


class PartitionDriver(Protocol):
    """Runs ``partitions`` of ``runner``'s task; returns once every one of them is done
    (by this process or another), or raises what a partition's run raised (a
    :class:`~integrator.errors.StageFailed`, or the runner's ``check`` stopping the run)."""

    def __call__(self, runner: TaskRunner, partitions: Sequence[Partition]) -> None: ...


def run_in_process(runner: TaskRunner, partitions: Sequence[Partition]) -> None:
    """The partitions one after another in this process (``integrator run``, ``serve``)."""
    for partition in partitions:
        runner.run_partition(partition)
